// Package pdfread is a small, bounded PDF reader with one job: get a health
// card out of a certificate PDF. It finds embedded files (document
// attachments, /Type /EmbeddedFile streams) and image XObjects, decoding the
// usual filters (FlateDecode with PNG predictors, ASCIIHexDecode, DCTDecode
// for JPEG images).
//
// It is not a general PDF library: it scans the file for "N G obj" headers
// instead of trusting the cross-reference table (which also copes with
// damaged or incrementally updated files), reads object streams, and ignores
// encryption (an encrypted certificate is not readable offline anyway).
// Every size is capped, so hostile input costs bounded memory and time.
package pdfread

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
)

// Limits on hostile input.
const (
	MaxFileSize     = 64 << 20
	MaxObjects      = 200000
	MaxStreamSize   = 32 << 20 // one decoded stream
	MaxDecodedTotal = 96 << 20 // all decoded streams together
)

// ErrNotPDF is returned for input that does not start with %PDF-.
var ErrNotPDF = errors.New("pdfread: not a PDF file")

// Document is a parsed PDF: its objects by number.
type Document struct {
	objects map[int]any
	decoded int // bytes decoded so far, against MaxDecodedTotal
}

// File is an embedded file (an attachment).
type File struct {
	Name string
	Data []byte
}

var objHeader = regexp.MustCompile(`(\d{1,10})[\x00\t\n\f\r ]+(\d{1,5})[\x00\t\n\f\r ]+obj\b`)

// Parse reads every object of a PDF.
func Parse(data []byte) (*Document, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return nil, ErrNotPDF
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("pdfread: file larger than %d bytes", MaxFileSize)
	}
	d := &Document{objects: map[int]any{}}
	skipUntil := 0
	for _, m := range objHeader.FindAllSubmatchIndex(data, MaxObjects) {
		if m[0] < skipUntil {
			continue // inside a stream we already read
		}
		if m[0] > 0 && !isWhite(data[m[0]-1]) && !isDelim(data[m[0]-1]) {
			continue // digits glued to something else
		}
		num, _ := strconv.Atoi(string(data[m[2]:m[3]]))
		l := &lexer{b: data, pos: m[1]}
		v, err := l.value(0)
		if err != nil {
			continue // damaged object: skip it, keep the rest
		}
		l.skipSpace()
		if dct, ok := v.(dict); ok && bytes.HasPrefix(data[l.pos:], []byte("stream")) {
			raw, end := streamData(data, l.pos+len("stream"), dct)
			if raw == nil {
				continue
			}
			v = &stream{dict: dct, raw: raw}
			skipUntil = end
		}
		d.objects[num] = v
	}
	if len(d.objects) == 0 {
		return nil, fmt.Errorf("pdfread: no objects found")
	}
	d.readObjectStreams()
	return d, nil
}

// streamData returns a stream's raw bytes and the offset after them. The
// /Length is used when it is direct and points at "endstream"; otherwise
// the data runs to the next "endstream".
func streamData(data []byte, pos int, d dict) ([]byte, int) {
	if pos < len(data) && data[pos] == '\r' {
		pos++
	}
	if pos < len(data) && data[pos] == '\n' {
		pos++
	}
	if n, ok := d["Length"].(int64); ok && n >= 0 && int64(pos)+n <= int64(len(data)) {
		end := pos + int(n)
		rest := data[end:]
		rest = bytes.TrimLeft(rest, "\r\n \t")
		if bytes.HasPrefix(rest, []byte("endstream")) {
			return data[pos:end], end
		}
	}
	i := bytes.Index(data[pos:], []byte("endstream"))
	if i < 0 {
		return nil, pos
	}
	raw := data[pos : pos+i]
	raw = bytes.TrimSuffix(raw, []byte("\n"))
	raw = bytes.TrimSuffix(raw, []byte("\r"))
	return raw, pos + i
}

// readObjectStreams adds the objects packed in /Type /ObjStm streams (PDF
// 1.5 compression), without overriding objects stored directly.
func (d *Document) readObjectStreams() {
	nums := make([]int, 0)
	for num, v := range d.objects {
		if s, ok := v.(*stream); ok && s.dict["Type"] == name("ObjStm") {
			nums = append(nums, num)
		}
	}
	sort.Ints(nums)
	for _, num := range nums {
		s := d.objects[num].(*stream)
		data, err := d.decodeStream(s)
		if err != nil {
			continue
		}
		n, _ := s.dict["N"].(int64)
		first, _ := s.dict["First"].(int64)
		if n <= 0 || n > MaxObjects || first <= 0 || first > int64(len(data)) {
			continue
		}
		l := &lexer{b: data[:first]}
		for i := int64(0); i < n && len(d.objects) < MaxObjects; i++ {
			a, err1 := l.value(0)
			b, err2 := l.value(0)
			objNum, ok1 := a.(int64)
			off, ok2 := b.(int64)
			if err1 != nil || err2 != nil || !ok1 || !ok2 || off < 0 || first+off >= int64(len(data)) {
				break
			}
			if _, exists := d.objects[int(objNum)]; exists {
				continue
			}
			ol := &lexer{b: data, pos: int(first + off)}
			if v, err := ol.value(0); err == nil {
				d.objects[int(objNum)] = v
			}
		}
	}
}

// resolve follows indirect references (a bounded number of hops).
func (d *Document) resolve(v any) any {
	for i := 0; i < 16; i++ {
		r, ok := v.(ref)
		if !ok {
			return v
		}
		v = d.objects[r.num]
	}
	return nil
}

// EmbeddedFiles returns every embedded file, decoded, in object order, named
// from the file specification that points at it (UF, else F) when there is
// one.
func (d *Document) EmbeddedFiles() ([]File, error) {
	names := map[int]string{}
	for _, v := range d.objects {
		spec, ok := v.(dict)
		if !ok {
			continue
		}
		ef, ok := d.resolve(spec["EF"]).(dict)
		if !ok {
			continue
		}
		fname := textString(d.resolve(spec["UF"]))
		if fname == "" {
			fname = textString(d.resolve(spec["F"]))
		}
		for _, key := range []string{"UF", "F"} {
			if r, ok := ef[key].(ref); ok && fname != "" {
				names[r.num] = fname
			}
		}
	}
	var out []File
	var firstErr error
	for _, num := range d.sortedNums() {
		s, ok := d.objects[num].(*stream)
		if !ok || s.dict["Type"] != name("EmbeddedFile") {
			continue
		}
		data, err := d.decodeStream(s)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("pdfread: embedded file (object %d): %w", num, err)
			}
			continue
		}
		out = append(out, File{Name: names[num], Data: data})
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func (d *Document) sortedNums() []int {
	nums := make([]int, 0, len(d.objects))
	for n := range d.objects {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	return nums
}

// textString decodes a PDF text string (UTF-16BE with a BOM, or
// PDFDocEncoding, read here as Latin-1).
func textString(v any) string {
	s, ok := v.(str)
	if !ok {
		return ""
	}
	if len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF {
		var runes []rune
		for i := 2; i+1 < len(s); i += 2 {
			runes = append(runes, rune(s[i])<<8|rune(s[i+1]))
		}
		return string(runes)
	}
	r := make([]rune, len(s))
	for i, c := range s {
		r[i] = rune(c)
	}
	return string(r)
}

// decodeStream applies the stream's filters. A trailing DCTDecode is left
// in place (the caller decodes the JPEG); other unknown filters are errors.
func (d *Document) decodeStream(s *stream) ([]byte, error) {
	filters, params := d.filters(s.dict)
	data := s.raw
	for i, f := range filters {
		var err error
		switch f {
		case "FlateDecode", "Fl":
			data, err = inflate(data)
			if err == nil {
				data, err = unpredict(data, params[i])
			}
		case "ASCIIHexDecode", "AHx":
			data, err = asciiHex(data)
		case "DCTDecode", "DCT":
			if i != len(filters)-1 {
				return nil, fmt.Errorf("DCTDecode must be the last filter")
			}
		default:
			return nil, fmt.Errorf("unsupported filter %s", f)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	d.decoded += len(data)
	if d.decoded > MaxDecodedTotal {
		return nil, fmt.Errorf("decoded streams exceed %d bytes", MaxDecodedTotal)
	}
	return data, nil
}

func (d *Document) filters(sd dict) ([]name, []dict) {
	var fs []name
	var ps []dict
	switch f := d.resolve(sd["Filter"]).(type) {
	case name:
		fs = []name{f}
	case array:
		for _, x := range f {
			if n, ok := d.resolve(x).(name); ok {
				fs = append(fs, n)
			}
		}
	}
	switch p := d.resolve(sd["DecodeParms"]).(type) {
	case dict:
		ps = []dict{p}
	case array:
		for _, x := range p {
			pd, _ := d.resolve(x).(dict)
			ps = append(ps, pd)
		}
	}
	for len(ps) < len(fs) {
		ps = append(ps, nil)
	}
	return fs, ps
}

// inflate reads zlib data (what FlateDecode means), falling back to raw
// DEFLATE, which some writers produce. Output is capped.
func inflate(b []byte) ([]byte, error) {
	var r io.ReadCloser
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err == nil {
		r = zr
	} else {
		r = flate.NewReader(bytes.NewReader(b))
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, MaxStreamSize+1))
	if len(out) > MaxStreamSize {
		return nil, fmt.Errorf("stream decodes to more than %d bytes", MaxStreamSize)
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) || len(out) == 0 && err != nil {
		// Truncated streams are common in the wild; keep what decoded.
		return nil, err
	}
	return out, nil
}

func asciiHex(b []byte) ([]byte, error) {
	var digits []byte
	for _, c := range b {
		if c == '>' {
			break
		}
		if !isWhite(c) {
			digits = append(digits, c)
		}
	}
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	out := make([]byte, len(digits)/2)
	_, err := hex.Decode(out, digits)
	return out, err
}

// unpredict undoes PNG predictors (Predictor >= 10); TIFF predictor 2 is
// not supported (no writer we know uses it for images or files).
func unpredict(data []byte, p dict) ([]byte, error) {
	if p == nil {
		return data, nil
	}
	pred, _ := p["Predictor"].(int64)
	if pred <= 1 {
		return data, nil
	}
	if pred < 10 {
		return nil, fmt.Errorf("predictor %d not supported", pred)
	}
	colors, bpc, columns := int64(1), int64(8), int64(1)
	if v, ok := p["Colors"].(int64); ok {
		colors = v
	}
	if v, ok := p["BitsPerComponent"].(int64); ok {
		bpc = v
	}
	if v, ok := p["Columns"].(int64); ok {
		columns = v
	}
	if colors < 1 || colors > 32 || bpc < 1 || bpc > 16 || columns < 1 || columns > 1<<20 {
		return nil, fmt.Errorf("bad predictor parameters")
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((colors*bpc*columns + 7) / 8)
	stride := rowLen + 1
	rows := len(data) / stride
	out := make([]byte, rows*rowLen)
	prev := make([]byte, rowLen)
	for y := 0; y < rows; y++ {
		ft := data[y*stride]
		in := data[y*stride+1 : (y+1)*stride]
		cur := out[y*rowLen : (y+1)*rowLen]
		for x := 0; x < rowLen; x++ {
			var a, c byte
			if x >= bpp {
				a = cur[x-bpp]
				c = prev[x-bpp]
			}
			b := prev[x]
			switch ft {
			case 0:
				cur[x] = in[x]
			case 1:
				cur[x] = in[x] + a
			case 2:
				cur[x] = in[x] + b
			case 3:
				cur[x] = in[x] + byte((int(a)+int(b))/2)
			case 4:
				cur[x] = in[x] + paeth(a, b, c)
			default:
				return nil, fmt.Errorf("bad PNG filter type %d", ft)
			}
		}
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
