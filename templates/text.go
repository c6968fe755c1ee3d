package templates

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"github.com/go-text/typesetting/language"
)

// Text reaches the page in one of two ways. Runs that WinAnsi can encode
// are written as real text in the PDF core font Helvetica: no font
// embedding, tiny output, selectable and searchable. Everything else
// (Devanagari, and Latin letters beyond WinAnsi) is shaped with HarfBuzz
// and drawn as filled glyph outlines, which is the only way to get
// conjuncts and vowel signs right through fpdf, which cannot shape.

// pointsPerMM converts the page's millimetres to PDF points.
const pointsPerMM = 72 / 25.4

// run is a piece of a line printed in one way and one face.
type run struct {
	core   bool
	bold   bool
	text   string  // WinAnsi bytes, for core runs
	face   *face   // for shaped runs
	glyphs []glyph // for shaped runs
	width  float64 // in em
}

// line is a laid-out single line of text; its width is in em, so it can be
// drawn at any size.
type line struct {
	runs  []run
	width float64
}

// typeset holds what laying out needs besides the text itself.
type typeset struct {
	fonts   *fontSet
	primary *family // the second language's family, tried first
	lang    language.Language
}

type layoutKey struct {
	text, primary string
	lang          language.Language
	bold          bool
}

// Laid-out lines are cached because the labels of a language are the same
// in every certificate. The cache stops growing at a fixed size instead of
// evicting: labels arrive first, and names or addresses beyond the limit
// just get laid out again, which is cheap.
var (
	layoutCache     sync.Map // layoutKey -> *line
	layoutCacheSize atomic.Int64
)

const layoutCacheLimit = 8192

// layout splits s into runs and shapes the runs that need it.
func (ts *typeset) layout(s string, bold bool) (*line, error) {
	key := layoutKey{text: s, bold: bold, lang: ts.lang}
	if ts.primary != nil {
		key.primary = ts.primary.name
	}
	if l, ok := layoutCache.Load(key); ok {
		return l.(*line), nil
	}
	l, shaped, err := ts.layoutUncached(s, bold)
	if err != nil {
		return nil, err
	}
	if shaped && layoutCacheSize.Load() < layoutCacheLimit {
		if _, loaded := layoutCache.LoadOrStore(key, l); !loaded {
			layoutCacheSize.Add(1)
		}
	}
	return l, nil
}

// target says how a rune is printed: by Helvetica (fam == nil) or by a
// shaped family.
type target struct {
	fam    *family
	script language.Script
}

func (ts *typeset) layoutUncached(s string, bold bool) (*line, bool, error) {
	if isPrintableASCII(s) { // most data: no shaping, no copies
		rn := run{core: true, bold: bold, text: s, width: coreWidth(s, bold)}
		return &line{runs: []run{rn}, width: rn.width}, false, nil
	}
	if !utf8.ValidString(s) {
		return nil, false, fmt.Errorf("text %q is not valid UTF-8", s)
	}
	runes := []rune(s)
	targets := make([]target, len(runes))
	assigned := make([]bool, len(runes))
	// A Latin text with a letter beyond WinAnsi (Łukasz) is set wholly in
	// the fallback face rather than switching faces inside its words.
	latinInCore := true
	for _, r := range runes {
		if _, ok := winAnsi(r); !ok && language.LookupScript(r) == language.Latin {
			latinInCore = false
			break
		}
	}
	// Pass 1: runes of a definite script choose their printer.
	for i, r := range runes {
		sc := language.LookupScript(r)
		if !sc.Strong() {
			continue
		}
		if sc == language.Latin && latinInCore {
			targets[i], assigned[i] = target{script: sc}, true
			continue
		}
		fam := ts.familyFor(r, bold)
		if fam == nil {
			return nil, false, fmt.Errorf("character %U (%q) cannot be printed: no font has it", r, r)
		}
		targets[i], assigned[i] = target{fam: fam, script: sc}, true
	}
	// Pass 2: spaces, digits, punctuation and combining marks follow the
	// neighbouring script (before, else after) when its printer has them,
	// so that "टीकाकरण का विवरण" stays one shaped run.
	for i, r := range runes {
		if assigned[i] {
			continue
		}
		var t target
		found := false
		for j := i - 1; j >= 0 && !found; j-- {
			if assigned[j] {
				t, found = targets[j], canPrint(targets[j], r, bold)
				break
			}
		}
		if !found {
			for j := i + 1; j < len(runes); j++ {
				if assigned[j] {
					t, found = targets[j], canPrint(targets[j], r, bold)
					break
				}
			}
		}
		if !found {
			if _, ok := winAnsi(r); ok {
				t, found = target{script: language.Latin}, true
			} else if fam := ts.familyFor(r, bold); fam != nil {
				t, found = target{fam: fam, script: language.Latin}, true
			}
		}
		if !found {
			return nil, false, fmt.Errorf("character %U (%q) cannot be printed: no font has it", r, r)
		}
		targets[i], assigned[i] = t, true
	}

	l := &line{}
	shaped := false
	for start := 0; start < len(runes); {
		end := start + 1
		for end < len(runes) && targets[end].fam == targets[start].fam {
			end++
		}
		var rn run
		if t := targets[start]; t.fam == nil {
			rn = coreRun(runes[start:end], bold)
		} else {
			shaped = true
			f := t.fam.face(bold)
			glyphs := shape(f, runes[start:end], runScript(targets[start:end]), ts.lang)
			var adv float64
			for _, g := range glyphs {
				adv += float64(g.advance)
			}
			rn = run{bold: bold, face: f, glyphs: glyphs, width: adv / f.upem}
		}
		l.runs = append(l.runs, rn)
		l.width += rn.width
		start = end
	}
	return l, shaped, nil
}

// runScript is the first definite script of a run; HarfBuzz picks the
// shaping engine (Indic, Latin…) from it.
func runScript(ts []target) language.Script {
	for _, t := range ts {
		if t.script != 0 {
			return t.script
		}
	}
	return language.Latin
}

func canPrint(t target, r rune, bold bool) bool {
	if t.fam == nil {
		_, ok := winAnsi(r)
		return ok
	}
	return t.fam.face(bold).has(r)
}

// familyFor picks the family that prints r: the language's own first,
// then the fallbacks.
func (ts *typeset) familyFor(r rune, bold bool) *family {
	if ts.primary != nil && ts.primary.face(bold).has(r) {
		return ts.primary
	}
	for _, fam := range ts.fonts.fallback {
		if fam.face(bold).has(r) {
			return fam
		}
	}
	return nil
}

func coreRun(rs []rune, bold bool) run {
	b := make([]byte, len(rs))
	for i, r := range rs {
		b[i], _ = winAnsi(r)
	}
	return run{core: true, bold: bold, text: string(b), width: coreWidth(string(b), bold)}
}

// coreWidth measures WinAnsi bytes in Helvetica, in em.
func coreWidth(s string, bold bool) float64 {
	widths := &helvetica
	if bold {
		widths = &helveticaBold
	}
	var w int
	for i := 0; i < len(s); i++ {
		w += int(widths[s[i]])
	}
	return float64(w) / 1000
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7F {
			return false
		}
	}
	return true
}

// Helvetica advance widths per WinAnsi byte, in 1/1000 em, read once from
// fpdf's own core font metrics so that measuring never needs a document.
var helvetica, helveticaBold = coreWidths()

func coreWidths() (regular, bold [256]uint16) {
	pdf := fpdf.New("P", "pt", "A4", "")
	for _, v := range []struct {
		style string
		dst   *[256]uint16
	}{{"", &regular}, {"B", &bold}} {
		pdf.SetFont("Helvetica", v.style, 1000)
		for c := 0; c < 256; c++ {
			v.dst[c] = uint16(pdf.GetStringWidth(string([]byte{byte(c)})) + 0.5)
		}
	}
	return regular, bold
}

// winAnsiHigh maps the code points of WinAnsiEncoding's 0x80–0x9F range.
var winAnsiHigh = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'ˆ': 0x88, '‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E,
	'‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97,
	'˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// winAnsi encodes r in WinAnsiEncoding (cp1252), the encoding fpdf
// declares for core fonts.
func winAnsi(r rune) (byte, bool) {
	switch {
	case r >= 0x20 && r < 0x7F, r >= 0xA0 && r <= 0xFF:
		return byte(r), true
	case r == 0xAD: // soft hyphen: printable in Latin-1 already
		return 0xAD, true
	}
	b, ok := winAnsiHigh[r]
	return b, ok
}

// rgb is a colour.
type rgb struct{ r, g, b uint8 }

func (c rgb) fill() string {
	return fmtUnit(c.r) + " " + fmtUnit(c.g) + " " + fmtUnit(c.b) + " rg"
}

func fmtUnit(v uint8) string {
	return strconv.FormatFloat(float64(v)/255, 'f', 3, 64)
}

// pen draws laid-out lines on an fpdf page. Positions are in mm from the
// top-left corner, y at the baseline, as fpdf's Text.
type pen struct {
	pdf   *fpdf.Fpdf
	pageH float64 // mm
	buf   []byte  // scratch for raw content
	used  map[string]*glyphForm
}

// draw prints l at (x, y) with the given size (pt) and colour and returns
// its width in mm.
func (p *pen) draw(x, y float64, l *line, size float64, c rgb) float64 {
	start := x
	for i := range l.runs {
		rn := &l.runs[i]
		if rn.core {
			style := ""
			if rn.bold {
				style = "B"
			}
			p.pdf.SetFont("Helvetica", style, size)
			p.pdf.SetTextColor(int(c.r), int(c.g), int(c.b))
			p.pdf.Text(x, y, rn.text)
		} else {
			p.drawGlyphs(x, y, rn, size, c)
		}
		x += rn.width * size / pointsPerMM
	}
	return x - start
}

// drawGlyphs paints each glyph's Form XObject. One cm sets origin and
// scale (font units to points) for the run; each glyph then moves the
// origin relative to the previous one, so the content stream holds a few
// bytes per glyph.
func (p *pen) drawGlyphs(x, y float64, rn *run, size float64, c rgb) {
	scale := size / rn.face.upem
	b := p.buf[:0]
	b = append(b, "q "...)
	b = append(b, c.fill()...)
	b = append(b, ' ')
	b = appendNum(b, scale, 6)
	b = append(b, " 0 0 "...)
	b = appendNum(b, scale, 6)
	b = append(b, ' ')
	b = appendNum(b, x*pointsPerMM, 2)
	b = append(b, ' ')
	b = appendNum(b, (p.pageH-y)*pointsPerMM, 2)
	b = append(b, " cm\n"...)
	// (ox, oy) is where the origin sits relative to the pen position.
	var pen, ox, oy float64
	for _, g := range rn.glyphs {
		form := rn.face.form(g.id)
		if form.name != "" {
			gx, gy := pen+float64(g.xOffset), float64(g.yOffset)
			// Moves are rounded to 0.1 font unit and the origin follows the
			// rounded moves, so rounding never accumulates along a line.
			dx, dy := math.Round((gx-ox)*10)/10, math.Round((gy-oy)*10)/10
			if dx != 0 || dy != 0 {
				b = append(b, "1 0 0 1 "...)
				b = appendNum(b, dx, 1)
				b = append(b, ' ')
				b = appendNum(b, dy, 1)
				b = append(b, " cm "...)
				ox, oy = ox+dx, oy+dy
			}
			b = append(b, '/')
			b = append(b, form.name...)
			b = append(b, " Do\n"...)
			if p.used == nil {
				p.used = map[string]*glyphForm{}
			}
			p.used[form.name] = form
		}
		pen += float64(g.advance)
	}
	b = append(b, 'Q')
	p.pdf.RawWriteBuf(bytes.NewReader(b))
	p.buf = b
}

// appendNum writes v with at most prec decimals and no trailing zeros.
func appendNum(b []byte, v float64, prec int) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', prec, 64)
	if prec == 0 {
		return b
	}
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if s := string(b[start:]); s == "-0" || s == "" || s == "-" {
		b = append(b[:start], '0')
	}
	return b
}
