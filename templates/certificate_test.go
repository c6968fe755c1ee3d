package templates

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/vaxcert/vaxcert/internal/vectors"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/sample-certificate.{pdf,png}")

// renderCase is one variant and language; every test that checks a
// property of the output runs over all of them.
type renderCase struct {
	name string
	opts Options
}

func allCases(t testing.TB) []renderCase {
	t.Helper()
	langs := Languages()
	if len(langs) < 2 {
		t.Fatalf("Languages() = %v, want at least en and hi", langs)
	}
	var cases []renderCase
	for _, l := range langs {
		cases = append(cases, renderCase{"standard-" + l, Options{Lang: l}})
	}
	cases = append(cases, renderCase{"travel", Options{Variant: VariantTravel}})
	return cases
}

func render(t testing.TB, c Certificate, o Options) []byte {
	t.Helper()
	pdf, err := RenderPDF(c, o)
	if err != nil {
		t.Fatalf("RenderPDF(%+v): %v", o, err)
	}
	return pdf
}

func TestRenderEveryVariantAndLanguage(t *testing.T) {
	c := sampleCertificate(t)
	for _, tc := range allCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			pdf := render(t, c, tc.opts)
			p, err := parseTestPDF(pdf)
			if err != nil {
				t.Fatalf("the PDF does not parse strictly: %v", err)
			}
			content, err := p.pageContent()
			if err != nil {
				t.Fatal(err)
			}
			// English text is real text: the certificate ID and the name are
			// searchable strings in the content stream.
			for _, want := range []string{"(" + c.ID + ") Tj", "(" + c.Name + ") Tj", "(" + c.ReferenceID + ") Tj"} {
				if !bytes.Contains(content, []byte(want)) {
					t.Errorf("content has no %s", want)
				}
			}
			travel := tc.opts.Variant == VariantTravel
			bilingual := !travel && tc.opts.Lang != "en"
			hasGlyphs := bytes.Contains(content, []byte(" Do\n"))
			if hasGlyphs != bilingual {
				t.Errorf("shaped glyphs drawn = %v, want %v (bilingual)", hasGlyphs, bilingual)
			}
			checkContains := func(s string, want bool) {
				t.Helper()
				if got := bytes.Contains(content, []byte(s)); got != want {
					t.Errorf("content contains %q = %v, want %v", s, got, want)
				}
			}
			checkContains("("+c.Passport+") Tj", travel)
			checkContains("(14 Aug 1986) Tj", travel)
			checkContains("(Aadhaar # "+c.IDMasked+") Tj", !travel)
			checkContains("(35 years) Tj", !travel)
		})
	}
}

// TestDeterministic renders each case twice, also concurrently, and
// compares SHA-256 sums; then compares them with the golden sums.
func TestDeterministic(t *testing.T) {
	c := sampleCertificate(t)
	var lines []string
	for _, tc := range allCases(t) {
		first := sha256.Sum256(render(t, c, tc.opts))
		var wg sync.WaitGroup
		sums := make([][32]byte, 4)
		for i := range sums {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pdf, err := RenderPDF(c, tc.opts)
				if err != nil {
					t.Error(err)
					return
				}
				sums[i] = sha256.Sum256(pdf)
			}()
		}
		wg.Wait()
		for i, s := range sums {
			if s != first {
				t.Errorf("%s: render %d differs from the first", tc.name, i)
			}
		}
		lines = append(lines, fmt.Sprintf("%x  %s", first, tc.name))
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "golden.sha256")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update)", err)
	}
	if got != string(want) {
		t.Errorf("rendered bytes changed; if intended, run go test ./templates -update\ngot:\n%swant:\n%s", got, want)
	}
}

// The PDF's creation date is IssuedAt, not the time of rendering.
func TestCreationDateIsIssuedAt(t *testing.T) {
	c := sampleCertificate(t)
	pdf := render(t, c, Options{})
	for _, want := range []string{"/CreationDate (D:20220422060200)", "/ModDate (D:20220422060200)"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("PDF has no %s", want)
		}
	}
}

func TestAttachmentRoundTrip(t *testing.T) {
	c := sampleCertificate(t)
	for _, tc := range allCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			pdf := render(t, c, tc.opts)
			p, err := parseTestPDF(pdf)
			if err != nil {
				t.Fatal(err)
			}
			files, err := p.attachments()
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 {
				t.Fatalf("%d attachments, want 1", len(files))
			}
			f := files[0]
			name := c.ID + ".smart-health-card"
			sum := md5.Sum(c.SmartHealthCard)
			for _, chk := range []struct{ what, got, want string }{
				{"name tree key", f.key, name},
				{"/F", f.fileName, name},
				{"/UF", f.uf, name},
				{"MIME /Subtype", f.subtype, "application#2Fsmart-health-card"},
				{"/CheckSum", f.checksum, hex.EncodeToString(sum[:])},
			} {
				if chk.got != chk.want {
					t.Errorf("%s = %q, want %q", chk.what, chk.got, chk.want)
				}
			}
			if f.size != len(c.SmartHealthCard) || !bytes.Equal(f.data, c.SmartHealthCard) {
				t.Errorf("attachment bytes differ from the .smart-health-card file (size %d, want %d)", f.size, len(c.SmartHealthCard))
			}
		})
	}
}

// pdfdetach (poppler) is an independent reader of the attachment.
func TestAttachmentWithPdfdetach(t *testing.T) {
	bin := needTool(t, "pdfdetach")
	c := sampleCertificate(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "cert.pdf")
	if err := os.WriteFile(in, render(t, c, Options{}), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command(bin, "-list", in).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfdetach -list: %v: %s", err, list)
	}
	if want := "1: " + c.ID + ".smart-health-card"; !strings.Contains(string(list), want) {
		t.Errorf("pdfdetach -list = %q, want it to name %q", list, want)
	}
	out := filepath.Join(dir, "out.smart-health-card")
	if msg, err := exec.Command(bin, "-save", "1", "-o", out, in).CombinedOutput(); err != nil || len(msg) > 0 {
		t.Fatalf("pdfdetach -save: %v: %s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, c.SmartHealthCard) {
		t.Errorf("pdfdetach extracted %d bytes that differ from the %d-byte file", len(got), len(c.SmartHealthCard))
	}
}

// pdfinfo must read the file without repairing it.
func TestPdfinfoClean(t *testing.T) {
	bin := needTool(t, "pdfinfo")
	c := sampleCertificate(t)
	for _, tc := range allCases(t) {
		in := filepath.Join(t.TempDir(), "cert.pdf")
		if err := os.WriteFile(in, render(t, c, tc.opts), 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, in)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s: pdfinfo: %v: %s", tc.name, err, stderr.String())
		}
		for _, want := range []string{"Pages:           1", "A4", "PDF version:     1.4", "Title:           Certificate for Vaccination " + c.ID} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s: pdfinfo has no %q:\n%s", tc.name, want, stdout.String())
			}
		}
	}
}

// TestQRScansFromRenderedPage rasterises page 1 with pdftoppm and decodes
// the QR from the whole page image with ZXing, for a synthetic 1,200-digit
// card and for the specification's example, in every variant and language.
func TestQRScansFromRenderedPage(t *testing.T) {
	needTool(t, "pdftoppm")
	texts := map[string]string{
		"synthetic-1200-digits": syntheticSHCText(),
		"spec-example-00":       strings.TrimSpace(string(sharedTestdata(t, "shc/spec/example-00-f-qr-code-numeric-value-0.txt"))),
	}
	base := sampleCertificate(t)
	for name, text := range texts {
		c := base
		c.QR = qrModules(t, text)
		for _, tc := range allCases(t) {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				if got := decodePageQR(t, render(t, c, tc.opts)); got != text {
					t.Errorf("decoded %d characters that differ from the %d-character SHC text", len(got), len(text))
				}
			})
		}
	}
}

// decodePageQR rasterises page 1 at 200 dpi and decodes the one QR code on
// it with ZXing.
func decodePageQR(t *testing.T, pdf []byte) string {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(rasterize(t, pdf, 200)))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR decoded from the rendered page: %v", err)
	}
	return res.GetText()
}

// withDoses extends the sample to n doses (precaution doses repeated).
func withDoses(c Certificate, n int) Certificate {
	c.Doses = append([]Dose(nil), c.Doses...)
	for len(c.Doses) < n {
		d := c.Doses[len(c.Doses)-1]
		d.Number++
		c.Doses = append(c.Doses, d)
	}
	return c
}

// The QR must be at least 40 mm wide on paper, also in the compact layout
// that makes room for six doses; its cm operator holds the module size in
// points.
func TestQRSize(t *testing.T) {
	base := sampleCertificate(t)
	for _, tt := range []struct {
		doses   int
		wantMM  float64
		compact bool
	}{{3, qrSizeRoomy, false}, {maxDoses, qrSizeCompact, true}} {
		c := withDoses(base, tt.doses)
		pdf := render(t, c, Options{})
		p, err := parseTestPDF(pdf)
		if err != nil {
			t.Fatal(err)
		}
		content, err := p.pageContent()
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`q 0 g ([0-9.]+) 0 0 -([0-9.]+) [0-9.]+ [0-9.]+ cm\n`).FindSubmatch(content)
		if m == nil {
			t.Fatal("no QR drawing in the content stream")
		}
		var module float64
		fmt.Sscan(string(m[1]), &module)
		width := module * float64(len(c.QR)) / pointsPerMM
		if width < 40 || width < tt.wantMM-0.01 || width > tt.wantMM+0.01 {
			t.Errorf("%d doses: QR is %.2f mm wide, want %.0f (and at least 40)", tt.doses, width, tt.wantMM)
		}
		if tt.compact {
			if _, err := exec.LookPath("pdftoppm"); err == nil || os.Getenv("CI") != "" {
				want := strings.TrimSpace(string(sharedTestdata(t, "shc/spec/example-00-f-qr-code-numeric-value-0.txt")))
				if got := decodePageQR(t, pdf); got != want {
					t.Errorf("compact QR decodes to different text")
				}
			}
		}
	}
}

func TestInvalidInput(t *testing.T) {
	good := sampleCertificate(t)
	tests := []struct {
		name   string
		mutate func(*Certificate, *Options)
		want   string
	}{
		{"unknown variant", func(c *Certificate, o *Options) { o.Variant = "pocket" }, "unknown variant"},
		{"unknown language", func(c *Certificate, o *Options) { o.Lang = "xx" }, "unknown language"},
		{"unknown language on travel", func(c *Certificate, o *Options) { o.Variant, o.Lang = VariantTravel, "xx" }, "unknown language"},
		{"empty ID", func(c *Certificate, o *Options) { c.ID = "" }, "certificate ID"},
		{"ID with slash", func(c *Certificate, o *Options) { c.ID = "a/b" }, "certificate ID"},
		{"ID with paren", func(c *Certificate, o *Options) { c.ID = "a(b" }, "certificate ID"},
		{"dot ID", func(c *Certificate, o *Options) { c.ID = ".hidden" }, "certificate ID"},
		{"status", func(c *Certificate, o *Options) { c.Status = "booster" }, "status"},
		{"no issue time", func(c *Certificate, o *Options) { c.IssuedAt = time.Time{} }, "IssuedAt"},
		{"gender", func(c *Certificate, o *Options) { c.Gender = "m" }, "gender"},
		{"born after issue", func(c *Certificate, o *Options) { c.BirthDate = c.IssuedAt.Add(24 * time.Hour) }, "BirthDate"},
		{"no name", func(c *Certificate, o *Options) { c.Name = "  " }, "Name is required"},
		{"newline in name", func(c *Certificate, o *Options) { c.Name = "Priya\nR" }, "control character"},
		{"invalid UTF-8", func(c *Certificate, o *Options) { c.Name = "Priya \xff" }, "UTF-8"},
		{"long name", func(c *Certificate, o *Options) { c.Name = strings.Repeat("A", 121) }, "at most 120"},
		{"unprintable character", func(c *Certificate, o *Options) { c.Name = "Priya \U0001F600" }, "cannot be printed"},
		{"ID type", func(c *Certificate, o *Options) { c.IDType = "library_card" }, "ID type"},
		{"no masked ID", func(c *Certificate, o *Options) { c.IDMasked = "" }, "IDMasked is required"},
		{"travel without passport", func(c *Certificate, o *Options) { o.Variant, c.Passport = VariantTravel, "" }, "Passport is required"},
		{"no doses", func(c *Certificate, o *Options) { c.Doses = nil }, "doses"},
		{"too many doses", func(c *Certificate, o *Options) { *c = withDoses(*c, maxDoses+1) }, "doses"},
		{"dose order", func(c *Certificate, o *Options) { c.Doses[1].Number = 1 }, "increase"},
		{"dose without date", func(c *Certificate, o *Options) { c.Doses[0].Date = time.Time{} }, "date is required"},
		{"dose without batch", func(c *Certificate, o *Options) { c.Doses[2].Batch = "" }, "Batch is required"},
		{"total doses", func(c *Certificate, o *Options) { c.TotalDoses = 0 }, "TotalDoses"},
		{"no QR", func(c *Certificate, o *Options) { c.QR = nil }, "QR"},
		{"QR not a version size", func(c *Certificate, o *Options) { c.QR = squareBitmap(30) }, "QR"},
		{"QR not square", func(c *Certificate, o *Options) { c.QR = squareBitmap(25); c.QR[3] = c.QR[3][:24] }, "QR"},
		{"no SMART Health Card", func(c *Certificate, o *Options) { c.SmartHealthCard = nil }, "SmartHealthCard"},
		{"SMART Health Card not JSON", func(c *Certificate, o *Options) { c.SmartHealthCard = []byte("shc:/123") }, "SmartHealthCard"},
		{"too long for the page", func(c *Certificate, o *Options) {
			*c = withDoses(*c, maxDoses)
			for i := range c.Doses {
				c.Doses[i].Centre = strings.Repeat("Centre ", 14)
				c.Doses[i].VaccinatedBy = strings.Repeat("Name ", 19)
			}
		}, "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			c.Doses = append([]Dose(nil), good.Doses...)
			var o Options
			tt.mutate(&c, &o)
			pdf, err := RenderPDF(c, o)
			if err == nil {
				t.Fatalf("rendered %d bytes, want an error", len(pdf))
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func squareBitmap(n int) [][]bool {
	m := make([][]bool, n)
	for i := range m {
		m[i] = make([]bool, n)
	}
	return m
}

// Names in other scripts than Latin are shaped with the fonts shipped, even
// on an English-only certificate; Latin beyond WinAnsi falls back to Noto
// Sans.
func TestDataInOtherScripts(t *testing.T) {
	c := sampleCertificate(t)
	for _, name := range []string{"प्रिया रघुनाथन", "Łukasz Żółć", "Zoë Ångström"} {
		for _, lang := range []string{"en", "hi"} {
			c.Name = name
			pdf := render(t, c, Options{Lang: lang})
			if _, err := parseTestPDF(pdf); err != nil {
				t.Errorf("%s/%s: %v", name, lang, err)
			}
		}
	}
}

func TestAgeAt(t *testing.T) {
	at := time.Date(2022, 4, 22, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		birth time.Time
		want  int
	}{
		{time.Date(1986, 8, 14, 0, 0, 0, 0, time.UTC), 35},
		{time.Date(1986, 4, 22, 0, 0, 0, 0, time.UTC), 36},
		{time.Date(1986, 4, 23, 0, 0, 0, 0, time.UTC), 35},
		{time.Date(2022, 4, 22, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(2004, 2, 29, 0, 0, 0, 0, time.UTC), 18},
	} {
		if got := ageAt(tt.birth, at); got != tt.want {
			t.Errorf("ageAt(%s) = %d, want %d", tt.birth.Format(time.DateOnly), got, tt.want)
		}
	}
}

// Dates are printed in India Standard Time by default: a dose recorded at
// 20:00 UTC on 17 May happened on 18 May in India.
func TestDatesInIST(t *testing.T) {
	c := sampleCertificate(t)
	c.Doses[0].Date = time.Date(2021, 5, 17, 20, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		loc  *time.Location
		want string
	}{{nil, "(18 May 2021) Tj"}, {time.UTC, "(17 May 2021) Tj"}} {
		p, err := parseTestPDF(render(t, c, Options{Lang: "en", Location: tt.loc}))
		if err != nil {
			t.Fatal(err)
		}
		content, _ := p.pageContent()
		if !bytes.Contains(content, []byte(tt.want)) {
			t.Errorf("location %v: content has no %s", tt.loc, tt.want)
		}
	}
}

// TestSample keeps docs/sample-certificate.pdf equal to what the renderer
// makes of the sample beneficiary; -update rewrites it and its page-1
// preview docs/sample-certificate.png (pdftoppm, 100 dpi).
func TestSample(t *testing.T) {
	c := sampleCertificate(t)
	pdf := render(t, c, Options{})
	docs := filepath.Join(vectors.RepoRoot(t), "docs")
	pdfPath := filepath.Join(docs, "sample-certificate.pdf")
	if *update {
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pdfPath, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, "sample-certificate.png"), rasterize(t, pdf, 100), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(pdfPath)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -run TestSample -update)", err)
	}
	if !bytes.Equal(got, pdf) {
		t.Errorf("docs/sample-certificate.pdf is stale; run go test ./templates -run TestSample -update")
	}
}
