package templates

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"sync"
)

// SHCMediaType is the MIME type of the embedded .smart-health-card file.
const SHCMediaType = "application/smart-health-card"

// fpdf lays the page out; a few things it cannot do (or only slowly) are
// done on its finished, uncompressed output by an assembly:
//
//   - compress the page content with a pooled zlib writer: fpdf allocates a
//     new compressor (about a megabyte) for every stream, which cost more
//     than the whole rest of a render;
//   - add the glyph outlines as Form XObjects, compressed once per process
//     and only copied into each PDF, so every label costs a few bytes of
//     "Do" operators instead of its outlines;
//   - attach the .smart-health-card file with its MIME type and file name
//     (fpdf's attachments have neither).
//
// Every edit is found by an exact, unique pattern of fpdf's output (the
// version is pinned in go.mod and the tests parse the result), and the
// cross-reference table is rebuilt, so the result is a well-formed PDF,
// not one that readers have to repair.
type assembly struct {
	src   []byte
	xref  int   // offset of "xref"
	after int   // offset just past the xref entries ("trailer" follows)
	offs  []int // object offsets from the xref table, index = object number
	edits []span
	objs  [][]byte // bodies of appended objects, numbered from len(offs)
}

// span replaces src[start:end].
type span struct {
	start, end int
	with       []byte
}

func newAssembly(src []byte) (*assembly, error) {
	x := bytes.LastIndex(src, []byte("\nxref\n"))
	if x < 0 {
		return nil, fmt.Errorf("assemble PDF: no xref table")
	}
	a := &assembly{src: src, xref: x + 1}
	rest := src[a.xref+len("xref\n"):]
	sub, rest, ok := cutLine(rest)
	var first, count int
	if !ok {
		return nil, fmt.Errorf("assemble PDF: malformed xref")
	}
	if _, err := fmt.Sscanf(string(sub), "%d %d", &first, &count); err != nil || first != 0 || count < 1 || count > len(rest)/20 {
		return nil, fmt.Errorf("assemble PDF: malformed xref subsection %q", sub)
	}
	a.after = len(src) - len(rest) + 20*count
	a.offs = make([]int, count)
	for i := 1; i < count; i++ {
		entry := rest[20*i : 20*i+20]
		off, err := strconv.Atoi(string(entry[:10]))
		if err != nil || entry[17] != 'n' || off >= a.xref {
			return nil, fmt.Errorf("assemble PDF: bad xref entry %q", entry)
		}
		a.offs[i] = off
	}
	return a, nil
}

// unique returns the offset of the only occurrence of pat in the body.
func (a *assembly) unique(pat string) (int, error) {
	body := a.src[:a.xref]
	i := bytes.Index(body, []byte(pat))
	if i < 0 || bytes.Count(body, []byte(pat)) != 1 {
		return 0, fmt.Errorf("assemble PDF: want exactly one %q in fpdf's output", pat)
	}
	return i, nil
}

// replaceUnique replaces the only occurrence of pat.
func (a *assembly) replaceUnique(pat string, with []byte) error {
	i, err := a.unique(pat)
	if err != nil {
		return err
	}
	a.edits = append(a.edits, span{i, i + len(pat), with})
	return nil
}

// add appends an object and returns its number.
func (a *assembly) add(body []byte) int {
	a.objs = append(a.objs, body)
	return len(a.offs) + len(a.objs) - 1
}

// compressContents deflates the content stream of every page.
func (a *assembly) compressContents() error {
	body := a.src[:a.xref]
	const ref = "/Contents "
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(ref))
		if j < 0 {
			return nil
		}
		i += j + len(ref)
		end := bytes.IndexByte(body[i:], ' ')
		num, err := strconv.Atoi(string(body[i : i+max(end, 0)]))
		if err != nil || num <= 0 || num >= len(a.offs) {
			return fmt.Errorf("assemble PDF: bad /Contents reference")
		}
		obj := a.offs[num]
		head := strconv.Itoa(num) + " 0 obj\n<</Length "
		if !bytes.HasPrefix(body[obj:], []byte(head)) {
			return fmt.Errorf("assemble PDF: content object %d is not an uncompressed stream", num)
		}
		p := obj + len(head)
		k := bytes.IndexByte(body[p:], '>')
		n, err := strconv.Atoi(string(body[p : p+max(k, 0)]))
		if err != nil || !bytes.HasPrefix(body[p+k:], []byte(">>\nstream\n")) {
			return fmt.Errorf("assemble PDF: content object %d has no plain length", num)
		}
		data := p + k + len(">>\nstream\n")
		if data+n > len(body) || !bytes.HasPrefix(body[data+n:], []byte("\nendstream")) {
			return fmt.Errorf("assemble PDF: content object %d is truncated", num)
		}
		var z bytes.Buffer
		deflate(&z, body[data:data+n], zlib.BestSpeed)
		with := make([]byte, 0, z.Len()+64)
		with = fmt.Appendf(with, "<</Filter /FlateDecode /Length %d>>\nstream\n", z.Len())
		with = append(with, z.Bytes()...)
		a.edits = append(a.edits, span{p - len("<</Length "), data + n, with})
	}
}

// bytes writes the assembled PDF.
func (a *assembly) bytes() ([]byte, error) {
	sort.Slice(a.edits, func(i, j int) bool { return a.edits[i].start < a.edits[j].start })
	for i := 1; i < len(a.edits); i++ {
		if a.edits[i].start < a.edits[i-1].end {
			return nil, fmt.Errorf("assemble PDF: overlapping edits")
		}
	}
	size := len(a.offs) + len(a.objs)
	// The trailer's /Size counts the appended objects too.
	tr := bytes.LastIndex(a.src, []byte("\n/Size "))
	if tr < a.after {
		return nil, fmt.Errorf("assemble PDF: no /Size in the trailer")
	}
	nl := bytes.IndexByte(a.src[tr+len("\n/Size "):], '\n')
	if nl < 0 {
		return nil, fmt.Errorf("assemble PDF: malformed trailer")
	}
	trEnd := tr + len("\n/Size ") + nl

	out := make([]byte, 0, len(a.src)+16<<10)
	shift := func(off int) int {
		delta := 0
		for _, e := range a.edits {
			if e.start < off {
				delta += len(e.with) - (e.end - e.start)
			}
		}
		return off + delta
	}
	prev := 0
	for _, e := range a.edits {
		out = append(out, a.src[prev:e.start]...)
		out = append(out, e.with...)
		prev = e.end
	}
	out = append(out, a.src[prev:a.xref]...)
	newOffs := make([]int, len(a.objs))
	for i, body := range a.objs {
		newOffs[i] = len(out)
		out = strconv.AppendInt(out, int64(len(a.offs)+i), 10)
		out = append(out, " 0 obj\n"...)
		out = append(out, body...)
		out = append(out, "\nendobj\n"...)
	}
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 %d\n0000000000 65535 f \n", size)
	for _, off := range a.offs[1:] {
		out = fmt.Appendf(out, "%010d 00000 n \n", shift(off))
	}
	for _, off := range newOffs {
		out = fmt.Appendf(out, "%010d 00000 n \n", off)
	}
	out = append(out, a.src[a.after:tr]...)
	out = fmt.Appendf(out, "\n/Size %d", size)
	sx := bytes.LastIndex(a.src, []byte("startxref\n"))
	if sx < trEnd {
		return nil, fmt.Errorf("assemble PDF: no startxref")
	}
	out = append(out, a.src[trEnd:sx]...)
	out = fmt.Appendf(out, "startxref\n%d\n%%%%EOF\n", xref)
	return out, nil
}

func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// attach embeds file as a document attachment named name, with the MIME
// type and checksum that readers and verifiers look for.
func (a *assembly) attach(name, mime, desc string, file []byte, mod string) error {
	var z bytes.Buffer
	deflate(&z, file, zlib.BestSpeed)
	sum := md5.Sum(file)
	ef := fmt.Appendf(nil, "<</Type /EmbeddedFile /Subtype /%s /Filter /FlateDecode /Length %d /Params <</Size %d /CheckSum <%s> /ModDate %s>> >>\nstream\n",
		pdfName(mime), z.Len(), len(file), hex.EncodeToString(sum[:]), pdfString(mod))
	ef = append(ef, z.Bytes()...)
	ef = append(ef, "\nendstream"...)
	efNum := a.add(ef)
	fsNum := a.add(fmt.Appendf(nil, "<</Type /Filespec /F %s /UF %s /Desc %s /AFRelationship /Data /EF <</F %d 0 R /UF %d 0 R>> >>",
		pdfString(name), pdfString(name), pdfString(desc), efNum, efNum))
	// fpdf always writes an empty embedded-files name tree.
	return a.replaceUnique("/EmbeddedFiles << /Names [\n  \n] >>",
		fmt.Appendf(nil, "/EmbeddedFiles << /Names [%s %d 0 R] >>", pdfString(name), fsNum))
}

// addXObjects lists named XObjects in the page resources (fpdf writes an
// empty /XObject dictionary when it has no images of its own).
func (a *assembly) addXObjects(names []string, bodies [][]byte) error {
	if len(names) == 0 {
		return nil
	}
	var dict []byte
	dict = append(dict, "/XObject <<\n"...)
	for i, n := range names {
		dict = fmt.Appendf(dict, "/%s %d 0 R\n", n, a.add(bodies[i]))
	}
	dict = append(dict, ">>"...)
	return a.replaceUnique("/XObject <<\n>>", dict)
}

// Compressors are pooled per level: a zlib writer holds about a megabyte of
// state, far more than the documents it compresses.
var deflaters = map[int]*sync.Pool{}

func init() {
	for _, level := range []int{zlib.BestSpeed, zlib.BestCompression} {
		deflaters[level] = &sync.Pool{New: func() any {
			w, _ := zlib.NewWriterLevel(nil, level)
			return w
		}}
	}
}

// deflate zlib-compresses data into dst with a pooled writer. Per-render
// streams use zlib.BestSpeed (level 6 costs four times the CPU for 25%
// fewer bytes); what is compressed once per process uses BestCompression.
func deflate(dst *bytes.Buffer, data []byte, level int) {
	pool := deflaters[level]
	w := pool.Get().(*zlib.Writer)
	w.Reset(dst)
	w.Write(data) // writes to a bytes.Buffer cannot fail
	w.Close()
	pool.Put(w)
}

// pdfString writes s as a PDF literal string; s is printable ASCII here
// (certificate IDs are checked), so only the delimiters need escaping.
func pdfString(s string) string {
	var b bytes.Buffer
	b.WriteByte('(')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', ')', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// pdfName writes s as the body of a PDF name ('/' of a MIME type becomes
// #2F).
func pdfName(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > '~' || bytes.IndexByte([]byte("#()<>[]{}/%"), c) >= 0 {
			fmt.Fprintf(&b, "#%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
