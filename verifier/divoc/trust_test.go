package divoc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

const (
	productionFingerprint = "a7062ae1358b75f996247b780ef60c845fbb27dc39a55f122125241611568422"
	devFingerprint        = "2f975886260f860fb38b3d649b6a7d0658e5c24f28e4eafc3a14ca6d9833afae"
)

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fingerprints(keys []Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Fingerprint)
	}
	return out
}

func TestLoadKeyRingBuiltins(t *testing.T) {
	ring, err := LoadKeyRing("")
	if err != nil {
		t.Fatal(err)
	}
	if got := fingerprints(ring.Trusted); len(got) != 1 || got[0] != productionFingerprint {
		t.Errorf("trusted %v, want the production key only", got)
	}
	if got := fingerprints(ring.Known); len(got) != 1 || got[0] != devFingerprint {
		t.Errorf("known %v, want the development key only", got)
	}
	if !ring.Trusted[0].Builtin || ring.Trusted[0].DID != IndiaDID || ring.Trusted[0].Name != IndiaKeyName {
		t.Errorf("built-in key %+v", ring.Trusted[0])
	}
}

func TestDisableBuiltin(t *testing.T) {
	dir := t.TempDir()
	if err := DisableBuiltin(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "did", BuiltinDisabledMarker)); err != nil {
		t.Fatal(err)
	}
	ring, err := LoadKeyRing(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ring.Trusted) != 0 || len(ring.Known) != 2 {
		t.Fatalf("trusted %v known %v", fingerprints(ring.Trusted), fingerprints(ring.Known))
	}
	// Importing the production key explicitly trusts it despite the marker.
	if err := ImportKey(dir, IndiaDID, "India, imported", filepath.Join(testdataDir(t), "keys", "did-india-production.pem")); err != nil {
		t.Fatal(err)
	}
	keys, err := TrustedKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Fingerprint != productionFingerprint || keys[0].Builtin || keys[0].Name != "India, imported" {
		t.Fatalf("trusted %+v", keys)
	}
	// Removing the marker brings the built-in back (deduplicated).
	if err := EnableBuiltin(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "did", BuiltinDisabledMarker)); !os.IsNotExist(err) {
		t.Fatalf("marker still there: %v", err)
	}
	if err := EnableBuiltin(dir); err != nil {
		t.Fatalf("enabling twice: %v", err)
	}
	if keys, _ := TrustedKeys(dir); len(keys) != 1 {
		t.Fatalf("after removing the marker: %d trusted keys, want 1", len(keys))
	}
}

func TestImportKey(t *testing.T) {
	dir := t.TempDir()
	devPEM := filepath.Join(testdataDir(t), "keys", "divoc-dev-test-public.pem")
	if err := ImportKey(dir, "did:india", "first name", devPEM); err != nil {
		t.Fatal(err)
	}
	if err := ImportKey(dir, "did:india", "DIVOC dev", devPEM); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "did", "*.json"))
	if len(files) != 1 || filepath.Base(files[0]) != devFingerprint[:16]+".json" {
		t.Fatalf("files %v", files)
	}
	ring, err := LoadKeyRing(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ring.Trusted) != 2 || ring.Trusted[0].Name != "DIVOC dev" || ring.Trusted[0].Fingerprint != devFingerprint {
		t.Fatalf("trusted %+v", ring.Trusted)
	}
	if len(ring.Known) != 0 {
		t.Errorf("the imported development key is still listed as merely known: %v", fingerprints(ring.Known))
	}
	// PKCS#1 "RSA PUBLIC KEY" is accepted too.
	priv, _ := rsa.GenerateKey(rand.Reader, 2048)
	if err := ImportKey(dir, "did:example:issuer", "PKCS1", writePEM(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&priv.PublicKey))); err != nil {
		t.Fatal(err)
	}
	if keys, _ := TrustedKeys(dir); len(keys) != 3 {
		t.Fatalf("%d trusted keys, want 3", len(keys))
	}
}

func TestImportKeyRefuses(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	smallPub, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	goodPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	good := writePEM(t, "PUBLIC KEY", goodPub)
	twoBlocks := filepath.Join(t.TempDir(), "two.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: goodPub})
	os.WriteFile(twoBlocks, append(block, block...), 0o600)
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)

	tests := []struct {
		name, did, keyName, path, wantErr string
	}{
		{"private key", "did:india", "x", writePEM(t, "PRIVATE KEY", pkcs8), "private key"},
		{"PKCS1 private key", "did:india", "x", writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), "private key"},
		{"EC key", "did:india", "x", writePEM(t, "PUBLIC KEY", ecPub), "RSA"},
		{"1024-bit key", "did:india", "x", writePEM(t, "PUBLIC KEY", smallPub), "1024 bits"},
		{"certificate block", "did:india", "x", writePEM(t, "CERTIFICATE", goodPub), "not a public key"},
		{"two blocks", "did:india", "x", twoBlocks, "more than one"},
		{"not PEM", "did:india", "x", notPEM, "no PEM"},
		{"missing file", "did:india", "x", filepath.Join(t.TempDir(), "absent.pem"), "no such file"},
		{"not a DID", "india", "x", good, "not a DID"},
		{"DID with space", "did:india x", "x", good, "not a DID"},
		{"upper-case method", "did:India", "x", good, "lowercase"},
		{"empty name", "did:india", "  ", good, "name"},
		{"control character in name", "did:india", "a\nb", good, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := ImportKey(dir, tt.did, tt.keyName, tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
			}
			if files, _ := filepath.Glob(filepath.Join(dir, "did", "*")); len(files) != 0 {
				t.Errorf("files written despite the error: %v", files)
			}
		})
	}
	if err := ImportKey("", "did:india", "x", good); err == nil {
		t.Error("accepted an empty trust directory")
	}
}

func TestBrokenTrustStore(t *testing.T) {
	tests := []struct {
		name, content string
	}{
		{"not JSON", "{"},
		{"bad DID", `{"did":"india","name":"x","public_key_pem":""}`},
		{"no key", `{"did":"did:india","name":"x","public_key_pem":""}`},
		{"fingerprint mismatch", func() string {
			raw, _ := os.ReadFile(filepath.Join(testdataDir(t), "keys", "divoc-dev-test-public.pem"))
			return `{"did":"did:india","name":"x","fingerprint_sha256":"00","public_key_pem":` + quote(string(raw)) + `}`
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "did"), 0o755)
			os.WriteFile(filepath.Join(dir, "did", "k.json"), []byte(tt.content), 0o644)
			if _, err := LoadKeyRing(dir); err == nil {
				t.Fatal("a broken key file was accepted")
			}
			res := Verify(readSample(t, "third-march-user-one.qr.zip"), dir, checkAt)
			if res.Status != verdict.Invalid || res.Reasons[0].Code != "trust_store_error" {
				t.Fatalf("got %s %v", res.Status, res.Reasons)
			}
		})
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer("\n", `\n`, `"`, `\"`).Replace(s) + `"`
}
