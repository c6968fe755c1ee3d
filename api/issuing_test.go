package api

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/store/sqlite"
	"github.com/vaxcert/vaxcert/store/storetest"
	"github.com/vaxcert/vaxcert/verifier"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// issuingServer is the API over SQLite with registration, booking and the
// issuer, plus tokens for a vaccinator of TestCentre, one of TestCentre2, an
// admin, and a citizen owning one beneficiary.
type issuingServer struct {
	*storetest.Issuing
	srv           *Server
	vaccinator    string // token
	otherCentre   string
	admin         string
	citizen       string
	stranger      string // a citizen of another account
	ben           registration.Beneficiary
	strangersBen  registration.Beneficiary
	downloadGrant []byte
}

func newIssuingServer(t testing.TB) *issuingServer {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	is := storetest.NewIssuing(t, st, nil)
	h := &issuingServer{Issuing: is, downloadGrant: []byte("download-grant-secret-for-tests!")}
	h.srv = New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keys: is.Issuer, Store: st, Auth: is.Reg, Registration: is.Reg, Booking: is.Book,
		Issuer: is.Issuer, DownloadSecret: h.downloadGrant, RateLimits: RateLimits{BookingPerMinute: 1000, BookingBurst: 1000}, Audit: st})
	staff := func(mobile string, role registration.Role, centres ...string) string {
		a, err := is.Reg.PutStaff(context.Background(), mobile, role, centres)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := is.Tokens.Issue(a.Principal())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	h.vaccinator = staff("9000000001", registration.Vaccinator, storetest.TestCentre.ID)
	h.otherCentre = staff("9000000002", registration.Vaccinator, storetest.TestCentre2.ID)
	h.admin = staff("9000000003", registration.Admin)
	h.ben = is.Beneficiary(t, "Anjali Gupta", "1988-08-08", 1)
	h.strangersBen = is.Beneficiary(t, "Other Person", "1977-07-07", 2)
	citizenToken := func(ref string) string {
		b, err := is.Store.Beneficiary(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := is.Tokens.Issue(registration.Principal{AccountID: b.AccountID, Role: registration.Citizen})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	h.citizen, h.stranger = citizenToken(h.ben.RefID), citizenToken(h.strangersBen.RefID)
	return h
}

func (h *issuingServer) do(method, path, token, body string, header ...string) *httptest.ResponseRecorder {
	if token != "" {
		header = append(header, "Authorization", "Bearer "+token)
	}
	return do(h.srv, method, path, body, header...)
}

func doseBody(ref string, number int, vaccine, date string) string {
	return fmt.Sprintf(`{"beneficiary_reference_id":%q,"vaccine":%q,"lot":"4121Z%d","dose_number":%d,"date":%q,"center_id":%q}`,
		ref, vaccine, number, number, date, storetest.TestCentre.ID)
}

type recordedResponse struct {
	Dose struct {
		ID     string `json:"dose_id"`
		Number int    `json:"dose_number"`
	} `json:"dose"`
	Certificate certificateView `json:"certificate"`
}

func (h *issuingServer) record(t *testing.T, ref string, number int, vaccine, key string) recordedResponse {
	t.Helper()
	rec := h.do("POST", "/api/v1/vaccinations", h.vaccinator, doseBody(ref, number, vaccine, h.Book.Today().Format(time.DateOnly)), "Idempotency-Key", key)
	if rec.Code != http.StatusCreated {
		t.Fatalf("record dose %d: %d %s", number, rec.Code, rec.Body)
	}
	var out recordedResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIssuedCardFollowsEverySHCRule issues a certificate through the API and
// checks it against the rules of SMART Health Cards v1.4.0 (shc.md), with the
// key set fetched from /.well-known/jwks.json as any verifier would.
func TestIssuedCardFollowsEverySHCRule(t *testing.T) {
	h := newIssuingServer(t)
	out := h.record(t, h.ben.RefID, 1, "COVISHIELD", "rules-1")
	if out.Certificate.Status != "issued" || out.Certificate.Course != "provisional" || out.Certificate.Doses != 1 {
		t.Fatalf("certificate %+v", out.Certificate)
	}
	id := out.Certificate.ID

	// §5: the file.
	rec := h.do("GET", "/api/v1/certificates/"+id+".smart-health-card", h.citizen, "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/smart-health-card" {
		t.Fatalf("file: %d %v", rec.Code, rec.Header())
	}
	var file struct {
		VC []string `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &file); err != nil || len(file.VC) != 1 {
		t.Fatalf("file body %s: %v", rec.Body, err)
	}
	jws := file.VC[0]
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`).MatchString(jws) {
		t.Fatalf("JWS shape: %q", jws)
	}
	if len(jws) > shc.MaxQRJWSLength {
		t.Fatalf("JWS has %d characters; one QR holds %d", len(jws), shc.MaxQRJWSLength)
	}

	// §1: the published key set.
	rec = h.do("GET", "/.well-known/jwks.json", "", "", "Origin", "https://example.org")
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("jwks: %d %v", rec.Code, rec.Header())
	}
	jwksBody := rec.Body.Bytes()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwksBody, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s", jwksBody)
	}
	jwk := set.Keys[0]
	for k, want := range map[string]string{"kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256"} {
		if jwk[k] != want {
			t.Errorf("JWK %s = %v, want %s", k, jwk[k], want)
		}
	}
	if _, ok := jwk["d"]; ok {
		t.Fatal("the published JWK has a private part")
	}
	if v, ok := jwk["crlVersion"].(float64); !ok || v < 1 {
		t.Errorf("crlVersion = %v, want an integer >= 1", jwk["crlVersion"])
	}
	x, y := jwk["x"].(string), jwk["y"].(string)
	thumb := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	kid := base64.RawURLEncoding.EncodeToString(thumb[:])
	if jwk["kid"] != kid || len(kid) != 43 {
		t.Fatalf("kid %v is not the RFC 7638 thumbprint %s", jwk["kid"], kid)
	}

	// §2: header, signature, raw DEFLATE, minified payload.
	parts := strings.Split(jws, ".")
	b64 := base64.RawURLEncoding
	rawHeader, _ := b64.DecodeString(parts[0])
	var header map[string]string
	if err := json.Unmarshal(rawHeader, &header); err != nil || len(header) != 3 ||
		header["alg"] != "ES256" || header["zip"] != "DEF" || header["kid"] != kid {
		t.Fatalf("header %s", rawHeader)
	}
	sig, _ := b64.DecodeString(parts[2])
	if len(sig) != 64 {
		t.Fatalf("signature is %d bytes, want 64 (r||s)", len(sig))
	}
	xb, _ := b64.DecodeString(x)
	yb, _ := b64.DecodeString(y)
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(xb), Y: new(big.Int).SetBytes(yb)}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the signature does not verify with the published key")
	}
	deflated, _ := b64.DecodeString(parts[1])
	if _, err := zlib.NewReader(bytes.NewReader(deflated)); err == nil {
		t.Fatal("payload has a zlib header; it must be raw DEFLATE")
	}
	payload, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
	if err != nil {
		t.Fatalf("raw inflate: %v", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, payload); err != nil || !bytes.Equal(compact.Bytes(), payload) {
		t.Fatalf("payload is not minified JSON: %q", payload)
	}
	if bytes.HasPrefix(payload, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("payload starts with a BOM")
	}
	var p map[string]any
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	if p["iss"] != storetest.TestIssuerURL {
		t.Errorf("iss = %v", p["iss"])
	}
	if !regexp.MustCompile(`"nbf":[0-9]+[,}]`).Match(payload) {
		t.Errorf("nbf is not an integer: %s", payload)
	}
	if _, ok := p["exp"]; ok {
		t.Error("vaccination cards do not expire: no exp")
	}
	vc := p["vc"].(map[string]any)
	types := fmt.Sprint(vc["type"])
	for _, want := range []string{"https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization", "https://smarthealth.cards#covid19"} {
		if !strings.Contains(types, want) {
			t.Errorf("vc.type %s lacks %s", types, want)
		}
	}
	if strings.Contains(string(payload), "VerifiableCredential") || strings.Contains(string(payload), "@context") {
		t.Error("payload carries VerifiableCredential or @context")
	}
	rid, _ := vc["rid"].(string)
	if rid == "" || len(rid) > 24 || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(rid) {
		t.Errorf("rid %q", rid)
	}

	// §3: the FHIR bundle, minimised.
	subject := vc["credentialSubject"].(map[string]any)
	if subject["fhirVersion"] != "4.0.1" {
		t.Errorf("fhirVersion %v", subject["fhirVersion"])
	}
	bundle := subject["fhirBundle"].(map[string]any)
	if bundle["resourceType"] != "Bundle" || bundle["type"] != "collection" {
		t.Fatalf("bundle %v", bundle)
	}
	entries := bundle["entry"].([]any)
	if len(entries) != 2 {
		t.Fatalf("%d entries, want Patient + 1 Immunization", len(entries))
	}
	bundleJSON, _ := json.Marshal(bundle)
	for _, forbidden := range []string{`"id":`, `"meta":`, `"telecom"`, `"address"`, `"identifier"`, `"manufacturer"`, `"protocolApplied"`, `"isSubpotent"`} {
		if strings.Contains(string(bundleJSON), forbidden) {
			t.Errorf("bundle has %s: %s", forbidden, bundleJSON)
		}
	}
	for i, e := range entries {
		entry := e.(map[string]any)
		if entry["fullUrl"] != fmt.Sprintf("resource:%d", i) {
			t.Errorf("entry %d fullUrl %v", i, entry["fullUrl"])
		}
		res := entry["resource"].(map[string]any)
		if _, ok := res["text"]; ok {
			t.Errorf("entry %d has narrative text", i)
		}
		switch res["resourceType"] {
		case "Patient":
			name := res["name"].([]any)[0].(map[string]any)
			if name["text"] != "Anjali Gupta" || res["birthDate"] != "1988-08-08" || len(res) != 3 {
				t.Errorf("patient %v", res)
			}
		case "Immunization":
			if res["status"] != "completed" || res["patient"].(map[string]any)["reference"] != "resource:0" {
				t.Errorf("immunization %v", res)
			}
			coding := res["vaccineCode"].(map[string]any)["coding"].([]any)
			c := coding[0].(map[string]any)
			if len(coding) != 1 || c["system"] != "http://hl7.org/fhir/sid/cvx" || c["code"] != "210" || len(c) != 2 {
				t.Errorf("vaccineCode %v", coding)
			}
			if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(res["occurrenceDateTime"].(string)) {
				t.Errorf("occurrenceDateTime %v", res["occurrenceDateTime"])
			}
			if lot := res["lotNumber"].(string); lot != "4121Z1" || len(lot) > 20 {
				t.Errorf("lotNumber %q", lot)
			}
			performer := res["performer"].([]any)[0].(map[string]any)["actor"].(map[string]any)
			if d := performer["display"].(string); len([]rune(d)) > 30 || len(performer) != 1 || d != storetest.TestCentre.Name {
				t.Errorf("performer %v", performer)
			}
		default:
			t.Errorf("entry %d is a %v", i, res["resourceType"])
		}
	}

	// §4: the QR code, decoded from the PNG.
	rec = h.do("GET", "/api/v1/certificates/"+id+".png", h.citizen, "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("png: %d", rec.Code)
	}
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	// PURE_BARCODE: the PNG is a clean render; without the hint ZXing's
	// finder search misses a few percent of symbols.
	decoded, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("QR decode: %v", err)
	}
	if decoded.GetText() != shc.QRText(jws) || !strings.HasPrefix(decoded.GetText(), "shc:/") {
		t.Fatal("the QR does not carry the card's shc:/ text")
	}
	meta := decoded.GetResultMetadata()
	if ec := fmt.Sprint(meta[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]); ec != "L" {
		t.Errorf("error correction %s, want L", ec)
	}
	if segs, _ := meta[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte); len(segs) != 1 || string(segs[0]) != "shc:/" {
		t.Errorf("byte segments %q, want exactly [shc:/] (then one numeric segment)", segs)
	}
	modules := img.Bounds().Dx()/qrPixels - 2*shc.QuietZone
	if version := (modules - 17) / 4; version > shc.MaxQRVersion || version != shc.MinQRVersion(len(jws)) {
		t.Errorf("QR version %d; want the smallest, %d", version, shc.MinQRVersion(len(jws)))
	}

	// The FHIR download is the bundle as signed.
	rec = h.do("GET", "/api/v1/certificates/"+id+".fhir.json", h.citizen, "")
	var served any
	json.Unmarshal(rec.Body.Bytes(), &served)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/fhir+json" || !reflect.DeepEqual(served, any(bundle)) {
		t.Fatalf("fhir: %d %s", rec.Code, rec.Body)
	}

	// §6: the CRL of the key, served to anyone.
	rec = h.do("GET", "/.well-known/crl/"+kid+".json", "", "")
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("crl: %d %v", rec.Code, rec.Header())
	}
	crlBody := rec.Body.Bytes()
	if got := string(crlBody); got != `{"kid":"`+kid+`","method":"rid","ctr":1,"rids":[]}` {
		t.Fatalf("crl %s", got)
	}

	// And the offline verifier, trusting exactly what was served, agrees.
	keysParsed, probs, err := trust.ParseJWKS(jwksBody)
	if err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	crl, err := trust.ParseCRL(crlBody)
	if err != nil {
		t.Fatal(err)
	}
	v := verifier.Verifier{Now: h.Clock.Now, Trust: trust.NewStore(&trust.Issuer{Iss: storetest.TestIssuerURL,
		Keys: map[string]*trust.Key{kid: keysParsed[0]}, CRLs: map[string]*trust.CRL{kid: crl}})}
	for _, input := range [][]byte{[]byte(jws), []byte(shc.QRText(jws))} {
		res := v.Verify(context.Background(), input, "card")
		if len(res) != 1 || res[0].Status != verdict.Valid || len(res[0].Warnings) != 0 {
			t.Fatalf("verifier: %+v", res)
		}
	}
}

// TestRecordDoseIdempotency: the same Idempotency-Key gives the same answer,
// even from concurrent requests, and records one dose.
func TestRecordDoseIdempotency(t *testing.T) {
	h := newIssuingServer(t)
	body := doseBody(h.ben.RefID, 1, "COVAXIN", h.Book.Today().Format(time.DateOnly))
	first := h.do("POST", "/api/v1/vaccinations", h.vaccinator, body, "Idempotency-Key", "k-1")
	again := h.do("POST", "/api/v1/vaccinations", h.vaccinator, body, "Idempotency-Key", "k-1")
	if first.Code != 201 || again.Code != 201 || first.Body.String() != again.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	other := h.do("POST", "/api/v1/vaccinations", h.vaccinator, strings.Replace(body, "4121Z1", "OTHER", 1), "Idempotency-Key", "k-1")
	if other.Code != 409 || decodeProblem(t, other).Type != problemTypeBase+"idempotency-key-reused" {
		t.Fatalf("reused key: %d %s", other.Code, other.Body)
	}
	if rec := h.do("POST", "/api/v1/vaccinations", h.vaccinator, body); rec.Code != 400 {
		t.Fatalf("no key: %d", rec.Code)
	}

	// Concurrent duplicates of the stranger's dose 1.
	body = doseBody(h.strangersBen.RefID, 1, "COVAXIN", h.Book.Today().Format(time.DateOnly))
	const n = 16
	answers := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = h.do("POST", "/api/v1/vaccinations", h.vaccinator, body, "Idempotency-Key", "storm")
		}()
	}
	wg.Wait()
	replayed := 0
	for _, a := range answers {
		if a.Code != 201 || a.Body.String() != answers[0].Body.String() {
			t.Fatalf("concurrent duplicate: %d %s vs %s", a.Code, a.Body, answers[0].Body)
		}
		if a.Header().Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Fatalf("%d of %d answers were replays", replayed, n)
	}
	history, _ := h.Store.DoseHistory(context.Background(), h.strangersBen.RefID)
	certs := h.do("GET", "/api/v1/admin/certificates?beneficiary_reference_id="+h.strangersBen.RefID, h.admin, "")
	var list struct {
		Certificates []certificateView `json:"certificates"`
	}
	json.Unmarshal(certs.Body.Bytes(), &list)
	if len(history) != 1 || len(list.Certificates) != 1 {
		t.Fatalf("%d doses and %d certificates after concurrent duplicates", len(history), len(list.Certificates))
	}
}

// TestIssuingAuthorization: only a vaccinator of the centre records; only
// the owner's account downloads.
func TestIssuingAuthorization(t *testing.T) {
	h := newIssuingServer(t)
	today := h.Book.Today().Format(time.DateOnly)
	body := doseBody(h.ben.RefID, 1, "COVISHIELD", today)
	for _, c := range []struct {
		name, token string
		status      int
		slug        string
	}{
		{"no token", "", 401, "token-missing"},
		{"bad token", "not-a-token", 401, "token-invalid"},
		{"citizen", h.citizen, 403, "role-forbidden"},
		{"admin", h.admin, 403, "role-forbidden"},
		{"vaccinator of another centre", h.otherCentre, 403, "not-your-centre"},
	} {
		rec := h.do("POST", "/api/v1/vaccinations", c.token, body, "Idempotency-Key", "a-"+c.name)
		if rec.Code != c.status || decodeProblem(t, rec).Type != problemTypeBase+c.slug {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
	}
	if history, _ := h.Store.DoseHistory(context.Background(), h.ben.RefID); len(history) != 0 {
		t.Fatal("a refused request recorded a dose")
	}
	out := h.record(t, h.ben.RefID, 1, "COVISHIELD", "auth-ok")
	for _, suffix := range []string{".smart-health-card", ".png", ".fhir.json", ".pdf"} {
		path := "/api/v1/certificates/" + out.Certificate.ID + suffix
		if rec := h.do("GET", path, h.citizen, ""); rec.Code != 200 || rec.Header().Get("Cache-Control") != "private, no-store" {
			t.Errorf("owner %s: %d %s", suffix, rec.Code, rec.Body)
		}
		for name, tok := range map[string]string{"another account": h.stranger, "admin": h.admin, "vaccinator": h.vaccinator} {
			if rec := h.do("GET", path, tok, ""); rec.Code != 404 {
				t.Errorf("%s reads %s: %d", name, suffix, rec.Code)
			}
		}
		if rec := h.do("GET", path, "", ""); rec.Code != 401 {
			t.Errorf("anonymous %s: %d", suffix, rec.Code)
		}
	}
	// Listings show only the caller's own certificates.
	var list struct {
		Certificates []certificateView `json:"certificates"`
	}
	rec := h.do("GET", "/api/v1/certificates", h.stranger, "")
	if json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != 200 || len(list.Certificates) != 0 {
		t.Fatalf("stranger's list: %d %s", rec.Code, rec.Body)
	}
	if rec := h.do("GET", "/api/v1/certificates?beneficiary_reference_id="+h.ben.RefID, h.stranger, ""); rec.Code != 404 {
		t.Fatalf("stranger lists another's beneficiary: %d", rec.Code)
	}
	rec = h.do("GET", "/api/v1/certificates", h.citizen, "")
	if json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != 200 || len(list.Certificates) != 1 || list.Certificates[0].ID != out.Certificate.ID {
		t.Fatalf("owner's list: %d %s", rec.Code, rec.Body)
	}
	// Admin endpoints are for admins.
	for _, tok := range []string{h.citizen, h.vaccinator} {
		if rec := h.do("POST", "/api/v1/admin/certificates/"+out.Certificate.ID+"/revoke", tok, `{"reason":"because I can"}`); rec.Code != 403 {
			t.Fatalf("non-admin revokes: %d", rec.Code)
		}
	}
}

// TestRecordDoseBadInput: malformed requests get a 4xx problem and store
// nothing.
func TestRecordDoseBadInput(t *testing.T) {
	h := newIssuingServer(t)
	today := h.Book.Today()
	ref := h.ben.RefID
	cases := []struct {
		name, body string
		status     int
		slug       string
	}{
		{"not json", `{`, 400, "malformed-json"},
		{"unknown field", `{"beneficiary_reference_id":"1","x":1}`, 400, "malformed-json"},
		{"bad date", doseBody(ref, 1, "COVISHIELD", "02/03/2026"), 400, "date-invalid"},
		{"future date", doseBody(ref, 1, "COVISHIELD", today.AddDate(0, 0, 1).Format(time.DateOnly)), 400, "date-in-future"},
		{"unknown beneficiary", doseBody("12345678901234", 1, "COVISHIELD", today.Format(time.DateOnly)), 404, "beneficiary-not-found"},
		{"wrong dose number", doseBody(ref, 2, "COVISHIELD", today.Format(time.DateOnly)), 409, "wrong-dose-number"},
		{"unknown vaccine", doseBody(ref, 1, "SNAKEOIL", today.Format(time.DateOnly)), 400, "vaccine-unknown"},
		{"oversized lot", strings.Replace(doseBody(ref, 1, "COVISHIELD", today.Format(time.DateOnly)), "4121Z1", strings.Repeat("L", 21), 1), 400, "lot-too-long"},
	}
	for _, c := range cases {
		rec := h.do("POST", "/api/v1/vaccinations", h.vaccinator, c.body, "Idempotency-Key", "bad-"+strings.ReplaceAll(c.name, " ", "-"))
		if rec.Code != c.status || decodeProblem(t, rec).Type != problemTypeBase+c.slug {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
	}
	// A dose too early: dose 1 yesterday, dose 2 today is before the interval.
	if rec := h.do("POST", "/api/v1/vaccinations", h.vaccinator, doseBody(ref, 1, "COVISHIELD", today.AddDate(0, 0, -1).Format(time.DateOnly)),
		"Idempotency-Key", "early-1"); rec.Code != 201 {
		t.Fatalf("dose 1: %d %s", rec.Code, rec.Body)
	}
	rec := h.do("POST", "/api/v1/vaccinations", h.vaccinator, doseBody(ref, 2, "COVISHIELD", h.Book.Today().Format(time.DateOnly)), "Idempotency-Key", "early-2")
	if rec.Code != 409 || decodeProblem(t, rec).Type != problemTypeBase+"dose-too-early" {
		t.Fatalf("too early: %d %s", rec.Code, rec.Body)
	}
	if history, _ := h.Store.DoseHistory(context.Background(), ref); len(history) != 1 {
		t.Fatalf("%d doses stored, want 1", len(history))
	}
}

// TestPublicDownloadByOTP: the beneficiary reference and the OTP sent to the
// registered mobile unlock that beneficiary's certificate, and nothing else.
func TestPublicDownloadByOTP(t *testing.T) {
	h := newIssuingServer(t)
	mine := h.record(t, h.ben.RefID, 1, "COVISHIELD", "p-1")
	theirs := h.record(t, h.strangersBen.RefID, 1, "COVISHIELD", "p-2")
	rec := h.do("POST", "/api/v1/certificates/public/otp", "", `{"beneficiary_reference_id":"`+h.ben.RefID+`"}`)
	if rec.Code != 200 {
		t.Fatalf("otp: %d %s", rec.Code, rec.Body)
	}
	var txn struct {
		TxnID string `json:"txn_id"`
	}
	json.Unmarshal(rec.Body.Bytes(), &txn)
	b, _ := h.Store.Beneficiary(context.Background(), h.ben.RefID)
	owner, _ := h.Store.Account(context.Background(), b.AccountID)
	otp := h.LastOTP(t, owner.Mobile)
	if rec := h.do("POST", "/api/v1/certificates/public/confirm", "", `{"txn_id":"`+txn.TxnID+`","otp":"000000"}`); rec.Code != 401 {
		t.Fatalf("wrong otp: %d", rec.Code)
	}
	rec = h.do("POST", "/api/v1/certificates/public/confirm", "", `{"txn_id":"`+txn.TxnID+`","otp":"`+otp+`"}`)
	if rec.Code != 200 {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	var got struct {
		Certificate certificateView `json:"certificate"`
		Access      string          `json:"access"`
	}
	json.Unmarshal(rec.Body.Bytes(), &got)
	if got.Certificate.ID != mine.Certificate.ID || got.Access == "" {
		t.Fatalf("confirm: %s", rec.Body)
	}
	if rec := h.do("GET", got.Certificate.Links["pdf"], "", ""); rec.Code != 200 || !bytes.HasPrefix(rec.Body.Bytes(), []byte("%PDF-")) {
		t.Fatalf("pdf by grant: %d", rec.Code)
	}
	if rec := h.do("GET", "/api/v1/certificates/"+theirs.Certificate.ID+".pdf?access="+got.Access, "", ""); rec.Code != 404 {
		t.Fatalf("grant opened another beneficiary's certificate: %d", rec.Code)
	}
	forged := got.Access[:len(got.Access)-2] + "AA"
	if rec := h.do("GET", "/api/v1/certificates/"+mine.Certificate.ID+".pdf?access="+forged, "", ""); rec.Code != 401 {
		t.Fatalf("forged grant: %d", rec.Code)
	}
}

// TestCorrectionAndRevocationAPI: an admin's correction re-issues and revokes
// through the CRL; revocation shows in the CRL and the JWKS.
func TestCorrectionAndRevocationAPI(t *testing.T) {
	h := newIssuingServer(t)
	first := h.record(t, h.ben.RefID, 1, "COVISHIELD", "c-1")
	rec := h.do("POST", "/api/v1/admin/beneficiaries/"+h.ben.RefID+"/corrections", h.admin, `{"name":"Anjali Gupta Rao","reason":"as on the Aadhaar card"}`)
	if rec.Code != 200 {
		t.Fatalf("correction: %d %s", rec.Code, rec.Body)
	}
	var corr struct {
		Certificate certificateView `json:"certificate"`
		Revoked     []string        `json:"revoked"`
	}
	json.Unmarshal(rec.Body.Bytes(), &corr)
	if corr.Certificate.Status != "issued" || len(corr.Revoked) != 1 || corr.Revoked[0] != first.Certificate.ID {
		t.Fatalf("correction: %s", rec.Body)
	}
	if rec := h.do("GET", "/api/v1/certificates/"+first.Certificate.ID+".pdf", h.citizen, ""); rec.Code != 409 {
		t.Fatalf("download of a revoked certificate: %d", rec.Code)
	}
	rec = h.do("POST", "/api/v1/admin/certificates/"+corr.Certificate.ID+"/revoke", h.admin, `{"reason":"issued in error"}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"revoked"`) {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	jwks := h.do("GET", "/.well-known/jwks.json", "", "").Body.String()
	if !strings.Contains(jwks, `"crlVersion":3`) {
		t.Fatalf("JWKS after two CRL changes: %s", jwks)
	}
	if rec := h.do("GET", "/.well-known/crl/"+strings.Repeat("A", 43)+".json", "", ""); rec.Code != 404 {
		t.Fatalf("CRL of an unknown key: %d", rec.Code)
	}
	rec = h.do("POST", "/api/v1/admin/beneficiaries/"+h.ben.RefID+"/reissue", h.admin, `{"reason":"revoked by mistake"}`)
	if rec.Code != 201 {
		t.Fatalf("reissue: %d %s", rec.Code, rec.Body)
	}
}

// TestIssuingShapes checks the issuing API's answers against openapi.yaml.
func TestIssuingShapes(t *testing.T) {
	h := newIssuingServer(t)
	spec := loadOpenAPI(t)
	today := h.Book.Today().Format(time.DateOnly)
	check := func(method, path, route string, status int, token, body string, header ...string) []byte {
		t.Helper()
		rec := h.do(method, path, token, body, header...)
		if rec.Code != status {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		spec.checkShape(t, method, route, status, rec.Body.Bytes())
		return rec.Body.Bytes()
	}
	var out recordedResponse
	json.Unmarshal(check("POST", "/api/v1/vaccinations", "/api/v1/vaccinations", 201, h.vaccinator,
		doseBody(h.ben.RefID, 1, "COVAXIN", today), "Idempotency-Key", "shape"), &out)
	check("POST", "/api/v1/vaccinations", "/api/v1/vaccinations", 409, h.vaccinator,
		doseBody(h.ben.RefID, 3, "COVAXIN", today), "Idempotency-Key", "shape-2")
	check("GET", "/api/v1/certificates", "/api/v1/certificates", 200, h.citizen, "")
	check("GET", "/api/v1/admin/certificates", "/api/v1/admin/certificates", 200, h.admin, "")
	check("GET", "/api/v1/admin/certificates/"+out.Certificate.ID, "/api/v1/admin/certificates/{id}", 200, h.admin, "")
	check("POST", "/api/v1/admin/beneficiaries/"+h.ben.RefID+"/corrections", "/api/v1/admin/beneficiaries/{ref}/corrections", 200, h.admin,
		`{"gender":"other","reason":"as declared by the beneficiary"}`)
	certs := h.Issuer
	cur, err := certs.Current(context.Background(), h.ben.RefID)
	if err != nil {
		t.Fatal(err)
	}
	check("POST", "/api/v1/admin/certificates/"+cur.ID+"/revoke", "/api/v1/admin/certificates/{id}/revoke", 200, h.admin, `{"reason":"test of the shapes"}`)
	check("POST", "/api/v1/admin/beneficiaries/"+h.ben.RefID+"/reissue", "/api/v1/admin/beneficiaries/{ref}/reissue", 201, h.admin, `{"reason":"test of the shapes"}`)
	check("GET", "/.well-known/crl/"+cur.KID+".json", "/.well-known/crl/{kid}.json", 200, "", "")
	check("POST", "/api/v1/certificates/public/otp", "/api/v1/certificates/public/otp", 200, "", `{"beneficiary_reference_id":"`+h.ben.RefID+`"}`)
}

// FuzzGrantVerify: a download grant from the query string is untrusted; only
// grants this key made, unexpired, open anything.
func FuzzGrantVerify(f *testing.F) {
	key := grantKey("download-grant-secret-for-tests!")
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	good := key.issue("12345678901234", now.Add(time.Minute))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("MTIzNDU2Nzg5MDEyMzQuOTk5OTk5OTk5OQ.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("..")
	f.Fuzz(func(t *testing.T, grant string) {
		ref, err := key.verify(grant, now)
		if err == nil && grant != good {
			t.Fatalf("forged grant %q accepted for %q", grant, ref)
		}
		if err == nil && ref != "12345678901234" {
			t.Fatalf("grant opened %q", ref)
		}
	})
}
