package templates

import (
	"bytes"
	"compress/zlib"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

//go:embed fonts/*.ttf fonts/OFL.txt
var fontFiles embed.FS

// WebFonts are the font files the web pages may also use (the Devanagari
// faces, for devices that have none) and their licence, by file name.
func WebFonts() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range []string{"NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf", "OFL.txt"} {
		b, err := fontFiles.ReadFile("fonts/" + name)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

// face is one parsed TrueType font plus a cache of its glyphs as PDF Form
// XObjects. Outlines are immutable, so each glyph is converted and
// compressed once per process and then shared by every render.
type face struct {
	name  string
	index int // position in the sorted font set; names the glyph XObjects
	font  *font.Font
	upem  float64
	forms sync.Map // font.GID -> *glyphForm
}

// family is a Regular and a Bold face of one typeface.
type family struct {
	name          string
	regular, bold *face
}

func (fam *family) face(bold bool) *face {
	if bold {
		return fam.bold
	}
	return fam.regular
}

// fontSet holds every family shipped in fonts/, parsed once per process.
type fontSet struct {
	families map[string]*family
	// fallback is the order in which families are tried for a rune that
	// Helvetica cannot print and that the language's own family lacks.
	fallback []*family
}

var (
	fontsOnce sync.Once
	fontsVal  *fontSet
	fontsErr  error
)

// loadedFonts parses the embedded fonts on first use.
func loadedFonts() (*fontSet, error) {
	fontsOnce.Do(func() { fontsVal, fontsErr = parseFonts(fontFiles, "fonts") })
	return fontsVal, fontsErr
}

// latinFallback is the family used for Latin letters outside WinAnsi; it
// comes first in the fallback order so that such names look consistent.
const latinFallback = "NotoSans"

func parseFonts(fsys fs.FS, dir string) (*fontSet, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("templates: read fonts: %w", err)
	}
	set := &fontSet{families: map[string]*family{}}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".ttf")
		if !ok {
			continue
		}
		famName, style, ok := strings.Cut(name, "-")
		if !ok || (style != "Regular" && style != "Bold") {
			return nil, fmt.Errorf("templates: font file %q is not named <Family>-Regular.ttf or <Family>-Bold.ttf", e.Name())
		}
		data, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("templates: read font %s: %w", e.Name(), err)
		}
		f, err := font.ParseTTF(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("templates: parse font %s: %w", e.Name(), err)
		}
		fc := &face{name: name, font: f.Font, upem: float64(f.Upem())}
		fam := set.families[famName]
		if fam == nil {
			fam = &family{name: famName}
			set.families[famName] = fam
		}
		if style == "Bold" {
			fam.bold = fc
		} else {
			fam.regular = fc
		}
	}
	names := make([]string, 0, len(set.families))
	for n, fam := range set.families {
		if fam.regular == nil || fam.bold == nil {
			return nil, fmt.Errorf("templates: font family %s needs both Regular and Bold", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		set.families[n].regular.index = 2 * i
		set.families[n].bold.index = 2*i + 1
	}
	if _, ok := set.families[latinFallback]; ok {
		set.fallback = append(set.fallback, set.families[latinFallback])
	}
	for _, n := range names {
		if n != latinFallback {
			set.fallback = append(set.fallback, set.families[n])
		}
	}
	return set, nil
}

// has reports whether the face maps r to a glyph. Font (unlike Face) is
// safe for concurrent use.
func (f *face) has(r rune) bool {
	_, ok := f.font.Cmap.Lookup(r)
	return ok
}

// glyph is one shaped glyph; advance and offsets are in font units.
type glyph struct {
	id               font.GID
	advance          float32
	xOffset, yOffset float32
}

// shaperPool hands each goroutine its own HarfBuzz shaper and font.Face
// wrappers: both keep mutable caches and are not safe for concurrent use.
var shaperPool = sync.Pool{New: func() any { return &shaperState{faces: map[*face]*font.Face{}} }}

type shaperState struct {
	hb    shaping.HarfbuzzShaper
	faces map[*face]*font.Face
}

func (s *shaperState) faceFor(f *face) *font.Face {
	fc := s.faces[f]
	if fc == nil {
		fc = font.NewFace(f.font)
		s.faces[f] = fc
	}
	return fc
}

// shape runs HarfBuzz over text with face f. The size is set to the font's
// units per em, so the returned advances and offsets are in font units and
// the result can be reused at any point size.
func shape(f *face, text []rune, script language.Script, lang language.Language) []glyph {
	st := shaperPool.Get().(*shaperState)
	defer shaperPool.Put(st)
	out := st.hb.ShapeNoExtents(shaping.Input{
		Text:      text,
		RunStart:  0,
		RunEnd:    len(text),
		Direction: di.DirectionLTR,
		Face:      st.faceFor(f),
		Size:      fixed.I(int(f.upem)),
		Script:    script,
		Language:  lang,
	})
	glyphs := make([]glyph, len(out.Glyphs))
	for i, g := range out.Glyphs {
		glyphs[i] = glyph{
			id:      g.GlyphID,
			advance: fixedToFloat(g.Advance),
			xOffset: fixedToFloat(g.XOffset),
			yOffset: fixedToFloat(g.YOffset),
		}
	}
	return glyphs
}

func fixedToFloat(v fixed.Int26_6) float32 { return float32(v) / 64 }

// glyphForm is a glyph drawn as a Form XObject in font units; name and body
// are empty for a blank glyph such as a space.
type glyphForm struct {
	name string // resource name, unique in the font set
	body []byte // the object between "N 0 obj" and "endobj"
}

// form returns the glyph's Form XObject, building it on first use.
// Coordinates are rounded to whole font units: at 1000 units per em and
// 20 pt that is 0.02 pt, far below what print or screen can show.
func (f *face) form(gid font.GID) *glyphForm {
	if g, ok := f.forms.Load(gid); ok {
		return g.(*glyphForm)
	}
	st := shaperPool.Get().(*shaperState)
	data, _ := st.faceFor(f).GlyphDataOutline(gid)
	shaperPool.Put(st)
	g := &glyphForm{}
	if path, box := outlinePath(data.Segments); len(path) > 0 {
		path = append(path, 'f')
		var z bytes.Buffer
		deflate(&z, path, zlib.BestCompression)
		g.name = "G" + strconv.Itoa(f.index) + "_" + strconv.Itoa(int(gid))
		g.body = fmt.Appendf(nil, "<</Subtype /Form /BBox [%d %d %d %d] /Filter /FlateDecode /Length %d>>\nstream\n",
			box[0]-1, box[1]-1, box[2]+1, box[3]+1, z.Len())
		g.body = append(g.body, z.Bytes()...)
		g.body = append(g.body, "\nendstream"...)
	}
	// Two goroutines may build the same glyph at once; the results are
	// identical, so whichever is stored is fine.
	actual, _ := f.forms.LoadOrStore(gid, g)
	return actual.(*glyphForm)
}

// outlinePath converts TrueType/CFF segments to PDF path operators and
// returns the bounding box of all points (control points included, so it
// contains the curves). Quadratic curves become cubics (PDF has no
// quadratic operator): the control points sit 2/3 of the way from each end
// point to the quadratic control point.
func outlinePath(segs []ot.Segment) ([]byte, [4]int) {
	var b []byte
	box := [4]int{math.MaxInt, math.MaxInt, math.MinInt, math.MinInt}
	var cur ot.SegmentPoint
	add := func(op string, pts ...ot.SegmentPoint) {
		for _, p := range pts {
			x, y := int(math.Round(float64(p.X))), int(math.Round(float64(p.Y)))
			box[0], box[1], box[2], box[3] = min(box[0], x), min(box[1], y), max(box[2], x), max(box[3], y)
			b = strconv.AppendInt(b, int64(x), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(y), 10)
			b = append(b, ' ')
		}
		b = append(b, op...)
		b = append(b, '\n')
	}
	for _, s := range segs {
		switch s.Op {
		case ot.SegmentOpMoveTo:
			add("m", s.Args[0])
			cur = s.Args[0]
		case ot.SegmentOpLineTo:
			add("l", s.Args[0])
			cur = s.Args[0]
		case ot.SegmentOpQuadTo:
			q, end := s.Args[0], s.Args[1]
			c1 := ot.SegmentPoint{X: cur.X + 2*(q.X-cur.X)/3, Y: cur.Y + 2*(q.Y-cur.Y)/3}
			c2 := ot.SegmentPoint{X: end.X + 2*(q.X-end.X)/3, Y: end.Y + 2*(q.Y-end.Y)/3}
			add("c", c1, c2, end)
			cur = end
		case ot.SegmentOpCubeTo:
			add("c", s.Args[0], s.Args[1], s.Args[2])
			cur = s.Args[2]
		}
	}
	return b, box
}
