package templates

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
)

// Page geometry, in mm.
const (
	pageW    = 210.0
	pageH    = 297.0
	marginX  = 15.0
	contentW = pageW - 2*marginX
)

// Colours of the layout: dark ink for data, grey for labels, a navy accent,
// and the flag's saffron and green as thin bands.
var (
	colInk     = rgb{25, 28, 33}
	colLabel   = rgb{92, 98, 110}
	colAccent  = rgb{18, 48, 98}
	colRule    = rgb{200, 206, 216}
	colTint    = rgb{232, 238, 247}
	colPanel   = rgb{246, 248, 251}
	colSaffron = rgb{255, 153, 51}
	colGreen   = rgb{19, 136, 8}
)

// style is how a piece of text is set.
type style struct {
	size  float64 // pt
	bold  bool
	color rgb
}

// lineHeight is the distance between baselines for a style; Devanagari
// needs room for vowel signs above the headline and below the base.
func (st style) lineHeight() float64 { return st.size * 1.45 / pointsPerMM }

// doc is one document being drawn. Drawing helpers record the first
// error in err instead of returning it, so the layout code reads as a
// layout; finish reports it.
type doc struct {
	pdf    *fpdf.Fpdf
	pen    pen
	ts     typeset
	en     *lang
	second *lang // nil: English only
	loc    *time.Location
	err    error
}

func newDoc(fonts *fontSet, en, second *lang, loc *time.Location) *doc {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCatalogSort(true)
	// Streams are compressed by the assembly, with pooled compressors.
	pdf.SetCompression(false)
	pdf.SetCreator("vaxcert", false)
	pdf.SetProducer("vaxcert templates (fpdf)", false)
	pdf.AddPage()
	d := &doc{pdf: pdf, pen: pen{pdf: pdf, pageH: pageH}, en: en, second: second, loc: loc}
	d.ts = typeset{fonts: fonts, lang: en.tag}
	if second != nil {
		d.ts.primary = second.fam
		d.ts.lang = second.tag
		pdf.SetLang(second.Code + "-IN")
	} else {
		pdf.SetLang("en-IN")
	}
	return d
}

// attachment is a file embedded in the PDF.
type attachment struct {
	name, mime, desc string
	data             []byte
}

// finish closes the document with a fixed creation and modification date
// (so that equal input gives equal bytes), then assembles the final file:
// compressed content, the glyphs used, the attachment.
func (d *doc) finish(at time.Time, att *attachment) ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	at = at.UTC()
	d.pdf.SetCreationDate(at)
	d.pdf.SetModificationDate(at)
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	if err := d.pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("templates: write PDF: %w", err)
	}
	a, err := newAssembly(buf.Bytes())
	if err != nil {
		return nil, err
	}
	if err := a.compressContents(); err != nil {
		return nil, err
	}
	// fpdf declares 1.3; the embedded-files name tree is PDF 1.4.
	if err := a.replaceUnique("%PDF-1.3\n", []byte("%PDF-1.4\n")); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(d.pen.used))
	for n := range d.pen.used {
		names = append(names, n)
	}
	sort.Strings(names)
	bodies := make([][]byte, len(names))
	for i, n := range names {
		bodies[i] = d.pen.used[n].body
	}
	if err := a.addXObjects(names, bodies); err != nil {
		return nil, err
	}
	if att != nil {
		if err := a.attach(att.name, att.mime, att.desc, att.data, "D:"+at.Format("20060102150405")+"Z"); err != nil {
			return nil, err
		}
	}
	return a.bytes()
}

func (d *doc) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// layout returns the laid-out line, or an empty one after recording the
// error (a character no font has).
func (d *doc) layout(s string, bold bool) *line {
	l, err := d.ts.layout(s, bold)
	if err != nil {
		d.fail(fmt.Errorf("%w: %v", ErrInvalid, err))
		return &line{}
	}
	return l
}

// text draws s with its baseline-left at (x, y) and returns its width.
func (d *doc) text(x, y float64, s string, st style) float64 {
	return d.pen.draw(x, y, d.layout(s, st.bold), st.size, st.color)
}

func (d *doc) width(s string, st style) float64 {
	return d.layout(s, st.bold).width * st.size / pointsPerMM
}

func (d *doc) textCenter(cx, y float64, s string, st style) {
	d.text(cx-d.width(s, st)/2, y, s, st)
}

// bi joins an English text and its second-language form for one line.
func (d *doc) bi(en, second string) string {
	if d.second == nil {
		return en
	}
	return en + " / " + second
}

// wrap breaks s into lines no wider than maxW. Words are measured with
// their leading space, in the face that will print them.
func (d *doc) wrap(s string, st style, maxW float64) []string {
	words := strings.Fields(s)
	var lines []string
	cur, curW := "", 0.0
	for _, w := range words {
		if cur == "" {
			for d.width(w, st) > maxW {
				head, tail := d.breakWord(w, st, maxW)
				if tail == "" {
					break
				}
				lines = append(lines, head)
				w = tail
			}
			cur, curW = w, d.width(w, st)
			continue
		}
		ww := d.width(" "+w, st)
		if curW+ww <= maxW {
			cur, curW = cur+" "+w, curW+ww
			continue
		}
		lines = append(lines, cur)
		cur = ""
		for d.width(w, st) > maxW {
			head, tail := d.breakWord(w, st, maxW)
			if tail == "" {
				break
			}
			lines = append(lines, head)
			w = tail
		}
		cur, curW = w, d.width(w, st)
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// breakWord splits a word that is wider than a line at the last place that
// fits, never inside a cluster (before a mark or after a virama or joiner).
// tail is "" when no split is possible.
func (d *doc) breakWord(w string, st style, maxW float64) (head, tail string) {
	rs := []rune(w)
	best := 0
	for i := 1; i < len(rs); i++ {
		if unicode.In(rs[i], unicode.Mn, unicode.Mc, unicode.Me) || rs[i-1] == 0x094D || rs[i-1] == 0x200D || rs[i-1] == 0x200C {
			continue
		}
		if d.width(string(rs[:i]), st) > maxW {
			break
		}
		best = i
	}
	if best == 0 {
		return w, ""
	}
	return string(rs[:best]), string(rs[best:])
}

// rect fills a rectangle.
func (d *doc) rect(x, y, w, h float64, c rgb) {
	d.pdf.SetFillColor(int(c.r), int(c.g), int(c.b))
	d.pdf.Rect(x, y, w, h, "F")
}

// rule draws a thin horizontal line.
func (d *doc) rule(x1, x2, y float64, c rgb, width float64) {
	d.pdf.SetDrawColor(int(c.r), int(c.g), int(c.b))
	d.pdf.SetLineWidth(width)
	d.pdf.Line(x1, y, x2, y)
}

// box strokes a rectangle.
func (d *doc) box(x, y, w, h float64, c rgb, width float64) {
	d.pdf.SetDrawColor(int(c.r), int(c.g), int(c.b))
	d.pdf.SetLineWidth(width)
	d.pdf.Rect(x, y, w, h, "D")
}
