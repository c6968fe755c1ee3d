package verifier

import (
	"context"
	"testing"

	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// FuzzVerify feeds arbitrary input to the whole dispatch: whatever it is, the
// verifier returns at least one result, and nothing unsigned comes out VALID.
func FuzzVerify(f *testing.F) {
	for _, n := range []string{"spec/example-00-d-jws.txt", "spec/example-00-e-file.smart-health-card",
		"spec/example-00-f-qr-code-numeric-value-0.txt", "spec/example-02-f-qr-code-numeric-value-0.txt",
		"negative/test-example-00-d-jws-utf8_bom_prefix.txt"} {
		f.Add(vector(f, n))
	}
	f.Add([]byte("shc:/1/2/56\nshc:/2/2/56"))
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/EmbeddedFile/Length 3>>stream\nabc\nendstream endobj"))
	v := &Verifier{Trust: trust.NewStore(specIssuer(f, false)), Now: at(afterSpecNBF)}
	f.Fuzz(func(t *testing.T, in []byte) {
		rs := v.Verify(context.Background(), in, "fuzz")
		if len(rs) == 0 {
			t.Fatal("no result")
		}
		for _, r := range rs {
			if r.Status == verdict.Valid && (r.Format != FormatSHC || r.Issuer.ID != specIss) {
				t.Fatalf("VALID result without a trusted SHC signature: %+v", r)
			}
			if r.Status != verdict.Valid && len(r.Reasons) == 0 {
				t.Fatalf("rejection without a reason: %+v", r)
			}
		}
	})
}
