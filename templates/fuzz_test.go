package templates

import (
	"errors"
	"testing"
)

// FuzzRenderPDF feeds arbitrary text into the printed fields: the result
// is either a clean ErrInvalid or a PDF that parses strictly, never a
// panic or a broken file.
func FuzzRenderPDF(f *testing.F) {
	base := sampleCertificate(f)
	f.Add("6273918450", "Priya Raghunathan", "Urban Primary Health Centre Kothrud", "4121Z025", "hi")
	f.Add("ID-1", "प्रिया रघुनाथन", "सासून सामान्य रुग्णालय", "X", "en")
	f.Add("a.b_c", "Łukasz Żółć", "Ärztezentrum (Süd)", "B\\1)", "hi")
	f.Add("x", "क्‍ष ज़ि ॐ ॥", "\u200d\u094d", "", "travel")
	f.Add("x", "\x00\xff", "\u202e", "a\tb", "hi")
	f.Add("x", "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", "ँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँँ", "9", "hi")
	f.Fuzz(func(t *testing.T, id, name, centre, batch, mode string) {
		c := base
		c.Doses = append([]Dose(nil), base.Doses...)
		c.ID, c.Name, c.Passport = id, name, name
		c.Doses[0].Centre, c.Doses[0].Batch = centre, batch
		o := Options{Lang: mode}
		if mode == "travel" {
			o = Options{Variant: VariantTravel}
		}
		pdf, err := RenderPDF(c, o)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if _, err := parseTestPDF(pdf); err != nil {
			t.Fatalf("rendered a broken PDF: %v", err)
		}
	})
}

// FuzzAssembly: the assembler parses fpdf's output; on any other bytes it
// must fail cleanly.
func FuzzAssembly(f *testing.F) {
	pdf := render(f, sampleCertificate(f), Options{Lang: "en"})
	f.Add([]byte("%PDF-1.3\n1 0 obj\n<<>>\nendobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<<\n/Size 2\n>>\nstartxref\n35\n%%EOF\n"))
	f.Add([]byte("\nxref\n0 1\n"))
	f.Add(pdf[len(pdf)-400:])
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := newAssembly(data)
		if err != nil {
			return
		}
		if err := a.compressContents(); err != nil {
			return
		}
		a.add([]byte("<<>>"))
		a.bytes()
	})
}
