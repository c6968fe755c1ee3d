package shc

import "fmt"

// A QR encoder for exactly what a health card needs (ISO/IEC 18004): error
// correction level L, versions 1 to 22, the two segments byte "shc:/" and
// numeric digits. It replaces a general-purpose library whose Reed-Solomon
// step allocated at every polynomial operation and took ~11 ms a symbol:
// the issuer draws one per certificate PDF and PNG, so it was the largest
// cost of a download. This one takes well under a millisecond.

// qrBlocks is the error correction level L block structure of a version:
// ecPerBlock error correction codewords in each block; n1 blocks of d1 data
// codewords, then n2 blocks of d1+1.
type qrBlocks struct {
	ecPerBlock, n1, d1, n2 int
}

// qrBlocksL is ISO/IEC 18004 table 9, level L, versions 1..22.
var qrBlocksL = [MaxQRVersion + 1]qrBlocks{{},
	{7, 1, 19, 0}, {10, 1, 34, 0}, {15, 1, 55, 0}, {20, 1, 80, 0}, {26, 1, 108, 0},
	{18, 2, 68, 0}, {20, 2, 78, 0}, {24, 2, 97, 0}, {30, 2, 116, 0}, {18, 2, 68, 2},
	{20, 4, 81, 0}, {24, 2, 92, 2}, {26, 4, 107, 0}, {30, 3, 115, 1}, {22, 5, 87, 1},
	{24, 5, 98, 1}, {28, 1, 107, 5}, {30, 5, 120, 1}, {28, 3, 113, 4}, {28, 3, 107, 5},
	{28, 4, 116, 4}, {28, 2, 111, 7},
}

// qrAlignment is ISO/IEC 18004 annex E: the row/column coordinates of the
// alignment pattern centres, versions 2..22.
var qrAlignment = [MaxQRVersion + 1][]int{nil, nil,
	{6, 18}, {6, 22}, {6, 26}, {6, 30}, {6, 34},
	{6, 22, 38}, {6, 24, 42}, {6, 26, 46}, {6, 28, 50}, {6, 30, 54}, {6, 32, 58}, {6, 34, 62},
	{6, 26, 46, 66}, {6, 26, 48, 70}, {6, 26, 50, 74}, {6, 30, 54, 78}, {6, 30, 56, 82}, {6, 30, 58, 86}, {6, 34, 62, 90},
	{6, 28, 50, 72, 94}, {6, 26, 50, 74, 98},
}

// bitWriter appends bits most significant first.
type bitWriter struct {
	buf []byte
	n   int // bits written
}

func (w *bitWriter) write(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 != 0 {
			w.buf[w.n/8] |= 0x80 >> uint(w.n%8)
		}
		w.n++
	}
}

// qrDataCodewords encodes prefix as a byte segment and digits as a numeric
// segment, then the terminator and padding, into the data codewords of a
// version at level L.
func qrDataCodewords(prefix, digits string, version int) ([]byte, error) {
	capacity := dataCodewordsL[version]
	byteCount, numCount := 8, 10
	if version >= 10 {
		byteCount, numCount = 16, 12
	}
	if len(prefix) >= 1<<byteCount || len(digits) >= 1<<numCount {
		return nil, fmt.Errorf("version %d: segment too long", version)
	}
	w := &bitWriter{buf: make([]byte, 0, capacity)}
	w.write(0b0100, 4) // byte mode
	w.write(uint32(len(prefix)), byteCount)
	for i := 0; i < len(prefix); i++ {
		w.write(uint32(prefix[i]), 8)
	}
	w.write(0b0001, 4) // numeric mode
	w.write(uint32(len(digits)), numCount)
	for i := 0; i < len(digits); i += 3 {
		group := digits[i:min(i+3, len(digits))]
		v := uint32(0)
		for j := 0; j < len(group); j++ {
			c := group[j]
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("numeric segment: %q is not a digit", c)
			}
			v = v*10 + uint32(c-'0')
		}
		w.write(v, []int{0, 4, 7, 10}[len(group)])
	}
	if w.n > capacity*8 {
		return nil, fmt.Errorf("version %d holds %d data bits, the text needs %d", version, capacity*8, w.n)
	}
	w.write(0, min(4, capacity*8-w.n)) // terminator
	if w.n%8 != 0 {
		w.write(0, 8-w.n%8)
	}
	for pad := byte(0xEC); len(w.buf) < capacity; pad ^= 0xEC ^ 0x11 {
		w.buf = append(w.buf, pad)
	}
	return w.buf, nil
}

// GF(256) with the QR code's primitive polynomial x^8+x^4+x^3+x^2+1.
var gfExp, gfLog = func() (exp [512]byte, log [256]byte) {
	x := 1
	for i := 0; i < 255; i++ {
		exp[i] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < 512; i++ {
		exp[i] = exp[i-255]
	}
	return
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// rsGenerator returns the coefficients of the generator polynomial
// (x-α^0)(x-α^1)…(x-α^(n-1)) below its leading 1, highest degree first.
func rsGenerator(n int) []byte {
	g := make([]byte, n+1)
	g[0] = 1
	for i := 0; i < n; i++ { // multiply by (x - α^i)
		root := gfExp[i]
		for j := i + 1; j >= 1; j-- {
			g[j] ^= gfMul(g[j-1], root)
		}
	}
	return g[1:]
}

// rsRemainder is the error correction codewords of data: the remainder of
// data(x)·x^n divided by the generator, computed as a shift register.
func rsRemainder(data, gen []byte) []byte {
	rem := make([]byte, len(gen))
	for _, d := range data {
		factor := d ^ rem[0]
		copy(rem, rem[1:])
		rem[len(rem)-1] = 0
		if factor == 0 {
			continue
		}
		lf := int(gfLog[factor])
		for i, g := range gen {
			if g != 0 {
				rem[i] ^= gfExp[lf+int(gfLog[g])]
			}
		}
	}
	return rem
}

// qrCodewords splits the data into blocks, adds each block's error
// correction and interleaves them (ISO/IEC 18004 7.6).
func qrCodewords(data []byte, version int) []byte {
	b := qrBlocksL[version]
	gen := rsGenerator(b.ecPerBlock)
	blocks := make([][]byte, 0, b.n1+b.n2)
	ecs := make([][]byte, 0, b.n1+b.n2)
	off := 0
	for i := 0; i < b.n1+b.n2; i++ {
		n := b.d1
		if i >= b.n1 {
			n++
		}
		blocks = append(blocks, data[off:off+n])
		ecs = append(ecs, rsRemainder(data[off:off+n], gen))
		off += n
	}
	out := make([]byte, 0, len(data)+len(blocks)*b.ecPerBlock)
	for i := 0; i <= b.d1; i++ {
		for _, blk := range blocks {
			if i < len(blk) {
				out = append(out, blk[i])
			}
		}
	}
	for i := 0; i < b.ecPerBlock; i++ {
		for _, ec := range ecs {
			out = append(out, ec[i])
		}
	}
	return out
}

// qrMatrix is a symbol being built: dark modules, and which modules belong
// to function patterns (not data, not masked).
type qrMatrix struct {
	size     int
	dark     []bool // row-major
	function []bool
}

func (m *qrMatrix) set(x, y int, dark bool) {
	m.dark[y*m.size+x] = dark
	m.function[y*m.size+x] = true
}

func newQRMatrix(version int) *qrMatrix {
	size := 17 + 4*version
	m := &qrMatrix{size: size, dark: make([]bool, size*size), function: make([]bool, size*size)}
	for i := 0; i < size; i++ { // timing patterns
		m.set(6, i, i%2 == 0)
		m.set(i, 6, i%2 == 0)
	}
	// Finder patterns with their separators.
	for _, c := range [][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || x >= size || y < 0 || y >= size {
					continue
				}
				d := max(abs(dx), abs(dy))
				m.set(x, y, d != 2 && d != 4)
			}
		}
	}
	pos := qrAlignment[version]
	for i, cy := range pos {
		for j, cx := range pos {
			last := len(pos) - 1
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue // where the finder patterns are
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					m.set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	m.drawFormat(0) // reserves the format areas; redrawn per mask
	if version >= 7 {
		rem := version
		for i := 0; i < 12; i++ {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		bits := version<<12 | rem
		for i := 0; i < 18; i++ {
			dark := bits>>uint(i)&1 != 0
			a, b := size-11+i%3, i/3
			m.set(a, b, dark)
			m.set(b, a, dark)
		}
	}
	return m
}

// drawFormat writes the format information for level L and mask, both
// copies, and the dark module.
func (m *qrMatrix) drawFormat(mask int) {
	data := 0b01<<3 | mask // level L is 01
	rem := data
	for i := 0; i < 10; i++ {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	bits := (data<<10 | rem) ^ 0x5412
	bit := func(i int) bool { return bits>>uint(i)&1 != 0 }
	size := m.size
	for i := 0; i <= 5; i++ {
		m.set(8, i, bit(i))
	}
	m.set(8, 7, bit(6))
	m.set(8, 8, bit(7))
	m.set(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		m.set(14-i, 8, bit(i))
	}
	for i := 0; i < 8; i++ {
		m.set(size-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		m.set(8, size-15+i, bit(i))
	}
	m.set(8, size-8, true)
}

// placeCodewords fills the data modules in the two-column zigzag from the
// bottom right; remainder modules stay light.
func (m *qrMatrix) placeCodewords(cw []byte) {
	size, i := m.size, 0
	for right := size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5 // skip the vertical timing pattern
		}
		upward := (right+1)&2 == 0
		for vert := 0; vert < size; vert++ {
			y := vert
			if upward {
				y = size - 1 - vert
			}
			for j := 0; j < 2; j++ {
				x := right - j
				if m.function[y*size+x] {
					continue
				}
				if i < len(cw)*8 {
					m.dark[y*size+x] = cw[i>>3]>>uint(7-i&7)&1 != 0
					i++
				}
			}
		}
	}
}

// qrMasked reports whether mask inverts the module at column x, row y.
func qrMasked(mask, x, y int) bool {
	switch mask {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

func (m *qrMatrix) applyMask(mask int) {
	for y := 0; y < m.size; y++ {
		for x := 0; x < m.size; x++ {
			if i := y*m.size + x; !m.function[i] && qrMasked(mask, x, y) {
				m.dark[i] = !m.dark[i]
			}
		}
	}
}

// penalty scores a masked symbol by the four rules of ISO/IEC 18004 7.8.3:
// runs of five or more, 2×2 blocks, finder-like 1:1:3:1:1 patterns with
// four light modules on a side (outside the symbol counts as light: the
// quiet zone), and the departure of the dark share from half.
func (m *qrMatrix) penalty() int {
	size, score, darkCount := m.size, 0, 0
	var line [17 + 4*MaxQRVersion]bool
	for y := 0; y < size; y++ {
		score += linePenalty(m.dark[y*size : (y+1)*size])
	}
	for x := 0; x < size; x++ {
		for y := 0; y < size; y++ {
			line[y] = m.dark[y*size+x]
		}
		score += linePenalty(line[:size])
	}
	for y := 0; y < size; y++ {
		row := m.dark[y*size : (y+1)*size]
		for x, d := range row {
			if d {
				darkCount++
			}
			if x+1 < size && y+1 < size {
				below := m.dark[(y+1)*size:]
				if d == row[x+1] && d == below[x] && d == below[x+1] {
					score += 3
				}
			}
		}
	}
	total := size * size
	score += abs(darkCount*20-total*10) / total * 10
	return score
}

// linePenalty is rules 1 and 3 along one row or column.
func linePenalty(line []bool) int {
	n, score, run := len(line), 0, 0
	light := func(i int) bool { return i < 0 || i >= n || !line[i] }
	for i, d := range line {
		if i > 0 && d == line[i-1] {
			run++
		} else {
			run = 1
		}
		if run == 5 {
			score += 3
		} else if run > 5 {
			score++
		}
		// A 1011101 ending at i, with four light modules on either side.
		if d && i >= 6 && !line[i-1] && line[i-2] && line[i-3] && line[i-4] && !line[i-5] && line[i-6] {
			if light(i-7) && light(i-8) && light(i-9) && light(i-10) || light(i+1) && light(i+2) && light(i+3) && light(i+4) {
				score += 40
			}
		}
	}
	return score
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// encodeQR builds the symbol of prefix (byte mode) + digits (numeric mode)
// at version, error correction L, with the mask of lowest penalty, or with
// forceMask when it is 0..7.
func encodeQR(prefix, digits string, version, forceMask int) (QR, error) {
	if version < 1 || version > MaxQRVersion {
		return QR{}, fmt.Errorf("QR version %d out of range 1..%d", version, MaxQRVersion)
	}
	data, err := qrDataCodewords(prefix, digits, version)
	if err != nil {
		return QR{}, err
	}
	base := newQRMatrix(version)
	base.placeCodewords(qrCodewords(data, version))

	try := &qrMatrix{size: base.size, dark: make([]bool, len(base.dark)), function: base.function}
	best, bestScore := -1, 0
	for mask := 0; mask < 8; mask++ {
		if forceMask >= 0 && forceMask <= 7 && mask != forceMask {
			continue
		}
		copy(try.dark, base.dark)
		try.applyMask(mask)
		try.drawFormat(mask)
		if s := try.penalty(); best < 0 || s < bestScore {
			best, bestScore = mask, s
		}
	}
	base.applyMask(best)
	base.drawFormat(best)
	modules := make([][]bool, base.size)
	for y := range modules {
		modules[y] = base.dark[y*base.size : (y+1)*base.size : (y+1)*base.size]
	}
	return QR{Version: version, Modules: modules}, nil
}
