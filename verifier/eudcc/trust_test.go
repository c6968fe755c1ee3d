package eudcc

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func listEntry(c *x509.Certificate, typ string) map[string]string {
	return map[string]string{
		"kid":             base64.StdEncoding.EncodeToString(KID(c)),
		"rawData":         base64.StdEncoding.EncodeToString(c.Raw),
		"country":         "XX",
		"certificateType": typ,
	}
}

func storedNames(t *testing.T, trustDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(trustDir, dscSubdir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, _ := e.Info()
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", e.Name(), info.Mode().Perm())
		}
	}
	return names
}

func TestImportDSCForms(t *testing.T) {
	a, _ := newDSC(t, dscOptions{})
	b, _ := newDSC(t, dscOptions{key: testRSA})
	c, _ := newDSC(t, dscOptions{key: testOther})
	csca, _ := newDSC(t, dscOptions{key: testP384})

	deList, _ := json.Marshal(map[string]any{"certificates": []any{listEntry(a, ""), listEntry(b, "")}})
	gateway, _ := json.Marshal([]any{listEntry(a, "DSC"), listEntry(csca, "CSCA"), listEntry(c, "DSC")})
	in := t.TempDir()
	folder := filepath.Join(in, "folder")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, folder, "one.pem", pemOf(a))
	writeFile(t, folder, "two.der", b.Raw)
	writeFile(t, folder, ".hidden", []byte("ignored"))

	tests := []struct {
		name  string
		files map[string][]byte
		paths []string // extra paths
		want  []*x509.Certificate
	}{
		{name: "PEM with two certificates", files: map[string][]byte{"x.pem": pemOf(a, b)}, want: []*x509.Certificate{a, b}},
		{name: "DER", files: map[string][]byte{"x.der": a.Raw}, want: []*x509.Certificate{a}},
		{name: "base64 DER text, wrapped", files: map[string][]byte{"x.txt": []byte(wrap76(base64.StdEncoding.EncodeToString(c.Raw)) + "\n")}, want: []*x509.Certificate{c}},
		{name: "base64url DER without padding", files: map[string][]byte{"x.txt": []byte(base64.RawURLEncoding.EncodeToString(b.Raw))}, want: []*x509.Certificate{b}},
		{name: "DE/AT trust list", files: map[string][]byte{"list.json": deList}, want: []*x509.Certificate{a, b}},
		{name: "DE trust list with its signature line", files: map[string][]byte{"list": append([]byte("MEUCIQDx0ShDFGeTfN1Hw6Nn7BkzVzmQj2G+6m3fj3WVGmGKrwIgb3P0Uq6HMhqT6kM0S0pV5sOq0hyDJ0H2JbK1XFMxjYk=\n"), deList...)}, want: []*x509.Certificate{a, b}},
		{name: "EU gateway trust list skips non-DSC entries", files: map[string][]byte{"gw.json": gateway}, want: []*x509.Certificate{a, c}},
		{name: "a folder imports every file in it", paths: []string{folder}, want: []*x509.Certificate{a, b}},
		{name: "duplicates count once", files: map[string][]byte{"1.pem": pemOf(a), "2.der": a.Raw}, want: []*x509.Certificate{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			paths := slices.Clone(tt.paths)
			for name, data := range tt.files {
				paths = append(paths, writeFile(t, dir, name, data))
			}
			trustDir := filepath.Join(t.TempDir(), "trust")
			n, err := ImportDSC(trustDir, paths)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tt.want) {
				t.Fatalf("imported %d, want %d", n, len(tt.want))
			}
			var wantNames []string
			for _, c := range tt.want {
				wantNames = append(wantNames, fingerprint(c)+".pem")
			}
			slices.Sort(wantNames)
			if got := storedNames(t, trustDir); !slices.Equal(got, wantNames) {
				t.Fatalf("stored %v, want %v", got, wantNames)
			}
			store, err := LoadTrustStore(trustDir)
			if err != nil {
				t.Fatal(err)
			}
			if store.Len() != len(tt.want) {
				t.Fatalf("store holds %d", store.Len())
			}
			for _, c := range tt.want {
				if got := store.Lookup(KID(c)); len(got) != 1 || !got[0].Equal(c) {
					t.Fatalf("lookup of %x: %v", KID(c), got)
				}
			}
			// Importing again changes nothing and reports the same count.
			if n2, err := ImportDSC(trustDir, paths); err != nil || n2 != n {
				t.Fatalf("re-import: %d, %v", n2, err)
			}
		})
	}
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

func TestImportDSCRejects(t *testing.T) {
	a, _ := newDSC(t, dscOptions{})
	b, _ := newDSC(t, dscOptions{key: testRSA})
	keyDER, _ := x509.MarshalECPrivateKey(testP256)
	badKid := listEntry(b, "DSC")
	badKid["kid"] = base64.StdEncoding.EncodeToString(KID(a))
	mismatched, _ := json.Marshal(map[string]any{"certificates": []any{listEntry(a, ""), badKid}})
	onlyCSCA, _ := json.Marshal([]any{listEntry(a, "CSCA")})
	edCert := ed25519Cert(t)

	tests := []struct {
		name  string
		data  []byte
		error string
	}{
		{"private key PEM", append(pemOf(a), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...), "only CERTIFICATE"},
		{"list entry whose kid is another certificate's", mismatched, "is not the certificate's kid"},
		{"list without DSCs", onlyCSCA, "no DSC entries"},
		{"JSON of another shape", []byte(`{"keys":[]}`), `no "certificates"`},
		{"garbage", []byte("hello, world!"), "neither PEM"},
		{"empty", []byte("  \n"), "empty"},
		{"truncated DER", a.Raw[:100], "DER certificate"},
		{"Ed25519 certificate", edCert.Raw, "ECDSA or RSA"},
		{"PEM with trailing junk", append(pemOf(a), "junk"...), "malformed PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			good := writeFile(t, dir, "good.pem", pemOf(b))
			bad := writeFile(t, dir, "bad", tt.data)
			trustDir := filepath.Join(t.TempDir(), "trust")
			_, err := ImportDSC(trustDir, []string{good, bad})
			if err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("ImportDSC: %v, want an error containing %q", err, tt.error)
			}
			if _, err := os.Stat(filepath.Join(trustDir, dscSubdir)); !os.IsNotExist(err) {
				t.Fatalf("something was written although an input was bad: %v", err)
			}
		})
	}
	if _, err := ImportDSC("", []string{"x"}); err == nil {
		t.Error("no trust dir accepted")
	}
	if _, err := ImportDSC(t.TempDir(), nil); err == nil {
		t.Error("no paths accepted")
	}
	if _, err := ImportDSC(t.TempDir(), []string{filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("missing file accepted")
	}
}

func ed25519Cert(t *testing.T) *x509.Certificate {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ed"}, NotBefore: testNow, NotAfter: testNow.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadTrustStoreStrict(t *testing.T) {
	a, _ := newDSC(t, dscOptions{})
	b, _ := newDSC(t, dscOptions{key: testRSA})
	good := fingerprint(a) + ".pem"
	tests := []struct {
		name  string
		files map[string][]byte
		ok    bool
	}{
		{"one certificate", map[string][]byte{good: pemOf(a)}, true},
		{"dotfiles are ignored", map[string][]byte{good: pemOf(a), ".import-123": []byte("half")}, true},
		{"unexpected file", map[string][]byte{good: pemOf(a), "README": []byte("hi")}, false},
		{"name is not the fingerprint", map[string][]byte{fingerprint(b) + ".pem": pemOf(a)}, false},
		{"upper-case name", map[string][]byte{strings.ToUpper(fingerprint(a)) + ".pem": pemOf(a)}, false},
		{"two certificates in one file", map[string][]byte{good: pemOf(a, b)}, false},
		{"PEM headers", map[string][]byte{good: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"X": "y"}, Bytes: a.Raw})}, false},
		{"not PEM", map[string][]byte{good: a.Raw}, false},
		{"oversized", map[string][]byte{good: append(pemOf(a), make([]byte, maxDSCFileSize)...)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trustDir := t.TempDir()
			dir := filepath.Join(trustDir, dscSubdir)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range tt.files {
				writeFile(t, dir, name, data)
			}
			store, err := LoadTrustStore(trustDir)
			if (err == nil) != tt.ok {
				t.Fatalf("LoadTrustStore: %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && store.Len() != 1 {
				t.Fatalf("store holds %d", store.Len())
			}
		})
	}
	t.Run("no dsc folder is an empty store", func(t *testing.T) {
		store, err := LoadTrustStore(t.TempDir())
		if err != nil || store.Len() != 0 {
			t.Fatalf("%v, %d", err, store.Len())
		}
	})
	t.Run("a subfolder is unexpected", func(t *testing.T) {
		trustDir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(trustDir, dscSubdir, good), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTrustStore(trustDir); err == nil {
			t.Fatal("accepted")
		}
	})
}

// TestVerifyFromTrustDir is the path `vaxverify` takes: import the upstream
// DE document signer as the base64 text the vector carries, then verify the
// vector's HC1 text from the trust directory.
func TestVerifyFromTrustDir(t *testing.T) {
	var de *vector
	for _, v := range loadVectors(t, testdataDir(t)) {
		if v.path == "DE/2DCode/raw/1.json" {
			de = v
		}
	}
	if de == nil {
		t.Fatal("DE/2DCode/raw/1.json not found")
	}
	clock, err := de.clock()
	if err != nil {
		t.Fatal(err)
	}
	trustDir := t.TempDir()
	r := Verify([]byte(de.PREFIX), trustDir, clock)
	if r.Status != verdict.NotTrusted || !slices.Equal(codes(r.Reasons), []string{CodeKIDUnknown}) || r.Issuer.KID == "" || r.Subject != nil {
		t.Fatalf("empty store: %+v", r)
	}
	certFile := writeFile(t, t.TempDir(), "de-dsc.b64", []byte(de.TESTCTX.Certificate))
	if n, err := ImportDSC(trustDir, []string{certFile}); err != nil || n != 1 {
		t.Fatalf("ImportDSC: %d, %v", n, err)
	}
	r = Verify([]byte(de.PREFIX), trustDir, clock)
	if r.Status != verdict.Valid {
		t.Fatalf("status %s %+v", r.Status, r.Reasons)
	}
	if len(r.Doses) != 1 || r.Doses[0].Vaccine != "Spikevax" || r.Doses[0].Number != 2 || r.Doses[0].Total != 2 || r.Issuer.ID != "DE" {
		t.Fatalf("result %+v", r)
	}
	writeFile(t, filepath.Join(trustDir, dscSubdir), "stray.txt", []byte("x"))
	r = Verify([]byte(de.PREFIX), trustDir, clock)
	if r.Status != verdict.Invalid || !slices.Equal(codes(r.Reasons), []string{CodeTrustStoreInvalid}) {
		t.Fatalf("broken store: %s %+v", r.Status, r.Reasons)
	}
}

func ExampleImportDSC() {
	trustDir, _ := os.MkdirTemp("", "trust")
	defer os.RemoveAll(trustDir)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "DSC"}, NotBefore: testNow, NotAfter: testNow.AddDate(1, 0, 0)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	file := filepath.Join(trustDir, "dsc.der")
	_ = os.WriteFile(file, der, 0o600)

	n, err := ImportDSC(trustDir, []string{file})
	fmt.Println(n, err)
	// Output: 1 <nil>
}

func TestImportRepairsDamagedCopy(t *testing.T) {
	a, _ := newDSC(t, dscOptions{})
	in := writeFile(t, t.TempDir(), "a.pem", pemOf(a))
	trustDir := t.TempDir()
	if _, err := ImportDSC(trustDir, []string{in}); err != nil {
		t.Fatal(err)
	}
	stored := filepath.Join(trustDir, dscSubdir, fingerprint(a)+".pem")
	if err := os.WriteFile(stored, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrustStore(trustDir); err == nil {
		t.Fatal("damaged store loaded")
	}
	if _, err := ImportDSC(trustDir, []string{in}); err != nil {
		t.Fatal(err)
	}
	if store, err := LoadTrustStore(trustDir); err != nil || store.Len() != 1 {
		t.Fatalf("after re-import: %v", err)
	}
}
