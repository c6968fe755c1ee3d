package templates

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// testPDF is a deliberately small, independent reader of the classic PDFs
// this package writes: it follows the cross-reference table strictly (no
// repair), so a wrong offset fails the test instead of being tolerated.
type testPDF struct {
	data    []byte
	objects map[int][]byte // object number -> body between "N 0 obj\n" and "endobj"
	trailer []byte
}

var (
	reXrefHead = regexp.MustCompile(`^xref\n0 (\d+)\n`)
	reRef      = func(key string) *regexp.Regexp { return regexp.MustCompile(`/` + key + ` (\d+) 0 R`) }
)

func parseTestPDF(data []byte) (*testPDF, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-1.")) {
		return nil, fmt.Errorf("no PDF header")
	}
	if !bytes.HasSuffix(data, []byte("%%EOF\n")) {
		return nil, fmt.Errorf("no %%%%EOF at the end")
	}
	sx := bytes.LastIndex(data, []byte("startxref\n"))
	if sx < 0 {
		return nil, fmt.Errorf("no startxref")
	}
	end := bytes.IndexByte(data[sx+10:], '\n')
	xref, err := strconv.Atoi(string(data[sx+10 : sx+10+end]))
	if err != nil || xref >= len(data) {
		return nil, fmt.Errorf("bad startxref")
	}
	m := reXrefHead.FindSubmatch(data[xref:])
	if m == nil {
		return nil, fmt.Errorf("startxref does not point at an xref table")
	}
	n, _ := strconv.Atoi(string(m[1]))
	entries := data[xref+len(m[0]):]
	p := &testPDF{data: data, objects: map[int][]byte{}}
	for i := 0; i < n; i++ {
		e := entries[20*i : 20*i+20]
		if e[18] != ' ' || e[19] != '\n' {
			return nil, fmt.Errorf("xref entry %d is not 20 bytes: %q", i, e)
		}
		if i == 0 {
			continue
		}
		off, err := strconv.Atoi(string(e[:10]))
		if err != nil || e[17] != 'n' {
			return nil, fmt.Errorf("xref entry %d: %q", i, e)
		}
		head := fmt.Sprintf("%d 0 obj\n", i)
		if !bytes.HasPrefix(data[off:], []byte(head)) {
			return nil, fmt.Errorf("xref entry %d points at %q", i, data[off:min(off+20, len(data))])
		}
		body := data[off+len(head):]
		stop := bytes.Index(body, []byte("endobj"))
		if stop < 0 {
			return nil, fmt.Errorf("object %d has no endobj", i)
		}
		p.objects[i] = body[:stop]
	}
	t := bytes.Index(entries[20*n:], []byte("trailer\n"))
	if t < 0 {
		return nil, fmt.Errorf("no trailer")
	}
	p.trailer = entries[20*n+t : bytes.Index(entries, []byte("startxref"))]
	if size := regexp.MustCompile(`/Size (\d+)`).FindSubmatch(p.trailer); size == nil || string(size[1]) != strconv.Itoa(n) {
		return nil, fmt.Errorf("trailer /Size does not match the xref table (%d)", n)
	}
	return p, nil
}

// ref follows "/key N 0 R" in dict.
func (p *testPDF) ref(dict []byte, key string) ([]byte, int, error) {
	m := reRef(key).FindSubmatch(dict)
	if m == nil {
		return nil, 0, fmt.Errorf("no /%s reference", key)
	}
	n, _ := strconv.Atoi(string(m[1]))
	obj, ok := p.objects[n]
	if !ok {
		return nil, 0, fmt.Errorf("/%s points at missing object %d", key, n)
	}
	return obj, n, nil
}

// stream returns an object's stream data, inflated if it is FlateDecode,
// checking that /Length is exact.
func (p *testPDF) stream(obj []byte) ([]byte, error) {
	m := regexp.MustCompile(`/Length (\d+)`).FindSubmatch(obj)
	if m == nil {
		return nil, fmt.Errorf("stream without /Length")
	}
	n, _ := strconv.Atoi(string(m[1]))
	i := bytes.Index(obj, []byte(">>\nstream\n"))
	if i < 0 {
		return nil, fmt.Errorf("no stream keyword")
	}
	data := obj[i+len(">>\nstream\n"):]
	if len(data) < n || !bytes.HasPrefix(data[n:], []byte("\nendstream")) {
		return nil, fmt.Errorf("/Length %d does not end at endstream", n)
	}
	data = data[:n]
	if !bytes.Contains(obj[:i], []byte("/FlateDecode")) {
		return data, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// embeddedFile is a document attachment as read back.
type embeddedFile struct {
	key, fileName, uf, subtype string
	checksum                   string
	size                       int
	data                       []byte
}

// attachments reads the EmbeddedFiles name tree of the catalog.
func (p *testPDF) attachments() ([]embeddedFile, error) {
	root, _, err := p.ref(p.trailer, "Root")
	if err != nil {
		return nil, err
	}
	tree := regexp.MustCompile(`/EmbeddedFiles << /Names \[\s*((?:\([^)]*\) \d+ 0 R\s*)*)\] >>`).FindSubmatch(root)
	if tree == nil {
		return nil, fmt.Errorf("catalog has no EmbeddedFiles name tree: %s", root)
	}
	var files []embeddedFile
	for _, m := range regexp.MustCompile(`\(([^)]*)\) (\d+) 0 R`).FindAllSubmatch(tree[1], -1) {
		n, _ := strconv.Atoi(string(m[2]))
		spec := p.objects[n]
		f := embeddedFile{key: string(m[1])}
		if v := regexp.MustCompile(`/F \(([^)]*)\)`).FindSubmatch(spec); v != nil {
			f.fileName = string(v[1])
		}
		if v := regexp.MustCompile(`/UF \(([^)]*)\)`).FindSubmatch(spec); v != nil {
			f.uf = string(v[1])
		}
		ef, _, err := p.ref(spec, "F")
		if err != nil {
			return nil, fmt.Errorf("filespec %d: %w", n, err)
		}
		if v := regexp.MustCompile(`/Subtype /(\S+)`).FindSubmatch(ef); v != nil {
			f.subtype = string(v[1])
		}
		if v := regexp.MustCompile(`/CheckSum <([0-9a-f]+)>`).FindSubmatch(ef); v != nil {
			f.checksum = string(v[1])
		}
		if v := regexp.MustCompile(`/Params <</Size (\d+)`).FindSubmatch(ef); v != nil {
			f.size, _ = strconv.Atoi(string(v[1]))
		}
		if f.data, err = p.stream(ef); err != nil {
			return nil, fmt.Errorf("embedded file: %w", err)
		}
		files = append(files, f)
	}
	return files, nil
}

// pageContent returns the inflated content stream of page 1.
func (p *testPDF) pageContent() ([]byte, error) {
	for _, obj := range p.objects {
		if bytes.HasPrefix(obj, []byte("<</Type /Page\n")) {
			c, _, err := p.ref(obj, "Contents")
			if err != nil {
				return nil, err
			}
			return p.stream(c)
		}
	}
	return nil, fmt.Errorf("no page")
}
