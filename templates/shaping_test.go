package templates

import (
	"bytes"
	"image"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
)

// glyphPos is a glyph as hb-shape prints it: id, x offset, advance.
type glyphPos struct {
	id, xOffset, advance int
}

// hbExpected are the outputs of the reference C HarfBuzz 6.0.0 for
// fonts/NotoSansDevanagari-Regular.ttf (hb-shape --no-glyph-names
// --no-clusters), kept here so that the test needs no HarfBuzz binary.
// Each word has conjuncts or vowel signs that a per-character mapping gets
// wrong: प्र and त्र become one glyph, the i-sign of स्थिति moves before
// its cluster, टी takes a contextual ii-sign, the reph of स्मार्ट moves
// onto ट with a negative offset, and the marks of कुंजियाँ stack.
var hbExpected = map[string][]glyphPos{
	"प्रमाणपत्र":  {{274, 0, 568}, {50, 0, 598}, {66, 0, 259}, {39, 0, 723}, {46, 0, 568}, {269, 0, 552}},
	"टीकाकरण":     {{35, 0, 504}, {653, 0, 259}, {25, 0, 762}, {66, 0, 259}, {25, 0, 762}, {52, 0, 409}, {39, 0, 723}},
	"स्थिति":      {{604, 0, 259}, {568, 0, 1022}, {607, 0, 259}, {40, 0, 570}},
	"स्मार्ट":     {{215, 0, 389}, {50, 0, 598}, {66, 0, 259}, {35, 0, 504}, {181, -44, 0}},
	"हस्ताक्षरित": {{61, 0, 531}, {215, 0, 389}, {40, 0, 570}, {66, 0, 259}, {179, 0, 712}, {605, 0, 259}, {52, 0, 409}, {40, 0, 570}},
	"कुंजियाँ":    {{25, 0, 762}, {69, -221, 0}, {6, -221, 0}, {611, 0, 259}, {32, 0, 742}, {51, 0, 580}, {66, 0, 259}, {5, 0, 0}},
}

func devanagari(t testing.TB) *family {
	t.Helper()
	fonts, err := loadedFonts()
	if err != nil {
		t.Fatal(err)
	}
	fam := fonts.families["NotoSansDevanagari"]
	if fam == nil {
		t.Fatal("NotoSansDevanagari is not shipped")
	}
	return fam
}

func TestShapingMatchesHarfBuzz(t *testing.T) {
	f := devanagari(t).regular
	for word, want := range hbExpected {
		got := shape(f, []rune(word), language.Devanagari, language.NewLanguage("hi"))
		var pos []glyphPos
		for _, g := range got {
			pos = append(pos, glyphPos{int(g.id), int(g.xOffset), int(g.advance)})
		}
		if !equalPos(pos, want) {
			t.Errorf("%s: shaped %v, want (C HarfBuzz) %v", word, pos, want)
		}
		// The naive mapping, one glyph per character from the cmap, is what
		// an unshaped renderer would draw; it must differ.
		var naive []int
		for _, r := range word {
			gid, _ := f.font.Cmap.Lookup(r)
			naive = append(naive, int(gid))
		}
		var shaped []int
		for _, p := range want {
			shaped = append(shaped, p.id)
		}
		if slicesEqual(naive, shaped) {
			t.Errorf("%s: the naive glyph sequence equals the shaped one; the word does not test shaping", word)
		}
	}
}

func equalPos(a, b []glyphPos) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPDFDrawsShapedGlyphs checks that the certificate draws the Hindi
// title with the shaper's glyphs, in order, with their offsets.
func TestPDFDrawsShapedGlyphs(t *testing.T) {
	c := sampleCertificate(t)
	p, err := parseTestPDF(render(t, c, Options{Lang: "hi"}))
	if err != nil {
		t.Fatal(err)
	}
	content, err := p.pageContent()
	if err != nil {
		t.Fatal(err)
	}
	langs, _ := languages()
	title := langs.byCode["hi"].Labels.Title // drawn first of all shaped text, in bold
	bold := devanagari(t).bold
	var want []string
	for _, g := range shape(bold, []rune(title), language.Devanagari, language.NewLanguage("hi")) {
		if f := bold.form(g.id); f.name != "" {
			want = append(want, "/"+f.name)
		}
	}
	got := regexp.MustCompile(`/G\d+_\d+`).FindAll(content, len(want))
	if len(got) != len(want) {
		t.Fatalf("content draws %d glyphs, want at least %d", len(got), len(want))
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Fatalf("glyph %d of the title is %s, want %s (drawn %s)", i, got[i], want[i], got)
		}
	}
	// Every XObject drawn is defined in the resources.
	resources := p.objects[2]
	for _, name := range regexp.MustCompile(`/G\d+_\d+`).FindAll(content, -1) {
		if !bytes.Contains(resources, append(name, ' ')) {
			t.Errorf("%s is drawn but not in the page resources", name)
		}
	}
}

// TestShapedWordRendersAtShapedWidth draws "प्रमाणपत्र" alone, rasterises
// it with pdftoppm and measures the ink: its width matches the shaped
// advance (six glyphs), not the ten-glyph naive sequence, and its height
// reaches below the baseline where the conjunct र hangs.
func TestShapedWordRendersAtShapedWidth(t *testing.T) {
	const word = "प्रमाणपत्र"
	const size = 40.0 // pt
	fonts, err := loadedFonts()
	if err != nil {
		t.Fatal(err)
	}
	langs, _ := languages()
	d := newDoc(fonts, langs.byCode["en"], langs.byCode["hi"], ist)
	d.text(20, 40, word, style{size: size, color: colInk})
	pdf, err := d.finish(time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	const dpi = 300
	img, _, err := image.Decode(bytes.NewReader(rasterize(t, pdf, dpi)))
	if err != nil {
		t.Fatal(err)
	}
	minX, maxX := img.Bounds().Max.X, -1
	for y := 0; y < img.Bounds().Max.Y/3; y++ {
		for x := 0; x < img.Bounds().Max.X; x++ {
			if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray); g.Y < 128 {
				minX, maxX = min(minX, x), max(maxX, x)
			}
		}
	}
	if maxX < 0 {
		t.Fatal("no ink on the page")
	}
	ink := float64(maxX - minX + 1)
	pxPerUnit := size / 1000 / 72 * dpi // Noto has 1000 units per em
	var shapedW, naiveW float64
	f := devanagari(t).regular
	for _, g := range hbExpected[word] {
		shapedW += float64(g.advance)
	}
	for _, r := range word {
		gid, _ := f.font.Cmap.Lookup(r)
		naiveW += float64(font.NewFace(f.font).HorizontalAdvance(gid))
	}
	shapedW *= pxPerUnit
	naiveW *= pxPerUnit
	t.Logf("ink %.0f px, shaped advance %.0f px, naive advance %.0f px", ink, shapedW, naiveW)
	if ink < shapedW*0.9 || ink > shapedW*1.05 {
		t.Errorf("ink width %.0f px does not match the shaped advance %.0f px", ink, shapedW)
	}
	if naiveW < shapedW*1.1 {
		t.Fatalf("naive width %.0f px is too close to the shaped width for this test to mean anything", naiveW)
	}
}

func TestLayoutRuns(t *testing.T) {
	fonts, err := loadedFonts()
	if err != nil {
		t.Fatal(err)
	}
	dev := fonts.families["NotoSansDevanagari"]
	ts := &typeset{fonts: fonts, primary: dev, lang: language.NewLanguage("hi")}
	for _, tt := range []struct {
		text string
		want string // one letter per run: c core (Helvetica), d Devanagari, l Noto Sans
	}{
		{"Name", "c"},
		{"Name / नाम", "cd"},
		{"टीकाकरण का विवरण", "d"},
		{"नाम (Name)", "dc"},
		{"2 में से 1", "d"},
		{"इस PDF में", "dcd"},
		{"Łukasz", "l"},
		{"Łukasz / लुकाश", "ld"},
		{"Zoë – “quoted”", "c"},
		{"क़ि", "d"},
	} {
		l, err := ts.layout(tt.text, false)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		var got strings.Builder
		for _, r := range l.runs {
			switch {
			case r.core:
				got.WriteByte('c')
			case r.face == dev.regular:
				got.WriteByte('d')
			default:
				got.WriteByte('l')
			}
		}
		if got.String() != tt.want {
			t.Errorf("%q: runs %s, want %s", tt.text, got.String(), tt.want)
		}
	}
}

func TestWinAnsi(t *testing.T) {
	for _, tt := range []struct {
		r    rune
		b    byte
		want bool
	}{
		{'A', 'A', true}, {'é', 0xE9, true}, {'€', 0x80, true}, {'–', 0x96, true},
		{'“', 0x93, true}, {'Ł', 0, false}, {'न', 0, false}, {'\n', 0, false}, {0x81, 0, false},
	} {
		b, ok := winAnsi(tt.r)
		if ok != tt.want || (ok && b != tt.b) {
			t.Errorf("winAnsi(%U) = %#x, %v; want %#x, %v", tt.r, b, ok, tt.b, tt.want)
		}
	}
}

// Width of Helvetica text comes from fpdf's own metrics (the AFM widths:
// V 667, a 556, c 500, i 222, n 556, t 278, o 556; bold i 278).
func TestCoreWidths(t *testing.T) {
	if w := coreWidth("Vaccination", false); strconv.FormatFloat(w, 'f', 3, 64) != "5.169" {
		t.Errorf("coreWidth(Vaccination) = %v em, want 5.169", w)
	}
	if helvetica['i'] != 222 || helveticaBold['i'] != 278 {
		t.Errorf("width of i = %d regular, %d bold; want 222, 278", helvetica['i'], helveticaBold['i'])
	}
}
