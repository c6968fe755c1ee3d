package trust

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vaxcert/vaxcert/internal/vectors"
)

// vectorDir is ../shared/testdata/shc.
func vectorDir(t testing.TB) string { return vectors.Path(t, "shc") }

func seed(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(vectorDir(f), n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseJWKS(f *testing.F) {
	seed(f, "spec/issuer-well-known-jwks.json", "negative/valid_keys.json", "negative/wrong_kid_key.json",
		"negative/wrong_kty_key.json", "negative/wrong_curve_key.json")
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		keys, probs, err := ParseJWKS(in)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.Public == nil || k.Kid == "" {
				t.Fatalf("usable key without a public key: %+v", k)
			}
		}
		for _, p := range probs {
			if p.Code == "" {
				t.Fatalf("problem without a code: %+v", p)
			}
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	seed(f, "spec/issuer-well-known-crl_3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json")
	f.Add([]byte(`{"kid":"k","method":"rid","ctr":"1","rids":["a.1","a.99999999999999999999"]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParseCRL(in)
		if err != nil {
			return
		}
		if c.Ctr < 1 || c.Kid == "" {
			t.Fatalf("accepted %+v", c)
		}
		for _, rid := range c.RIDs {
			c.Revokes(rid, 0)
		}
	})
}

func FuzzParseIssuerFile(f *testing.F) {
	f.Add([]byte(`{"iss":"https://x.example","name":"X","updated_at":"2024-01-01T00:00:00Z","jwks":{"keys":[]},"crls":[]}`))
	f.Add([]byte(`{"iss":"http://x.example"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		is, err := ParseIssuerFile(in)
		if err != nil {
			return
		}
		if _, err := MarshalIssuerFile(is); err != nil {
			t.Fatalf("cannot write back what was read: %v", err)
		}
	})
}

func FuzzParseVCI(f *testing.F) {
	seed(f, "negative/test-issuers.json")
	f.Add([]byte(`{"issuerInfo":[{"issuer":{"iss":"https://a.example","name":"A"},"keys":[{"kty":"EC"}],"crls":[{}]}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		issuers, _, err := ParseVCI(in)
		if err != nil {
			return
		}
		for _, is := range issuers {
			if is.Iss == "" || is.Keys == nil || is.CRLs == nil {
				t.Fatalf("incomplete issuer %+v", is)
			}
		}
	})
}
