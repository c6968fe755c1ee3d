package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/divoc"
	"github.com/vaxcert/vaxcert/verifier/formats"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// divocSample reads ../shared/testdata/divoc/samples/name.
func divocSample(t *testing.T, name string) []byte { return vectors.Read(t, "divoc", "samples", name) }

// pdfWithImage is a one-page PDF showing png, as a CoWIN certificate PDF
// shows its QR code.
func pdfWithImage(t *testing.T, png []byte) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	pdf.ImageOptions("qr", 60, 60, 90, 0, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pageVerdict(t *testing.T, v *verifier.Verifier, in []byte) verdict.Result {
	t.Helper()
	var results []verdict.Result
	if err := json.Unmarshal([]byte(verifyJSON(v, in, "test")), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("%d results: %+v", len(results), results)
	}
	return results[0]
}

// The page checks CoWIN certificates with no trust bundle at all (the
// Government of India key is in the module), from the QR's ZIP bytes as
// the page's QR reader hands them over, from a QR image or PDF the module
// reads itself, and from certificate.json; and it gives the verdict
// vaxverify gives for the same bytes.
func TestCoWIN(t *testing.T) {
	zipped := divocSample(t, "third-march-user-one.qr.zip")
	who, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(divocSample(t, "third-march-user-one.qr.txt"))), "B64:"))
	if err != nil || !bytes.Equal(who, zipped) {
		t.Fatalf("the .qr.txt sample is not the .qr.zip sample: %v", err)
	}
	png, err := qrcode.Encode(string(zipped), qrcode.Low, 512)
	if err != nil {
		t.Fatal(err)
	}
	cert := divocSample(t, "third-march-user-one.certificate.json")
	forged := bytes.Replace(cert, []byte("Third March User One"), []byte("Third March User Two"), 1)
	if bytes.Equal(forged, cert) {
		t.Fatal("the sample does not hold the name")
	}

	tests := []struct {
		name   string
		input  []byte
		want   verdict.Status
		reason string // the first reason's code, when not valid
	}{
		{"production-signed QR ZIP", zipped, verdict.Valid, ""},
		{"its QR image", png, verdict.Valid, ""},
		{"a PDF showing that image", pdfWithImage(t, png), verdict.Valid, ""},
		{"its certificate.json", cert, verdict.Valid, ""},
		{"name changed after signing", vectors.CoWINQR(t, forged), verdict.Invalid, "signature_invalid"},
		{"DIVOC development key", vectors.CoWINQR(t, divocSample(t, "divoc-signer-test-devkey-2021-01-15.certificate.json")), verdict.NotTrusted, "key_unknown"},
		{"development key, space in id", divocSample(t, "divoc-signer-test-devkey-space-in-id.certificate.json"), verdict.NotTrusted, "key_unknown"},
		{"all-zero signature", divocSample(t, "kde-partial-vaccination-zeroed-sig.qr.zip"), verdict.Invalid, "signature_invalid"},
	}
	page := newVerifier(Trust{}) // before, or without, a trust bundle
	cli := &verifier.Verifier{TrustDir: t.TempDir(), Formats: formats.All()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pageVerdict(t, page, tt.input)
			if got.Format != divoc.Format || got.Status != tt.want {
				t.Fatalf("got %s %s %+v, want %s", got.Format, got.Status, got.Reasons, tt.want)
			}
			if tt.want != verdict.Valid && (len(got.Reasons) == 0 || got.Reasons[0].Code != tt.reason) {
				t.Errorf("reasons %+v, want %s first", got.Reasons, tt.reason)
			}
			if tt.want == verdict.Valid {
				if got.Subject == nil || got.Subject.Name != "Third March User One" || got.Subject.Age != "65" ||
					len(got.Doses) != 1 || got.Doses[0].Number != 1 || got.Doses[0].Total != 2 || got.Doses[0].Vaccine == "" {
					t.Errorf("a valid result names the person, the age and the dose: %+v", got)
				}
				if got.Issuer.Name != divoc.IndiaKeyName {
					t.Errorf("issuer %+v, want %s", got.Issuer, divoc.IndiaKeyName)
				}
			}
			want := cli.Verify(context.Background(), tt.input, "test")
			if len(want) != 1 || want[0].Status != got.Status || !reflect.DeepEqual(want[0].Reasons, got.Reasons) || !reflect.DeepEqual(want[0].Subject, got.Subject) {
				t.Errorf("vaxverify says %+v, the page %+v", want, got)
			}
		})
	}
}

func TestBuiltinIssuers(t *testing.T) {
	if got := builtinIssuers(); !reflect.DeepEqual(got, []string{divoc.IndiaKeyName}) {
		t.Fatalf("built-in issuers %q", got)
	}
}
