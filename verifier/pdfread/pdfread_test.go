package pdfread

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestEmbeddedFileFromFpdf(t *testing.T) {
	content := []byte(`{"verifiableCredential":["a.b.c"]}`)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetAttachments([]fpdf.Attachment{{Content: content, Filename: "card.smart-health-card"}})
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	d, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	files, err := d.EmbeddedFiles()
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", files, err)
	}
	if files[0].Name != "card.smart-health-card" || !bytes.Equal(files[0].Data, content) {
		t.Fatalf("%q %q", files[0].Name, files[0].Data)
	}
}

// A PDF 1.5 file whose dictionaries sit in an object stream and whose
// embedded file uses a PNG predictor and an indirect /Length.
func TestObjectStreamAndPredictor(t *testing.T) {
	content := []byte("hello embedded world, hello embedded world")
	// PNG "Up" predictor, 6 columns, one byte per pixel.
	var predicted []byte
	prev := make([]byte, 6)
	for i := 0; i < len(content); i += 6 {
		row := make([]byte, 6)
		copy(row, content[i:min(i+6, len(content))])
		predicted = append(predicted, 2)
		for j := range row {
			predicted = append(predicted, row[j]-prev[j])
		}
		prev = row
	}
	stream := zlibBytes(predicted)
	objs := "4 0 5 40 "
	inner := objs + "<</Type/Filespec/UF (x.txt)/EF<</F 3 0 R>>>> <</Type/Catalog>>"
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	fmt.Fprintf(&b, "1 0 obj<</Type/ObjStm/N 2/First %d/Length %d>>stream\n%s\nendstream endobj\n", len(objs), len(inner), inner)
	fmt.Fprintf(&b, "3 0 obj<</Type/EmbeddedFile/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 6>>/Length 6 0 R>>stream\n")
	b.Write(stream)
	fmt.Fprintf(&b, "\nendstream\nendobj\n6 0 obj %d endobj\n%%%%EOF\n", len(stream))
	d, err := Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	files, err := d.EmbeddedFiles()
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", files, err)
	}
	got := files[0].Data[:len(content)]
	if !bytes.Equal(got, content) || files[0].Name != "x.txt" {
		t.Fatalf("%q %q", files[0].Name, files[0].Data)
	}
}

func TestImagesFromFpdf(t *testing.T) {
	// A two-colour paletted PNG (fpdf writes it as an Indexed image with a
	// PNG predictor) and an RGB one.
	pal := image.NewPaletted(image.Rect(0, 0, 8, 4), color.Palette{color.White, color.Black})
	pal.SetColorIndex(1, 1, 1)
	rgb := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for i := range rgb.Pix {
		rgb.Pix[i] = 255
	}
	rgb.Set(2, 1, color.Black)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	for i, img := range []image.Image{pal, rgb} {
		var buf bytes.Buffer
		png.Encode(&buf, img)
		name := fmt.Sprint("img", i)
		pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, &buf)
		pdf.ImageOptions(name, 10, 10+float64(i)*50, 40, 0, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		t.Fatal(err)
	}
	d, err := Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	imgs := d.Images()
	if len(imgs) != 2 {
		t.Fatalf("%d images", len(imgs))
	}
	check := func(img image.Image, w, h, bx, by int) {
		t.Helper()
		if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Fatalf("size %v", img.Bounds())
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				lum := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
				if dark := lum < 128; dark != (x == bx && y == by) {
					t.Fatalf("pixel %d,%d = %d", x, y, lum)
				}
			}
		}
	}
	// fpdf writes images in map order, so the two may come either way round.
	if imgs[0].Bounds().Dx() != 8 {
		imgs[0], imgs[1] = imgs[1], imgs[0]
	}
	check(imgs[0], 8, 4, 1, 1)
	check(imgs[1], 5, 3, 2, 1)
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse([]byte("not a pdf")); err != ErrNotPDF {
		t.Fatal(err)
	}
	if _, err := Parse([]byte("%PDF-1.4\nno objects here")); err == nil {
		t.Fatal("no objects accepted")
	}
	// A decompression bomb inside an embedded file is capped.
	bomb := zlibBytes(make([]byte, MaxStreamSize+10))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%PDF-1.4\n1 0 obj<</Type/EmbeddedFile/Filter/FlateDecode/Length %d>>stream\n", len(bomb))
	b.Write(bomb)
	b.WriteString("\nendstream endobj\n")
	d, err := Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if files, err := d.EmbeddedFiles(); err == nil || len(files) != 0 {
		t.Fatalf("bomb decoded: %d files, %v", len(files), err)
	}
}
