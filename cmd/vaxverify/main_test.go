package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/trust"
)

const specIss = "https://spec.smarthealth.cards/examples/issuer"

// shcVector is a path below ../shared/testdata/shc.
func shcVector(t *testing.T, parts ...string) string {
	return vectors.Path(t, append([]string{"shc"}, parts...)...)
}

// failingTransport fails every request and counts them.
type failingTransport struct{ calls atomic.Int32 }

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, errors.New("network disabled in this test")
}

type run struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, e env, stdin string, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	e.stdin = strings.NewReader(stdin)
	e.stdout, e.stderr = &out, &errb
	if e.getenv == nil {
		e.getenv = func(string) string { return "" }
	}
	code := realMain(context.Background(), args, e)
	return run{code, out.String(), errb.String()}
}

// specTrust imports the spec issuer into a fresh trust directory the way
// scripts do.
func specTrust(t *testing.T, e env) string {
	t.Helper()
	dir := t.TempDir()
	r := runCLI(t, e, "", "trust", "import", "--trust", dir, "--iss", specIss, "--name", "Spec issuer",
		"--crl", shcVector(t, "spec", "issuer-well-known-crl_3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"),
		shcVector(t, "spec", "issuer-well-known-jwks.json"))
	if r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	return dir
}

func TestVerifyExitCodes(t *testing.T) {
	net := &failingTransport{}
	prev := http.DefaultTransport
	http.DefaultTransport = net // belt and braces: nothing may reach the network
	defer func() { http.DefaultTransport = prev }()
	e := env{transport: net}
	dir := specTrust(t, e)
	at := "--at=2023-07-01T00:00:00Z"
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout []string
		stderr string
	}{
		{"valid jws", []string{"verify", "--trust", dir, at, shcVector(t, "spec", "example-00-d-jws.txt")}, "", 0,
			[]string{"VALID", "John B. Anyperson", "1951-01-20", "Spec issuer", "Moderna"}, ""},
		{"flags after input", []string{"verify", shcVector(t, "spec", "example-01-e-file.smart-health-card"), "--trust", dir, at}, "", 0, []string{"VALID"}, ""},
		{"stdin", []string{"verify", "--trust", dir, at, "-"}, mustRead(t, shcVector(t, "spec", "example-00-f-qr-code-numeric-value-0.txt")) + "\n", 0, []string{"VALID"}, ""},
		{"revoked", []string{"verify", "--trust", dir, at, shcVector(t, "spec", "example-03-d-jws.txt")}, "", 1, []string{"INVALID", "[revoked]"}, ""},
		{"chunks as separate inputs", []string{"verify", "--trust", dir, at,
			shcVector(t, "spec", "example-02-f-qr-code-numeric-value-2.txt"),
			shcVector(t, "spec", "example-02-f-qr-code-numeric-value-0.txt"),
			shcVector(t, "spec", "example-02-f-qr-code-numeric-value-1.txt")}, "", 0, []string{"VALID", "[qr_chunked]"}, ""},
		{"batch with summary", []string{"verify", "--trust", dir, at, shcVector(t, "spec", "example-00-d-jws.txt"), shcVector(t, "spec", "example-03-d-jws.txt")}, "", 1,
			[]string{"2 checked: 1 valid, 1 invalid, 0 not trusted"}, ""},
		{"not trusted", []string{"verify", "--trust", t.TempDir(), at, shcVector(t, "spec", "example-00-d-jws.txt")}, "", 1, []string{"NOT TRUSTED", "[issuer_untrusted]"}, ""},
		{"minimal", []string{"verify", "--minimal", "--trust", dir, at, shcVector(t, "spec", "example-00-d-jws.txt")}, "", 0, []string{"John B. Anyperson"}, ""},
		{"missing file", []string{"verify", "--trust", dir, "/nonexistent/card.txt"}, "", 2, nil, "cannot read /nonexistent/card.txt"},
		{"bad --at", []string{"verify", "--trust", dir, "--at", "yesterday", shcVector(t, "spec", "example-00-d-jws.txt")}, "", 2, nil, "RFC 3339"},
		{"no input", []string{"verify", "--trust", dir}, "", 2, nil, "at least one INPUT"},
		{"unknown flag", []string{"verify", "--bogus", "x"}, "", 2, nil, "bogus"},
		{"unknown command", []string{"frobnicate"}, "", 2, nil, "unknown command"},
		{"no command", nil, "", 2, nil, "missing command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, e, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			if tt.stderr != "" && !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q: %s", tt.stderr, r.stderr)
			}
			if tt.code == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("usage/I-O error is more than a line or two: %q", r.stderr)
			}
			if tt.name == "minimal" && (strings.Contains(r.stdout, "dose") || strings.Contains(r.stdout, "lot")) {
				t.Errorf("--minimal shows doses:\n%s", r.stdout)
			}
		})
	}
	if n := net.calls.Load(); n != 0 {
		t.Fatalf("verify made %d network calls", n)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVerifyJSON(t *testing.T) {
	e := env{transport: &failingTransport{}}
	dir := specTrust(t, e)
	r := runCLI(t, e, "", "verify", "--json", "--trust", dir, "--at", "2025-01-01T00:00:00Z",
		shcVector(t, "spec", "example-00-d-jws.txt"), shcVector(t, "spec", "example-03-d-jws.txt"))
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rep struct {
		SchemaVersion int `json:"schema_version"`
		Results       []struct {
			Source  string `json:"source"`
			Format  string `json:"format"`
			Status  string `json:"status"`
			Reasons []struct {
				Code string `json:"code"`
			} `json:"reasons"`
			Issuer struct {
				ID, Name string
			} `json:"issuer"`
			Subject *struct {
				Name      string `json:"name"`
				BirthDate string `json:"birth_date"`
			} `json:"subject"`
			Doses []map[string]any `json:"doses"`
		} `json:"results"`
		Summary Summary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if rep.SchemaVersion != 1 || len(rep.Results) != 2 || rep.Summary != (Summary{Total: 2, Valid: 1, Invalid: 1}) {
		t.Fatalf("%+v", rep)
	}
	a, b := rep.Results[0], rep.Results[1]
	if a.Status != "valid" || a.Format != "shc" || a.Subject.Name != "John B. Anyperson" || len(a.Doses) != 3 || a.Issuer.ID != specIss {
		t.Fatalf("%+v", a)
	}
	if b.Status != "invalid" || len(b.Reasons) != 2 || b.Reasons[0].Code != "revoked" || b.Reasons[1].Code != "expired" {
		t.Fatalf("%+v", b)
	}
}

func TestTrustImportRejectsBadKeys(t *testing.T) {
	e := env{}
	for _, f := range []string{"wrong_kid_key.json", "wrong_alg_key.json", "wrong_curve_key.json", "wrong_kty_key.json", "wrong_use_key.json"} {
		t.Run(f, func(t *testing.T) {
			dir := t.TempDir()
			r := runCLI(t, e, "", "trust", "import", "--trust", dir, "--iss", "https://x.example", shcVector(t, "negative", f))
			if r.code != 1 || !strings.Contains(r.stderr, "no usable ES256 signing key") {
				t.Fatalf("%+v", r)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, trust.Subdir)); len(entries) != 0 {
				t.Fatal("something was written")
			}
		})
	}
	for _, f := range []string{"valid_key.json", "valid_keys.json"} {
		r := runCLI(t, e, "", "trust", "import", "--trust", t.TempDir(), "--iss", "https://x.example", shcVector(t, "negative", f))
		if r.code != 0 {
			t.Fatalf("%s: %+v", f, r)
		}
	}
	bad := [][]string{
		{"trust", "import", "--iss", "http://x.example", shcVector(t, "negative", "valid_key.json")},
		{"trust", "import", "--iss", "https://x.example/", shcVector(t, "negative", "valid_key.json")},
		{"trust", "import", shcVector(t, "negative", "valid_key.json")},
		{"trust", "import", "--iss", "https://x.example"},
		{"trust", "nope"},
	}
	for _, args := range bad {
		if r := runCLI(t, e, "", append(args, "--trust", t.TempDir())...); r.code != 2 {
			t.Errorf("%v: exit %d (%s)", args, r.code, r.stderr)
		}
	}
}

func TestTrustImportVCIAndList(t *testing.T) {
	e := env{}
	dir := t.TempDir()
	r := runCLI(t, e, "", "trust", "import", "--trust", dir, "--vci", shcVector(t, "negative", "test-issuers.json"))
	if r.code != 0 || !strings.Contains(r.stdout, "trusted 1 issuer") {
		t.Fatalf("%+v", r)
	}
	// Listed by the VCI directory but without keys: the card's key is unknown.
	r = runCLI(t, e, "", "verify", "--trust", dir, "--at", "2023-07-01T00:00:00Z", shcVector(t, "spec", "example-00-d-jws.txt"))
	if r.code != 1 || !strings.Contains(r.stdout, "[kid_unknown]") || !strings.Contains(r.stdout, "SMART Health Card specification example issuer") {
		t.Fatalf("%+v", r)
	}
	r = runCLI(t, e, "", "trust", "list", "--trust", dir)
	if r.code != 0 || !strings.Contains(r.stdout, specIss) {
		t.Fatalf("%+v", r)
	}
	r = runCLI(t, e, "", "trust", "list", "--json", "--trust", dir)
	var l struct {
		Issuers []struct{ Iss string } `json:"shc_issuers"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &l) != nil || len(l.Issuers) != 1 {
		t.Fatalf("%+v", r)
	}
}

// trust add and refresh against an HTTPS issuer (httptest), with a CRL.
func TestTrustAddAndRefresh(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tk, err := trust.NewKey(&key.PublicKey, 1)
	if err != nil {
		t.Fatal(err)
	}
	var crl atomic.Value
	crl.Store(`{"kid":"` + tk.Kid + `","method":"rid","ctr":1,"rids":[]}`)
	mux := http.NewServeMux()
	mux.HandleFunc("/issuer/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[` + string(tk.JWK) + `]}`))
	})
	mux.HandleFunc("/issuer/.well-known/crl/"+tk.Kid+".json", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(crl.Load().(string)))
	})
	mux.HandleFunc("/big/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte(" "), trust.MaxJWKSSize+10))
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	iss := srv.URL + "/issuer"
	e := env{transport: srv.Client().Transport}
	dir := t.TempDir()
	if r := runCLI(t, e, "", "trust", "add", "--trust", dir, "--name", "Local test", iss); r.code != 0 || !strings.Contains(r.stdout, "1 key(s), 1 CRL(s)") {
		t.Fatalf("%+v", r)
	}
	if r := runCLI(t, e, "", "trust", "add", "--trust", dir, srv.URL+"/big"); r.code != 2 || !strings.Contains(r.stderr, "larger than") {
		t.Fatalf("oversized JWKS: %+v", r)
	}
	if r := runCLI(t, e, "", "trust", "add", "--trust", dir, "http://insecure.example"); r.code != 2 {
		t.Fatalf("http iss: %+v", r)
	}

	p := shc.Payload{Iss: iss, NBF: shc.NewNumericDate(time.Now().Add(-time.Hour)), VC: shc.VC{
		Type: []string{shc.HealthCardType}, RID: "r1",
		CredentialSubject: shc.CredentialSubject{FHIRVersion: shc.FHIRVersion}}}
	p.VC.CredentialSubject.FHIRBundle, _ = shc.NewImmunizationBundle(shc.Patient{Name: []shc.HumanName{{Text: "T"}}}, nil)
	jws, err := shc.Sign(key, tk.Kid, p)
	if err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(t.TempDir(), "card.txt")
	os.WriteFile(card, []byte(jws), 0o644)
	if r := runCLI(t, env{transport: &failingTransport{}}, "", "verify", "--trust", dir, card); r.code != 0 || !strings.Contains(r.stdout, "Local test") {
		t.Fatalf("%+v", r)
	}
	// The issuer revokes the card; refresh picks the new CRL up.
	crl.Store(`{"kid":"` + tk.Kid + `","method":"rid","ctr":2,"rids":["r1"]}`)
	if r := runCLI(t, e, "", "trust", "refresh", "--trust", dir); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if r := runCLI(t, env{transport: &failingTransport{}}, "", "verify", "--trust", dir, card); r.code != 1 || !strings.Contains(r.stdout, "[revoked]") {
		t.Fatalf("%+v", r)
	}
	// Refresh without network keeps the stored keys and reports the failure.
	if r := runCLI(t, env{transport: &failingTransport{}}, "", "trust", "refresh", "--trust", dir); r.code != 2 || !strings.Contains(r.stderr, "kept the stored keys") {
		t.Fatalf("%+v", r)
	}
	_ = base64.RawURLEncoding
}

// The other formats' trust imports, wired to their packages.
func TestOtherFormatImports(t *testing.T) {
	e := env{transport: &failingTransport{}}
	dir := t.TempDir()

	var vec struct {
		Testctx struct {
			Certificate     string `json:"CERTIFICATE"`
			ValidationClock string `json:"VALIDATIONCLOCK"`
		} `json:"TESTCTX"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, vectors.Path(t, "dcc", "DE", "2DCode", "raw", "1.json"))), &vec); err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(vec.Testctx.Certificate)
	certFile := filepath.Join(t.TempDir(), "dsc.der")
	os.WriteFile(certFile, der, 0o644)
	png := vectors.Path(t, "dcc", "DE", "2DCode", "png", "1.png")
	at := "--at=" + vec.Testctx.ValidationClock
	if r := runCLI(t, e, "", "verify", "--trust", dir, at, png); r.code != 1 {
		t.Fatalf("DCC before import: %+v", r)
	}
	if r := runCLI(t, e, "", "trust", "import", "--trust", dir, "--dsc", certFile); r.code != 0 || !strings.Contains(r.stdout, "1 EU DCC") {
		t.Fatalf("--dsc: %+v", r)
	}
	if r := runCLI(t, e, "", "verify", "--trust", dir, at, png); r.code != 0 || !strings.Contains(r.stdout, "VALID (EU Digital COVID Certificate)") {
		t.Fatalf("DCC after import: %+v", r)
	}

	sample := vectors.Path(t, "divoc", "samples", "divoc-signer-test-devkey-2021-01-15.certificate.json")
	if r := runCLI(t, e, "", "verify", "--trust", dir, sample); r.code != 1 || !strings.Contains(r.stdout, "NOT TRUSTED") {
		t.Fatalf("CoWIN before import: %+v", r)
	}
	if r := runCLI(t, e, "", "trust", "import", "--trust", dir, "--did", "did:india", "--name", "DIVOC dev key",
		vectors.Path(t, "divoc", "keys", "divoc-dev-test-public.pem")); r.code != 0 {
		t.Fatalf("--did: %+v", r)
	}
	if r := runCLI(t, e, "", "verify", "--trust", dir, sample); r.code != 0 || !strings.Contains(r.stdout, "VALID (CoWIN/DIVOC)") {
		t.Fatalf("CoWIN after import: %+v", r)
	}
	for _, args := range [][]string{
		{"trust", "import", "--dsc"},
		{"trust", "import", "--did", "did:india", "x.pem"},
		{"trust", "import", "--dsc", "--did", "did:x", certFile},
	} {
		if r := runCLI(t, e, "", append(args, "--trust", dir)...); r.code != 2 {
			t.Errorf("%v: %+v", args, r)
		}
	}
}
