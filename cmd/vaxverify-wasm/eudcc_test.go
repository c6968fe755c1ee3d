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
// without its signer.
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
	dscFile := filepath.Join(t.TempDir(), "dsc.der")
	os.WriteFile(dscFile, der, 0o600)
	trustDir := t.TempDir()
	if _, err := eudcc.ImportDSC(trustDir, []string{dscFile}); err != nil {
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
			if len(want) != 1 || want[0].Status != got.Status || !reflect.DeepEqual(want[0].Reasons, got.Reasons) || !reflect.DeepEqual(want[0].Subject, got.Subject) {
				t.Errorf("vaxverify says %+v, the page %+v", want, got)
			}
		})
	}
}
