package pdfread

import (
	"bytes"
	"image"
	"math"
)

// A QR code drawn as vector graphics (our certificate template fills one
// path of module rectangles) has no image XObject to decode. VectorImages
// rasterises such paths from the page content streams: every filled path
// made of at least minRects axis-aligned rectangles, in a dark colour,
// becomes a black-on-white image with a quiet zone.

const (
	minRects        = 40
	maxRectsPerPath = 100000
	maxRasterSide   = 2400
)

type matrix [6]float64 // a b c d e f

func (m matrix) mul(n matrix) matrix { // m then n
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) apply(x, y float64) (float64, float64) {
	return m[0]*x + m[2]*y + m[4], m[1]*x + m[3]*y + m[5]
}

type rect struct{ x0, y0, x1, y1 float64 } // device space, normalised

// VectorImages returns rasterised candidate QR codes drawn as rectangles
// on the pages.
func (d *Document) VectorImages() []image.Image {
	var out []image.Image
	for _, num := range d.sortedNums() {
		page, ok := d.objects[num].(dict)
		if !ok || page["Type"] != name("Page") {
			continue
		}
		var content []byte
		switch c := d.resolve(page["Contents"]).(type) {
		case *stream:
			content, _ = d.decodeStream(c)
		case array:
			for _, part := range c {
				if s, ok := d.resolve(part).(*stream); ok {
					b, err := d.decodeStream(s)
					if err == nil {
						content = append(append(content, b...), '\n')
					}
				}
			}
		}
		for _, rects := range filledRectPaths(content) {
			if img := rasterise(rects); img != nil {
				out = append(out, img)
			}
		}
	}
	return out
}

// filledRectPaths interprets the few operators that matter: q Q cm, colour
// (g rg k and their stroke twins are ignored), re, path ends.
func filledRectPaths(content []byte) [][]rect {
	if len(content) == 0 {
		return nil
	}
	var paths [][]rect
	ctm := matrix{1, 0, 0, 1, 0, 0}
	var stack []matrix
	dark := true
	var cur []rect
	// run gathers consecutive dark rectangle fills: one path of many
	// rectangles, or (as fpdf's Rect writes them) many one-rectangle paths.
	var run []rect
	flush := func() {
		if len(run) >= minRects {
			paths = append(paths, run)
		}
		run = nil
	}
	var operands []any
	l := &lexer{b: content}
	for steps := 0; steps < 4_000_000; steps++ {
		l.skipSpace()
		if l.pos >= len(l.b) {
			break
		}
		v, err := l.value(0)
		if err != nil {
			l.pos++ // skip what the lexer does not understand
			operands = operands[:0]
			continue
		}
		op, isOp := v.(keyword)
		if !isOp {
			if len(operands) < 64 {
				operands = append(operands, v)
			}
			continue
		}
		nums := func(n int) ([]float64, bool) {
			if len(operands) < n {
				return nil, false
			}
			out := make([]float64, n)
			for i, o := range operands[len(operands)-n:] {
				switch x := o.(type) {
				case int64:
					out[i] = float64(x)
				case float64:
					out[i] = x
				default:
					return nil, false
				}
			}
			return out, true
		}
		switch op {
		case "q":
			if len(stack) < 64 {
				stack = append(stack, ctm)
			}
		case "Q":
			if len(stack) > 0 {
				ctm = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		case "cm":
			if m, ok := nums(6); ok {
				ctm = matrix{m[0], m[1], m[2], m[3], m[4], m[5]}.mul(ctm)
			}
		case "g":
			if c, ok := nums(1); ok {
				dark = c[0] < 0.5
			}
		case "rg":
			if c, ok := nums(3); ok {
				dark = 0.299*c[0]+0.587*c[1]+0.114*c[2] < 0.5
			}
		case "k":
			if c, ok := nums(4); ok {
				dark = (1-c[0])*(1-c[3])+(1-c[1])*(1-c[3])+(1-c[2])*(1-c[3]) < 1.5
			}
		case "re":
			if r, ok := nums(4); ok && len(cur) < maxRectsPerPath && ctm[1] == 0 && ctm[2] == 0 {
				x0, y0 := ctm.apply(r[0], r[1])
				x1, y1 := ctm.apply(r[0]+r[2], r[1]+r[3])
				cur = append(cur, rect{math.Min(x0, x1), math.Min(y0, y1), math.Max(x0, x1), math.Max(y0, y1)})
			}
		case "f", "F", "f*", "B", "B*", "b", "b*":
			if dark && len(run)+len(cur) <= maxRectsPerPath {
				run = append(run, cur...)
			} else {
				flush()
			}
			cur = nil
		case "n", "S", "s":
			cur = nil
		case "G", "RG", "K", "cs", "sc", "scn", "CS", "SC", "SCN", "w", "J", "j", "M", "d", "ri", "i", "gs":
			// state changes that do not end a run (handled above or irrelevant)
		default:
			flush()
		case "BI": // inline image: skip its data
			if i := bytes.Index(l.b[l.pos:], []byte("EI")); i >= 0 {
				l.pos += i + 2
			} else {
				l.pos = len(l.b)
			}
		}
		operands = operands[:0]
	}
	flush()
	return paths
}

// rasterise draws the rectangles black on white, scaled so that the
// smallest rectangle side is at least 3 pixels, with a margin.
func rasterise(rects []rect) image.Image {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	unit := math.Inf(1)
	for _, r := range rects {
		minX, minY = math.Min(minX, r.x0), math.Min(minY, r.y0)
		maxX, maxY = math.Max(maxX, r.x1), math.Max(maxY, r.y1)
		if w := r.x1 - r.x0; w > 0 {
			unit = math.Min(unit, w)
		}
		if h := r.y1 - r.y0; h > 0 {
			unit = math.Min(unit, h)
		}
	}
	w, h := maxX-minX, maxY-minY
	if !(w > 0 && h > 0 && unit > 0) || math.IsInf(unit, 1) {
		return nil
	}
	scale := 4 / unit
	if side := math.Max(w, h) * scale; side > maxRasterSide {
		scale *= maxRasterSide / side
	}
	margin := int(4*unit*scale) + 2
	pw, ph := int(w*scale)+2*margin, int(h*scale)+2*margin
	if pw <= 0 || ph <= 0 || pw*ph > MaxImagePixels {
		return nil
	}
	img := image.NewGray(image.Rect(0, 0, pw, ph))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for _, r := range rects {
		x0 := margin + int(math.Round((r.x0-minX)*scale))
		x1 := margin + int(math.Round((r.x1-minX)*scale))
		// PDF y grows upwards; images grow downwards.
		y0 := margin + int(math.Round((maxY-r.y1)*scale))
		y1 := margin + int(math.Round((maxY-r.y0)*scale))
		for y := max(y0, 0); y < min(y1, ph); y++ {
			row := img.Pix[y*img.Stride:]
			for x := max(x0, 0); x < min(x1, pw); x++ {
				row[x] = 0
			}
		}
	}
	return img
}
