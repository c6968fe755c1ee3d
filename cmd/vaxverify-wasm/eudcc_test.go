package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/formats"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// TestEUDCC: the page checks an EU DCC against the bundle's document
// signers and says what vaxverify says with the same signer imported: VALID
// for an upstream test certificate at its validation clock, NOT TRUSTED
// without its signer, INVALID (trust_store_invalid) when the service could
// not read its signers.
func TestEUDCC(t *testing.T) {
	var vec struct {
		Prefix  string `json:"PREFIX"`
		TestCtx struct {
			ValidationClock time.Time `json:"VALIDATIONCLOCK"`
		} `json:"TESTCTX"`
	}
	if err := json.Unmarshal(vectors.Read(t, "dcc", "DE", "2DCode", "raw", "1.json"), &vec); err != nil {
		t.Fatal(err)
	}
	der := vectors.DCCSigner(t, "DE", "2DCode", "raw", "1.json")
	bundle, _ := json.Marshal(Bundle{Issuers: []json.RawMessage{}, DSCs: [][]byte{der}})
	withSigner, err := ParseBundle(bundle)
	if err != nil || withSigner.Signers.Len() != 1 {
		t.Fatalf("bundle with one signer: %v", err)
	}
	unread, err := ParseBundle([]byte(`{"issuers":[],"dscs_error":"could not be read"}`))
	if err != nil || unread.SignersErr == nil {
		t.Fatalf("bundle with a signer error: %v", err)
	}
	dscFile := filepath.Join(t.TempDir(), "dsc.der")
	if err := os.WriteFile(dscFile, der, 0o600); err != nil {
		t.Fatal(err)
	}
	trustDir := t.TempDir()
	if _, err := eudcc.ImportDSC(trustDir, []string{dscFile}); err != nil {
		t.Fatal(err)
	}
	brokenDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(brokenDir, "dsc"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(brokenDir, "dsc", "stray.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := func() time.Time { return vec.TestCtx.ValidationClock }
	for _, tt := range []struct {
		name     string
		page     Trust
		trustDir string
		want     verdict.Status
	}{
		{"signer in the bundle", withSigner, trustDir, verdict.Valid},
		{"no signers", Trust{}, t.TempDir(), verdict.NotTrusted},
		{"signers not read", unread, brokenDir, verdict.Invalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page := newVerifier(tt.page)
			page.Now = at
			got := pageVerdict(t, page, []byte(vec.Prefix))
			if got.Format != formats.EUDCC.Name || got.Status != tt.want {
				t.Fatalf("got %s %s %+v, want %s", got.Format, got.Status, got.Reasons, tt.want)
			}
			if tt.want == verdict.Valid && (got.Subject == nil || got.Subject.Name == "" || len(got.Doses) != 1) {
				t.Errorf("a valid result names the person and the dose: %+v", got)
			}
			cli := &verifier.Verifier{TrustDir: tt.trustDir, Formats: formats.All(), Now: at}
			want := cli.Verify(context.Background(), []byte(vec.Prefix), "test")
			if len(want) != 1 || want[0].Status != got.Status || !reflect.DeepEqual(codes(want[0]), codes(got)) || !reflect.DeepEqual(want[0].Subject, got.Subject) {
				t.Errorf("vaxverify says %+v, the page %+v", want, got)
			}
			if tt.want != verdict.Invalid && !reflect.DeepEqual(want[0].Reasons, got.Reasons) {
				t.Errorf("reasons: vaxverify %+v, the page %+v", want[0].Reasons, got.Reasons)
			}
		})
	}
}

// codes are a result's reason codes (the messages of a trust store error
// differ: the page's comes from the service).
func codes(r verdict.Result) []string {
	var out []string
	for _, f := range r.Reasons {
		out = append(out, f.Code)
	}
	return out
}
