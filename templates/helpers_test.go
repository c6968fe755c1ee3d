package templates

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/vaxcert/vaxcert/internal/vectors"
)

func sharedTestdata(t testing.TB, rel string) []byte { return vectors.Read(t, rel) }

// qrModules encodes text at error correction level L, as SMART Health
// Cards are, and strips the quiet zone that Bitmap adds.
func qrModules(t testing.TB, text string) [][]bool {
	t.Helper()
	q, err := qrcode.New(text, qrcode.Low)
	if err != nil {
		t.Fatal(err)
	}
	bm := q.Bitmap()
	const quiet = 4
	n := len(bm) - 2*quiet
	mods := make([][]bool, n)
	for y := range mods {
		mods[y] = append([]bool(nil), bm[y+quiet][quiet:quiet+n]...)
	}
	return mods
}

// syntheticSHCText is a realistic QR text: the "shc:/" prefix and 1,200
// digits (a 600-character JWS), deterministic.
func syntheticSHCText() string {
	var b strings.Builder
	b.WriteString("shc:/")
	seed := uint32(2463534242)
	for i := 0; i < 600; i++ {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		pair := seed % 78 // pairs 00..77 encode '-'..'z'
		b.WriteByte(byte('0' + pair/10))
		b.WriteByte(byte('0' + pair%10))
	}
	return b.String()
}

// sampleCertificate is a fictitious beneficiary with two primary doses and
// a precaution dose; its QR and attachment are the SMART Health Cards
// specification's example 00.
func sampleCertificate(t testing.TB) Certificate {
	t.Helper()
	qrText := strings.TrimSpace(string(sharedTestdata(t, "shc/spec/example-00-f-qr-code-numeric-value-0.txt")))
	return Certificate{
		ID:          "6273918450",
		Status:      "precaution",
		IssuedAt:    time.Date(2022, 4, 22, 6, 2, 0, 0, time.UTC),
		Name:        "Priya Raghunathan",
		Gender:      "female",
		BirthDate:   time.Date(1986, 8, 14, 0, 0, 0, 0, time.UTC),
		IDType:      "aadhaar",
		IDMasked:    "XXXX XXXX 4821",
		Passport:    "Z4729183",
		ReferenceID: "73920184615027",
		TotalDoses:  2,
		IssuerURL:   "https://certs.vaxcert.example/shc",
		Doses: []Dose{
			{Number: 1, Vaccine: "COVISHIELD", Manufacturer: "Serum Institute of India", Date: time.Date(2021, 5, 18, 0, 0, 0, 0, time.UTC),
				Batch: "4121Z025", VaccinatedBy: "Sunita Patil", Centre: "Urban Primary Health Centre Kothrud", District: "Pune", State: "Maharashtra"},
			{Number: 2, Vaccine: "COVISHIELD", Manufacturer: "Serum Institute of India", Date: time.Date(2021, 8, 20, 0, 0, 0, 0, time.UTC),
				Batch: "4121Z112", VaccinatedBy: "Rekha Jadhav", Centre: "Urban Primary Health Centre Kothrud", District: "Pune", State: "Maharashtra"},
			{Number: 3, Vaccine: "COVISHIELD", Manufacturer: "Serum Institute of India", Date: time.Date(2022, 4, 22, 0, 0, 0, 0, time.UTC),
				Batch: "4122Z041", VaccinatedBy: "Anil Deshmukh", Centre: "Sassoon General Hospital", District: "Pune", State: "Maharashtra"},
		},
		QR:              qrModules(t, qrText),
		SmartHealthCard: sharedTestdata(t, "shc/spec/example-00-e-file.smart-health-card"),
	}
}

// needTool returns the path of a poppler-utils binary. Without it the test
// is skipped locally, but fails in CI (CI set), where .ci/run installs it.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (poppler-utils): %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install poppler-utils)", name)
	}
	return p
}

// rasterize renders page 1 of pdf to PNG bytes at dpi with pdftoppm.
func rasterize(t testing.TB, pdf []byte, dpi int) []byte {
	t.Helper()
	bin := needTool(t, "pdftoppm")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-png", "-r", itoa(dpi), "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "page"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("pdftoppm complained about the PDF: %s", stderr.String())
	}
	png, err := os.ReadFile(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	return png
}
