package formats

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/eudcc/base45"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

func verifyOne(t *testing.T, v *verifier.Verifier, in []byte) verdict.Result {
	t.Helper()
	rs := v.Verify(context.Background(), in, "test")
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	return rs[0]
}

// An EU DCC QR image goes through the image reader to the eudcc verifier.
func TestDispatchEUDCCImage(t *testing.T) {
	raw, err := os.ReadFile(vectors.Path(t, "dcc", "DE", "2DCode", "raw", "1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vec struct {
		Testctx struct {
			Certificate     string `json:"CERTIFICATE"`
			ValidationClock string `json:"VALIDATIONCLOCK"`
		} `json:"TESTCTX"`
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	img, err := os.ReadFile(vectors.Path(t, "dcc", "DE", "2DCode", "png", "1.png"))
	if err != nil {
		t.Fatal(err)
	}
	clock, err := time.Parse(time.RFC3339, vec.Testctx.ValidationClock)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	v := &verifier.Verifier{TrustDir: dir, Now: func() time.Time { return clock }, Formats: All()}
	if r := verifyOne(t, v, img); r.Format != eudcc.Format || r.Status == verdict.Valid {
		t.Fatalf("untrusted DCC: %+v", r)
	}
	der, err := base64.StdEncoding.DecodeString(vec.Testctx.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(t.TempDir(), "dsc.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	if _, err := eudcc.ImportDSC(dir, []string{certFile}); err != nil {
		t.Fatal(err)
	}
	r := verifyOne(t, v, img)
	if r.Format != eudcc.Format || r.Status != verdict.Valid || r.Source != "test" {
		t.Fatalf("trusted DCC: %+v", r)
	}
}

// A CoWIN QR carries raw ZIP bytes in byte mode: the image reader must hand
// them over byte for byte for the divoc verifier to recognise them.
func TestDispatchCoWINImage(t *testing.T) {
	zip, err := os.ReadFile(vectors.Path(t, "divoc", "samples", "kde-partial-vaccination-zeroed-sig.qr.zip"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := qrcode.New(string(zip), qrcode.Low)
	if err != nil {
		t.Fatal(err)
	}
	img, err := q.PNG(-4)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{zip, img} {
		r := verifyOne(t, &verifier.Verifier{TrustDir: t.TempDir(), Formats: All()}, in)
		if r.Format != "divoc" || r.Status == verdict.Valid || len(r.Reasons) == 0 {
			t.Fatalf("%+v", r)
		}
	}
}

// Without Formats the verifier knows SMART Health Cards only.
func TestSHCOnlyByDefault(t *testing.T) {
	r := verifyOne(t, &verifier.Verifier{}, []byte("HC1:6BF+70790T9WJWG.FKY*4GO0"))
	if r.Format != verifier.FormatUnknown {
		t.Fatalf("%+v", r)
	}
}

// The certificates of other formats in one PDF share its budget with any
// SMART Health Cards: a PDF of thousands of small EU DCC zlib bombs is cut
// off like a file of DEFLATE bombs.
func TestPDFOfEUDCCBombsIsBudgeted(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&bomb, zlib.BestCompression)
	zw.Write(make([]byte, eudcc.MaxCOSESize+1))
	zw.Close()
	hc1 := "HC1:" + base45.Encode(bomb.Bytes())
	var pdf bytes.Buffer
	pdf.WriteString("%PDF-1.7\n")
	const n = 5
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&pdf, "%d 0 obj\n<< /Type /EmbeddedFile /Length %d >>\nstream\n%s\nendstream\nendobj\n", i, len(hc1), hc1)
	}
	v := &verifier.Verifier{Formats: All(), TrustDir: t.TempDir()}
	ctx := verifier.WithInputBudget(context.Background(), (n-2)*verifier.CardCost)
	rs := v.Verify(ctx, pdf.Bytes(), "bombs.pdf")
	if len(rs) != n {
		t.Fatalf("%d results", len(rs))
	}
	for i, r := range rs {
		want := eudcc.CodeZlibInvalid
		if i >= n-2 {
			want = "inflate_budget"
		}
		if r.Format != eudcc.Format || r.Status != verdict.Invalid || len(r.Reasons) == 0 || r.Reasons[0].Code != want {
			t.Fatalf("attachment %d: %s %s %+v, want %s", i+1, r.Format, r.Status, r.Reasons, want)
		}
	}
}
