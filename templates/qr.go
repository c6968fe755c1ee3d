package templates

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
)

// checkQR accepts a QR symbol's module matrix without quiet zone: square,
// with a side of 21 to 177 modules in steps of 4 (versions 1 to 40).
func checkQR(mods [][]bool) error {
	n := len(mods)
	if n < 21 || n > 177 || (n-17)%4 != 0 {
		return fmt.Errorf("QR: %d rows is not the size of a QR symbol (21 to 177, steps of 4, no quiet zone)", n)
	}
	for i, row := range mods {
		if len(row) != n {
			return fmt.Errorf("QR: row %d has %d modules, want %d", i, len(row), n)
		}
	}
	return nil
}

// qrPath returns the dark modules as one PDF path of rectangles in module
// units (x right, y down from the top-left module). Horizontal runs of dark
// modules become one rectangle, and a run repeated on the rows below grows
// that rectangle downwards instead of starting a new one: a SMART Health
// Card symbol needs less than half as many rectangles as dark modules. Filling everything as a single path leaves no hairline seams
// between neighbouring squares when viewers anti-alias.
func qrPath(b []byte, mods [][]bool) []byte {
	// A rectangle is written out once its run stops repeating downwards.
	type rect struct{ y, w, h int }
	n := len(mods)
	open := make([]rect, n) // by start column; w == 0: none
	next := make([]rect, n)
	emit := func(x int, r rect) {
		b = strconv.AppendInt(b, int64(x), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.y), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.w), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.h), 10)
		b = append(b, " re\n"...)
	}
	for y, row := range mods {
		clear(next)
		for x := 0; x < n; {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < n && row[x] {
				x++
			}
			if r := open[start]; r.w == x-start {
				r.h++
				next[start] = r
				open[start].w = 0
			} else {
				next[start] = rect{y, x - start, 1}
			}
		}
		for x, r := range open {
			if r.w > 0 {
				emit(x, r)
			}
		}
		open, next = next, open
	}
	for x, r := range open {
		if r.w > 0 {
			emit(x, r)
		}
	}
	return b
}

// drawQR draws the symbol with its top-left corner at (x, y) mm and a side
// of size mm. The matrix flips the y axis so that the rectangles can use
// the bitmap's row numbers directly.
func (p *pen) drawQR(x, y, size float64, mods [][]bool) {
	m := size * pointsPerMM / float64(len(mods))
	// About one rectangle per four modules, 14 bytes each.
	b := slices.Grow(p.buf[:0], len(mods)*len(mods)*4+64)
	b = append(b, "q 0 g "...)
	b = appendNum(b, m, 5)
	b = append(b, " 0 0 "...)
	b = appendNum(b, -m, 5)
	b = append(b, ' ')
	b = appendNum(b, x*pointsPerMM, 3)
	b = append(b, ' ')
	b = appendNum(b, (p.pageH-y)*pointsPerMM, 3)
	b = append(b, " cm\n"...)
	b = qrPath(b, mods)
	b = append(b, "f Q"...)
	p.pdf.RawWriteBuf(bytes.NewReader(b))
	p.buf = b
}
