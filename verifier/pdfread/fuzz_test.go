package pdfread

import (
	"bytes"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

func samplePDF(t testing.TB, attach bool) []byte {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Cell(0, 10, "hello")
	if attach {
		pdf.SetAttachments([]fpdf.Attachment{{Content: []byte(`{"verifiableCredential":["a.b.c"]}`), Filename: "c.smart-health-card"}})
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzParse(f *testing.F) {
	f.Add(samplePDF(f, true))
	f.Add(samplePDF(f, false))
	f.Add([]byte("%PDF-1.7\n1 0 obj<</Type/ObjStm/N 1/First 4/Length 9>>stream\n2 0 <<>>\nendstream endobj"))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/EmbeddedFile/Filter/ASCIIHexDecode/Length 6>>stream\n414243\nendstream endobj"))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Subtype/Image/Width 2/Height 2/BitsPerComponent 1/ColorSpace/DeviceGray/Length 2>>stream\n\x80\x40\nendstream endobj"))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Page/Contents 2 0 R>>endobj\n2 0 obj<</Length 60>>stream\nq 0 g 2 0 0 -2 10 10 cm 0 0 1 1 re 2 0 1 1 re 4 4 2 1 re f Q BI /W 1 ID x EI\nendstream endobj"))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := Parse(in)
		if err != nil {
			return
		}
		files, _ := d.EmbeddedFiles()
		for _, file := range files {
			if len(file.Data) > MaxStreamSize {
				t.Fatal("embedded file over the cap")
			}
		}
		d.Images()
		d.VectorImages()
	})
}
