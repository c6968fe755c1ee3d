package api

import (
	"bytes"
	"compress/flate"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/eudcc"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// newVerifyServer is the issuing server with POST /api/v1/verify mounted.
func newVerifyServer(t *testing.T) *issuingServer {
	h := newIssuingServer(t)
	is := h.Issuing
	h.srv = New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keys: is.Issuer, Store: is.Store, Auth: is.Reg,
		Registration: is.Reg, Booking: is.Book, Issuer: is.Issuer, DownloadSecret: h.downloadGrant,
		RateLimits: RateLimits{BookingPerMinute: 1000, BookingBurst: 1000}, Checkpoint: is.Issuer.Checkpoint(""), Audit: is.Store})
	return h
}

func verifyReport(t *testing.T, h *issuingServer, body string, header ...string) verdict.Report {
	t.Helper()
	rec := h.do("POST", "/api/v1/verify", "", body, header...)
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("verify: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	var rep verdict.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestVerifyAPI(t *testing.T) {
	h := newVerifyServer(t)
	out := h.record(t, h.ben.RefID, 1, "COVISHIELD", "verify-1")
	rec := h.do("GET", "/api/v1/certificates/"+out.Certificate.ID+".smart-health-card", h.citizen, "")
	file := rec.Body.String()
	jws, err := shc.ParseFile(rec.Body.Bytes())
	if err != nil || len(jws) != 1 {
		t.Fatalf("file: %v", err)
	}
	text := shc.QRText(jws[0])
	png := h.do("GET", "/api/v1/certificates/"+out.Certificate.ID+".png", h.citizen, "").Body.String()

	// Every input kind of our own certificate verifies, as this service.
	for name, in := range map[string]string{"qr text": text, "jws": jws[0], "file": file, "png": png} {
		rep := verifyReport(t, h, in)
		if len(rep.Results) != 1 || rep.Results[0].Status != verdict.Valid || rep.Summary.Valid != 1 {
			t.Fatalf("%s: %+v", name, rep)
		}
		if r := rep.Results[0]; r.Subject == nil || r.Subject.Name != "Anjali Gupta" || len(r.Doses) != 1 {
			t.Fatalf("%s: subject %+v doses %+v", name, r.Subject, r.Doses)
		}
	}

	// A tampered signature is invalid; a batch reports each input.
	tampered := []byte(text)
	i := len(tampered) - 10
	if tampered[i] == '1' {
		tampered[i] = '2'
	} else {
		tampered[i] = '1'
	}
	batch := fmt.Sprintf(`{"inputs":[%q,%q]}`, text, tampered)
	rep := verifyReport(t, h, batch, "Content-Type", "application/json")
	if rep.Summary != (verdict.Summary{Total: 2, Valid: 1, Invalid: 1}) || rep.Results[1].Status != verdict.Invalid {
		t.Fatalf("batch: %+v", rep)
	}

	// A card from an issuer this service does not trust is NOT TRUSTED.
	spec := vectors.Read(t, "shc", "spec", "example-00-d-jws.txt")
	if rep := verifyReport(t, h, string(spec)); rep.Results[0].Status != verdict.NotTrusted {
		t.Fatalf("foreign issuer: %+v", rep.Results[0])
	}

	// Revocation reaches the checkpoint.
	if rec := h.do("POST", "/api/v1/admin/certificates/"+out.Certificate.ID+"/revoke", h.admin, `{"reason":"issued in error"}`); rec.Code != 200 {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	fresh := newVerifyServerFrom(t, h) // a fresh checkpoint reads the new CRL at once
	if rep := verifyReport(t, fresh, text); rep.Results[0].Status != verdict.Invalid || !hasCode(rep.Results[0].Reasons, "revoked") {
		t.Fatalf("revoked card: %+v", rep.Results[0])
	}
}

func newVerifyServerFrom(t *testing.T, h *issuingServer) *issuingServer {
	is := h.Issuing
	c := *h
	c.srv = New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keys: is.Issuer, Store: is.Store,
		Issuer: is.Issuer, Checkpoint: is.Issuer.Checkpoint("")})
	return &c
}

func TestVerifyAPIBadInput(t *testing.T) {
	h := newVerifyServer(t)
	tests := []struct {
		name, body string
		status     int
	}{
		{"empty", "", 400},
		{"empty batch", `{"inputs":[]}`, 400},
		{"batch too large", `{"inputs":[` + strings.Repeat(`"x",`, maxVerifyBatch) + `"x"]}`, 400},
		{"too large", strings.Repeat("0", MaxVerifyBytes+1), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := h.do("POST", "/api/v1/verify", "", tt.body)
			if rec.Code != tt.status {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			decodeProblem(t, rec)
		})
	}
	// Garbage is a verdict, not an error: INVALID with a reason.
	rep := verifyReport(t, h, "certainly not a certificate")
	if rep.Results[0].Status != verdict.Invalid || len(rep.Results[0].Reasons) == 0 {
		t.Fatalf("%+v", rep)
	}
	if rec := h.do("GET", "/api/v1/verify", "", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", rec.Code)
	}
}

// TestVerifyAPIBatchSharesBudget: the inputs of one batch share one
// verification budget, so a batch of DEFLATE bombs costs what one input of
// them costs, not a hundred times that.
func TestVerifyAPIBatchSharesBudget(t *testing.T) {
	h := newVerifyServer(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var bomb bytes.Buffer
	fw, _ := flate.NewWriter(&bomb, flate.BestCompression)
	fw.Write(make([]byte, 4<<20))
	fw.Close()
	// Signed by a key nobody trusts: the payload must be inflated to find
	// the issuer, so each input costs up to the per-card cap.
	b64 := base64.RawURLEncoding
	in := b64.EncodeToString([]byte(`{"zip":"DEF","alg":"ES256","kid":"unknown"}`)) + "." + b64.EncodeToString(bomb.Bytes())
	digest := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	jws := in + "." + b64.EncodeToString(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
	inputs := make([]string, maxVerifyBatch)
	for i := range inputs {
		inputs[i] = jws
	}
	body, _ := json.Marshal(map[string][]string{"inputs": inputs})
	rep := verifyReport(t, h, string(body), "Content-Type", "application/json")
	paid := verifier.InputBudget / shc.MaxInflatedSize
	for i, r := range rep.Results {
		want := "payload_too_large"
		if i >= paid {
			want = "inflate_budget"
		}
		if r.Status != verdict.Invalid || !hasCode(r.Reasons, want) {
			t.Fatalf("input %d: %s %+v, want %s", i+1, r.Status, r.Reasons, want)
		}
	}
}

func hasCode(fs []verdict.Finding, code string) bool {
	for _, f := range fs {
		if f.Code == code {
			return true
		}
	}
	return false
}

// TestTrustBundleDocumentSigners: /verify/trust.json carries the EU DCC
// document signers of the checkpoint's trust directory, so the page checks
// EU DCCs as POST /api/v1/verify does; a signer imported later changes the
// bundle's ETag. A trust directory that cannot be read still gives the
// service's own keys, with a dscs_error that names no server path.
func TestTrustBundleDocumentSigners(t *testing.T) {
	h := newIssuingServer(t)
	is := h.Issuing
	trustDir := t.TempDir()
	type bundleDoc struct {
		Issuers   []json.RawMessage `json:"issuers"`
		DSCs      [][]byte          `json:"dscs"`
		DSCsError string            `json:"dscs_error"`
	}
	// A fresh server each time: a checkpoint rereads its folder only every
	// few seconds.
	bundle := func() (doc bundleDoc, etag string) {
		t.Helper()
		h.srv = New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keys: is.Issuer, Store: is.Store,
			Issuer: is.Issuer, Checkpoint: is.Issuer.Checkpoint(trustDir)})
		rec := h.do("GET", "/verify/trust.json", "", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("trust.json: %d %s", rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return doc, rec.Header().Get("ETag")
	}
	none, before := bundle()
	if len(none.DSCs) != 0 || none.DSCsError != "" {
		t.Fatalf("an empty trust directory published %d signers (%q)", len(none.DSCs), none.DSCsError)
	}

	der := vectors.DCCSigner(t, "DE", "2DCode", "raw", "1.json")
	file := filepath.Join(t.TempDir(), "dsc.der")
	if err := os.WriteFile(file, der, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := eudcc.ImportDSC(trustDir, []string{file}); err != nil {
		t.Fatal(err)
	}
	one, after := bundle()
	if len(one.DSCs) != 1 || !bytes.Equal(one.DSCs[0], der) {
		t.Fatalf("published %d signers, want the imported one", len(one.DSCs))
	}
	if after == before {
		t.Error("the ETag did not change with the signers")
	}

	if err := os.WriteFile(filepath.Join(trustDir, "dsc", "stray.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken, _ := bundle()
	if len(broken.DSCs) != 0 || broken.DSCsError == "" || strings.Contains(broken.DSCsError, trustDir) || len(one.Issuers) != 1 || len(broken.Issuers) != 1 {
		t.Fatalf("an unreadable trust directory: %d signers, %d issuers, error %q", len(broken.DSCs), len(broken.Issuers), broken.DSCsError)
	}
}
