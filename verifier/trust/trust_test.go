package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"
)

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseJWKSVectors(t *testing.T) {
	tests := []struct {
		file string
		keys int
		code string
	}{
		{"spec/issuer-well-known-jwks.json", 2, ""},
		{"negative/valid_key.json", 1, ""},
		{"negative/valid_keys.json", 3, ""},
		{"negative/wrong_kid_key.json", 0, "jwk_kid"},
		{"negative/wrong_alg_key.json", 0, "jwk_alg"},
		{"negative/wrong_curve_key.json", 0, "jwk_crv"},
		{"negative/wrong_kty_key.json", 0, "jwk_kty"},
		{"negative/wrong_use_key.json", 0, "jwk_use"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			keys, probs, err := ParseJWKS(readVector(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != tt.keys {
				t.Fatalf("%d keys, want %d (problems %v)", len(keys), tt.keys, probs)
			}
			if tt.code != "" && (len(probs) != 1 || probs[0].Code != tt.code) {
				t.Fatalf("problems %+v, want %s", probs, tt.code)
			}
		})
	}
	keys, _, _ := ParseJWKS(readVector(t, "spec/issuer-well-known-jwks.json"))
	for _, k := range keys {
		if k.Kid == "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s" && k.CRLVersion != 1 {
			t.Fatalf("crlVersion = %d", k.CRLVersion)
		}
	}
	for _, bad := range []string{`[]`, `{}`, `{"keys":{}}`, `not json`} {
		if _, _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	_, probs, _ := ParseJWKS([]byte(`{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","x":"a","y":"b","d":"secret"}]}`))
	if len(probs) != 1 || probs[0].Code != "jwk_private" {
		t.Fatalf("private key: %+v", probs)
	}
}

func TestCRL(t *testing.T) {
	c, err := ParseCRL(readVector(t, "spec/issuer-well-known-crl_3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rid     string
		nbf     float64
		revoked bool
	}{
		{"vwAjHdarZuc", 1687450764.657, true},
		{"vwAjHdarZuc", 1687450765, false},
		{"FKDIxsTCGlU", 9e9, true},
		{"MKyCxh7p6uQ", 1, false},
		{"", 1, false},
	}
	for _, tt := range tests {
		if got := c.Revokes(tt.rid, tt.nbf); got != tt.revoked {
			t.Errorf("Revokes(%q, %v) = %v", tt.rid, tt.nbf, got)
		}
	}
	for _, bad := range []string{
		`{"kid":"k","method":"rid","ctr":0,"rids":[]}`,
		`{"kid":"k","method":"other","ctr":1,"rids":[]}`,
		`{"method":"rid","ctr":1,"rids":[]}`,
		`{"kid":"k","method":"rid","ctr":1}`,
		`{"kid":"k","method":"rid","ctr":1,"rids":["bad rid!"]}`,
		`{"kid":"k","method":"rid","ctr":1,"rids":["abc.12x"]}`,
		`{"kid":"k","method":"rid","ctr":"x","rids":[]}`,
	} {
		if _, err := ParseCRL([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if c, err := ParseCRL([]byte(`{"kid":"k","method":"rid","ctr":"3","rids":[]}`)); err != nil || c.Ctr != 3 {
		t.Fatalf("string ctr: %v %v", c, err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, err := NewKey(&key.PublicKey, 2)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := ParseCRL([]byte(`{"kid":"` + k.Kid + `","method":"rid","ctr":2,"rids":["abc","def.1700000000"]}`))
	is := &Issuer{Iss: "https://issuer.example/path", Name: "Example", Source: "import", UpdatedAt: time.Unix(1700000000, 0).UTC(),
		Keys: map[string]*Key{k.Kid: k}, CRLs: map[string]*CRL{k.Kid: c}}
	if err := SaveIssuer(dir, is); err != nil {
		t.Fatal(err)
	}
	// Other formats' folders are left alone and do not disturb loading.
	os.MkdirAll(filepath.Join(dir, "dsc"), 0o755)
	os.WriteFile(filepath.Join(dir, "dsc", "x.pem"), []byte("junk"), 0o644)
	s, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := s.Lookup(is.Iss)
	if !ok || got.Name != "Example" || got.Key(k.Kid) == nil || !got.Key(k.Kid).Public.Equal(&key.PublicKey) ||
		got.Key(k.Kid).CRLVersion != 2 || got.CRL(k.Kid) == nil || !got.CRL(k.Kid).Revokes("def", 1) || !got.UpdatedAt.Equal(is.UpdatedAt) {
		t.Fatalf("loaded %+v", got)
	}
	if _, ok := s.Lookup("https://issuer.example/path/"); ok {
		t.Fatal("lookup is not exact")
	}
	if s2, err := LoadDir(filepath.Join(dir, "missing")); err != nil || len(s2.Issuers()) != 0 {
		t.Fatalf("missing dir: %v", err)
	}
}

func TestKeysWithKid(t *testing.T) {
	newKey := func() *Key {
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k, err := NewKey(&priv.PublicKey, 0)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a, b := newKey(), newKey()
	again := *a // the same key, parsed again for another issuer
	s := NewStore(
		&Issuer{Iss: "https://a.example", Keys: map[string]*Key{a.Kid: a}},
		&Issuer{Iss: "https://b.example", Keys: map[string]*Key{b.Kid: b}},
		&Issuer{Iss: "https://c.example", Keys: map[string]*Key{a.Kid: &again}},
	)
	if got := s.KeysWithKid(a.Kid); len(got) != 1 || !got[0].Public.Equal(a.Public) {
		t.Fatalf("kid of a: %d keys", len(got))
	}
	if got := s.KeysWithKid(b.Kid); len(got) != 1 || got[0] != b {
		t.Fatalf("kid of b: %d keys", len(got))
	}
	// Keys are found by the map's kid: a key filed under a kid that is not
	// its thumbprint is still a different key from the one that kid names.
	s.Put(&Issuer{Iss: "https://d.example", Keys: map[string]*Key{a.Kid: b}})
	if got := s.KeysWithKid(a.Kid); len(got) != 2 {
		t.Fatalf("kid of a under two keys: %d keys", len(got))
	}
	if s.KeysWithKid("unknown") != nil || (*Store)(nil).KeysWithKid(a.Kid) != nil {
		t.Fatal("an unknown kid found keys")
	}
}

func TestLoadFromFS(t *testing.T) {
	fsys := fstest.MapFS{
		"shc/a.json": {Data: []byte(`{"iss":"https://a.example","name":"A","updated_at":"2024-01-01T00:00:00Z","jwks":` + string(readVector(t, "negative/valid_keys.json")) + `}`)},
		"shc/README": {Data: []byte("not json, not .json")},
	}
	s, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if is, ok := s.Lookup("https://a.example"); !ok || len(is.Keys) != 3 {
		t.Fatalf("%+v", s.Issuers())
	}
	fsys["shc/bad.json"] = &fstest.MapFile{Data: []byte(`{"iss":"http://insecure.example"}`)}
	if _, err := Load(fsys); err == nil {
		t.Fatal("an issuer file with an http iss was loaded")
	}
}

func TestParseVCI(t *testing.T) {
	issuers, _, err := ParseVCI(readVector(t, "negative/test-issuers.json"))
	if err != nil || len(issuers) != 1 || issuers[0].Name != "SMART Health Card specification example issuer" || len(issuers[0].Keys) != 0 {
		t.Fatalf("%+v %v", issuers, err)
	}
	var jwks struct{ Keys json.RawMessage }
	if err := json.Unmarshal(readVector(t, "spec/issuer-well-known-jwks.json"), &jwks); err != nil {
		t.Fatal(err)
	}
	crl := readVector(t, "spec/issuer-well-known-crl_3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json")
	snapshot := []byte(`{"directory":"https://x","time":"2024","issuerInfo":[` +
		`{"issuer":{"iss":"https://spec.smarthealth.cards/examples/issuer","name":"Spec","website":"https://w"},` +
		`"keys":` + string(jwks.Keys) + `,"crls":[` + string(crl) + `],"lastRetrieved":"x"},` +
		`{"issuer":{"iss":"http://bad.example","name":"Bad"},"keys":[]}]}`)
	issuers, notes, err := ParseVCI(snapshot)
	if err != nil {
		t.Fatalf("%v\n%s", err, snapshot)
	}
	if len(issuers) != 1 || len(issuers[0].Keys) != 2 || len(issuers[0].CRLs) != 1 || len(notes) != 1 {
		t.Fatalf("%+v notes %v", issuers, notes)
	}
}
