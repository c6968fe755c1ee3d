package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/internal/vectors"
)

// The SMART Health Cards spec publishes its example issuer's JWKS; every kid there is the RFC 7638
// thumbprint of the key, so computing ours from x and y must reproduce it.
func TestThumbprintMatchesSpecExampleJWKS(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectors.Path(t), "shc", "spec", "issuer-well-known-jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) == 0 {
		t.Fatal("no keys in the spec JWKS")
	}
	for _, raw := range set.Keys {
		kid := raw["kid"].(string)
		t.Run(kid, func(t *testing.T) {
			x, err := base64.RawURLEncoding.DecodeString(raw["x"].(string))
			if err != nil {
				t.Fatal(err)
			}
			y, err := base64.RawURLEncoding.DecodeString(raw["y"].(string))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				t.Fatal(err)
			}
			if got := Thumbprint(pub); got != kid {
				t.Errorf("Thumbprint = %s, spec kid %s", got, kid)
			}
			want := JWK{Kty: "EC", Use: "sig", Alg: "ES256", Crv: "P-256", X: raw["x"].(string), Y: raw["y"].(string), KID: kid}
			if got := PublicJWK(pub); got != want {
				t.Errorf("PublicJWK = %+v, want %+v", got, want)
			}
		})
	}
}

func TestThumbprintShapes(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	tests := []struct {
		name    string
		pub     *ecdsa.PublicKey
		wantLen int
		alg     string
	}{
		{"P-256", &p256.PublicKey, 43, "ES256"},
		{"P-384", &p384.PublicKey, 43, "ES384"},
		{"P-224 unsupported", &p224.PublicKey, 0, ""},
		{"nil", nil, 0, ""},
		{"no curve", &ecdsa.PublicKey{}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Thumbprint(tt.pub)
			if len(got) != tt.wantLen {
				t.Errorf("Thumbprint = %q, want %d characters", got, tt.wantLen)
			}
			if jwk := PublicJWK(tt.pub); jwk.Alg != tt.alg || jwk.KID != got {
				t.Errorf("PublicJWK = %+v, want alg %q kid %q", jwk, tt.alg, got)
			}
		})
	}
}

func TestJWKSJSON(t *testing.T) {
	s := openTestStore(t, "", nil)
	empty, _ := json.Marshal(s.JWKS(nil))
	if string(empty) != `{"keys":[]}` {
		t.Errorf("empty JWKS = %s", empty)
	}
	k1 := mustEnsure(t, s)
	k2 := mustRotate(t, s)
	tests := []struct {
		name       string
		crlVersion func(string) int
		want       []string // per key, in order, the crlVersion member or "" when absent
	}{
		{"no CRL", nil, []string{"", ""}},
		{"zero omitted", func(string) int { return 0 }, []string{"", ""}},
		{"one key with CRL", func(kid string) int {
			if kid == k1.KID {
				return 3
			}
			return 0
		}, []string{`,"crlVersion":3`, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(s.JWKS(tt.crlVersion))
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			want.WriteString(`{"keys":[`)
			for i, k := range []Key{k1, k2} {
				if i > 0 {
					want.WriteString(",")
				}
				j := PublicJWK(k.Public)
				want.WriteString(`{"kty":"EC","use":"sig","alg":"ES256","crv":"P-256","x":"` + j.X + `","y":"` + j.Y + `","kid":"` + k.KID + `"` + tt.want[i] + `}`)
			}
			want.WriteString(`]}`)
			if string(data) != want.String() {
				t.Errorf("JWKS JSON\n got %s\nwant %s", data, want.String())
			}
			if strings.Contains(string(data), `"d"`) {
				t.Error(`JWKS has a "d" member`)
			}
		})
	}
}
