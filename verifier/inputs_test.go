package verifier

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// ownCard signs a card with a fresh key and returns it with a verifier that
// trusts that key.
func ownCard(t *testing.T) (string, *Verifier) {
	t.Helper()
	own := newOwnIssuer(t, "https://vaxcert.example/issuer", 0)
	jws, err := shc.Sign(own.key, own.kid, samplePayload(t, own.issuer.Iss, time.Now().Add(-time.Hour), "Ab3_-x", "210", "210"))
	if err != nil {
		t.Fatal(err)
	}
	return jws, &Verifier{Trust: trust.NewStore(own.issuer)}
}

func TestOwnCardFromEveryInput(t *testing.T) {
	jws, v := ownCard(t)
	file, err := shc.MarshalFile(jws)
	if err != nil {
		t.Fatal(err)
	}
	qrPNG, err := shc.QRPNG(jws, 4)
	if err != nil {
		t.Fatal(err)
	}
	photo := photoLike(t, qrPNG)
	pdfWithFile := certificatePDF(t, file, qrPNG)
	pdfQROnly := certificatePDF(t, nil, qrPNG)
	pdfPhotoQR := certificatePDF(t, nil, photo)
	qr, err := shc.QRCode(jws)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"numeric text", []byte(shc.QRText(jws))},
		{"jws", []byte(jws)},
		{"file", file},
		{"qr png", qrPNG},
		{"photo-like jpeg", photo},
		{"pdf attachment", pdfWithFile},
		{"pdf page qr (png)", pdfQROnly},
		{"pdf page qr (jpeg photo)", pdfPhotoQR},
		{"pdf page qr (vector, one path)", vectorQRPDF(t, qr, true)},
		{"pdf page qr (vector, one rectangle per module)", vectorQRPDF(t, qr, false)},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			r := verifyOne(t, v, in.data)
			if r.Status != verdict.Valid || r.Subject == nil || r.Subject.Name != "Sunita Devi" || len(r.Doses) != 2 ||
				r.Doses[0].Vaccine != "AstraZeneca COVID-19 (Vaxzevria / COVISHIELD)" {
				t.Fatalf("%s %v %+v", r.Status, r.Reasons, r)
			}
		})
	}
}

// photoLike makes a phone-photo of a QR: downscaled, rotated by 11 degrees,
// low contrast on a grey background, blurred, with sensor noise, saved as a
// JPEG.
func photoLike(t *testing.T, qrPNG []byte) []byte {
	t.Helper()
	src, err := png.Decode(bytes.NewReader(qrPNG))
	if err != nil {
		t.Fatal(err)
	}
	sb := src.Bounds()
	lum := func(x, y float64) float64 {
		ix, iy := int(x), int(y)
		if ix < 0 || iy < 0 || ix >= sb.Dx()-1 || iy >= sb.Dy()-1 {
			return 1
		}
		fx, fy := x-float64(ix), y-float64(iy)
		at := func(x, y int) float64 {
			r, _, _, _ := src.At(sb.Min.X+x, sb.Min.Y+y).RGBA()
			return float64(r) / 0xffff
		}
		return at(ix, iy)*(1-fx)*(1-fy) + at(ix+1, iy)*fx*(1-fy) + at(ix, iy+1)*(1-fx)*fy + at(ix+1, iy+1)*fx*fy
	}
	const scale = 0.62 // ~2.5 pixels per module
	angle := 11 * math.Pi / 180
	side := int(float64(sb.Dx())*scale*1.25) + 40
	out := image.NewGray(image.Rect(0, 0, side, side))
	cx, cy := float64(side)/2, float64(side)/2
	sin, cos := math.Sin(angle), math.Cos(angle)
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			sx := (cos*dx+sin*dy)/scale + float64(sb.Dx())/2
			sy := (-sin*dx+cos*dy)/scale + float64(sb.Dy())/2
			v := 55 + 150*lum(sx, sy) + rng.NormFloat64()*6
			out.Pix[y*out.Stride+x] = uint8(math.Max(0, math.Min(255, v)))
		}
	}
	blurred := image.NewGray(out.Bounds())
	for y := 1; y < side-1; y++ {
		for x := 1; x < side-1; x++ {
			s := 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					w := 1
					if dx == 0 && dy == 0 {
						w = 4
					}
					s += w * int(out.Pix[(y+dy)*out.Stride+x+dx])
				}
			}
			blurred.Pix[y*blurred.Stride+x] = uint8(s / 12)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, blurred, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// certificatePDF lays out a certificate page with the QR image and, when
// file is not nil, the .smart-health-card file as a document attachment.
func certificatePDF(t *testing.T, file []byte, qrImage []byte) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.Cell(0, 10, "Certificate of vaccination")
	typ := "PNG"
	if bytes.HasPrefix(qrImage, []byte{0xFF, 0xD8}) {
		typ = "JPG"
	}
	pdf.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: typ}, bytes.NewReader(qrImage))
	pdf.ImageOptions("qr", 60, 40, 90, 0, false, fpdf.ImageOptions{ImageType: typ}, 0, "")
	if file != nil {
		pdf.SetAttachments([]fpdf.Attachment{{Content: file, Filename: "certificate.smart-health-card"}})
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// vectorQRPDF draws the QR as filled rectangles, either as our template
// does (one path, flipped y) or with fpdf's Rect (a path per module).
func vectorQRPDF(t *testing.T, qr shc.QR, onePath bool) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Cell(0, 10, "Scan to verify")
	if onePath {
		var b strings.Builder
		b.WriteString("q 0 g 2.04 0 0 -2.04 371.3 643.4 cm\n")
		for y, row := range qr.Modules {
			for x, dark := range row {
				if dark {
					fmt.Fprintf(&b, "%d %d 1 1 re\n", x, y)
				}
			}
		}
		b.WriteString("f Q\n")
		pdf.RawWriteStr(b.String())
	} else {
		pdf.SetFillColor(0, 0, 0)
		for y, row := range qr.Modules {
			for x, dark := range row {
				if dark {
					pdf.Rect(40+float64(x)*0.8, 60+float64(y)*0.8, 0.8, 0.8, "F")
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPDFWithoutCard(t *testing.T) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.Cell(0, 10, "no card here")
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	r := verifyOne(t, &Verifier{}, buf.Bytes())
	if r.Status != verdict.Invalid || !hasCode(r.Reasons, "pdf_no_card") {
		t.Fatalf("%+v", r)
	}
}

func TestImageWithoutQR(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	r := verifyOne(t, &Verifier{}, buf.Bytes())
	if r.Status != verdict.Invalid || !hasCode(r.Reasons, "qr_not_found") {
		t.Fatalf("%+v", r)
	}
	_ = color.Gray{}
}

func TestFileWithSeveralCards(t *testing.T) {
	jws, v := ownCard(t)
	file, _ := shc.MarshalFile(jws, jws)
	rs := v.Verify(context.Background(), file, "f")
	if len(rs) != 2 || rs[0].Source != "f#1" || rs[1].Status != verdict.Valid {
		t.Fatalf("%+v", rs)
	}
}

func TestQRTooLargeForOneCode(t *testing.T) {
	// A QR text is limited to 1195 characters; the same JWS in a file is not.
	jws := string(vector(t, "spec", "example-02-d-jws.txt"))
	v := &Verifier{Trust: trust.NewStore(specIssuer(t, false)), Now: at(afterSpecNBF)}
	r := verifyOne(t, v, []byte(shc.QRText(jws)))
	if r.Status != verdict.Invalid || !hasCode(r.Reasons, "qr_too_large") {
		t.Fatalf("%s %v", r.Status, codes(r.Reasons))
	}
}

// The sample certificate the templates produce (docs/): its PDF (through
// the attachment, and through the vector QR once the attachment is made
// unrecognisable) and the PNG rendered from its page.
func TestSampleCertificate(t *testing.T) {
	pdfBytes, err1 := os.ReadFile(filepath.Join(vectors.RepoRoot(t), "docs", "sample-certificate.pdf"))
	pngBytes, err2 := os.ReadFile(filepath.Join(vectors.RepoRoot(t), "docs", "sample-certificate.png"))
	if err1 != nil || err2 != nil {
		t.Skip("docs/sample-certificate.{pdf,png} not present")
	}
	v := &Verifier{Trust: trust.NewStore(specIssuer(t, false)), Now: at(afterSpecNBF)}
	noAttachment := bytes.ReplaceAll(pdfBytes, []byte("/EmbeddedFile"), []byte("/EmbeddedFilX"))
	for name, in := range map[string][]byte{"pdf": pdfBytes, "pdf without attachment": noAttachment, "page png": pngBytes} {
		t.Run(name, func(t *testing.T) {
			r := verifyOne(t, v, in)
			if r.Status != verdict.Valid || r.Subject == nil || r.Subject.Name == "" {
				t.Fatalf("%s %v", r.Status, codes(r.Reasons))
			}
		})
	}
}
