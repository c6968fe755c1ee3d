package divoc

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// checkAt is a fixed verification time, after every sample was issued.
var checkAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// trust setups for the sample table.
const (
	trustDefault   = "default"    // built-in production key only
	trustDev       = "dev"        // plus the DIVOC development key, imported
	trustNoBuiltin = "no-builtin" // built-in key disabled, nothing imported
)

func trustDirFor(t *testing.T, setup string) string {
	t.Helper()
	switch setup {
	case trustDefault:
		return t.TempDir()
	case trustDev:
		dir := t.TempDir()
		pem := filepath.Join(testdataDir(t), "keys", "divoc-dev-test-public.pem")
		if err := ImportKey(dir, "did:india", "DIVOC development (test)", pem); err != nil {
			t.Fatal(err)
		}
		return dir
	case trustNoBuiltin:
		dir := t.TempDir()
		if err := DisableBuiltin(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Fatalf("unknown trust setup %q", setup)
	return ""
}

func codes(fs []verdict.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func TestVerifySamples(t *testing.T) {
	const (
		thirdMarchZIP  = "third-march-user-one.qr.zip"
		thirdMarchJSON = "third-march-user-one.certificate.json"
		devOld         = "divoc-signer-test-devkey-2021-01-15.certificate.json"
		devSpace       = "divoc-signer-test-devkey-space-in-id.certificate.json"
		devPathCheck   = "pathcheck-testkey-bhaya-mitra-2021-04-15.certificate.json"
		unverifiable   = "divoc-digilocker-test-resubelpara-unverifiable.certificate.json"
		zeroed         = "kde-partial-vaccination-zeroed-sig.qr.zip"
	)
	tests := []struct {
		sample  string
		trust   string
		want    verdict.Status
		reasons []string // exactly these reason codes, in order
	}{
		{thirdMarchZIP, trustDefault, verdict.Valid, nil},
		{thirdMarchJSON, trustDefault, verdict.Valid, nil},
		{thirdMarchZIP, trustDev, verdict.Valid, nil},
		{thirdMarchZIP, trustNoBuiltin, verdict.NotTrusted, []string{"key_unknown"}},

		{devOld, trustDev, verdict.Valid, nil},
		{devSpace, trustDev, verdict.Valid, nil},
		{devPathCheck, trustDev, verdict.Valid, nil},
		{devOld, trustDefault, verdict.NotTrusted, []string{"key_unknown"}},
		{devSpace, trustDefault, verdict.NotTrusted, []string{"key_unknown"}},
		{devPathCheck, trustDefault, verdict.NotTrusted, []string{"key_unknown"}},
		{devPathCheck, trustNoBuiltin, verdict.NotTrusted, []string{"key_unknown"}},

		{unverifiable, trustDefault, verdict.Invalid, []string{"signature_invalid"}},
		{unverifiable, trustDev, verdict.Invalid, []string{"signature_invalid"}},
		{zeroed, trustDefault, verdict.Invalid, []string{"signature_invalid"}},
		{zeroed, trustDev, verdict.Invalid, []string{"signature_invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.sample+"/"+tt.trust, func(t *testing.T) {
			res := Verify(readSample(t, tt.sample), trustDirFor(t, tt.trust), checkAt)
			if res.Format != "divoc" {
				t.Errorf("format %q", res.Format)
			}
			if res.Status != tt.want || !slices.Equal(codes(res.Reasons), tt.reasons) {
				t.Fatalf("got %s %v (%v), want %s %v", res.Status, codes(res.Reasons), res.Reasons, tt.want, tt.reasons)
			}
			if res.Subject == nil || res.Subject.Name == "" || len(res.Doses) == 0 {
				t.Errorf("certificate content missing: %+v", res)
			}
			if res.Issuer.ID != "did:india" {
				t.Errorf("issuer %q", res.Issuer.ID)
			}
		})
	}
}

// Verification with an empty key ring knows no key at all: NOT TRUSTED,
// never VALID, and never INVALID for want of a key.
func TestVerifyNoKeysIsNotTrusted(t *testing.T) {
	res := VerifyWithKeys(readSample(t, "third-march-user-one.qr.zip"), KeyRing{}, checkAt)
	if res.Status != verdict.NotTrusted || !slices.Equal(codes(res.Reasons), []string{"key_unknown"}) {
		t.Fatalf("got %s %v", res.Status, res.Reasons)
	}
	if !strings.Contains(res.Reasons[0].Message, "trust import") {
		t.Errorf("the message should say how to import a key: %q", res.Reasons[0].Message)
	}
}

func TestVerifyContent(t *testing.T) {
	res := Verify(readSample(t, "third-march-user-one.qr.zip"), "", checkAt)
	if res.Status != verdict.Valid {
		t.Fatalf("status %s %v", res.Status, res.Reasons)
	}
	wantSubject := verdict.Subject{Name: "Third March User One", Age: "65", Gender: "Male", ID: "did:Passport:Dummy256"}
	if *res.Subject != wantSubject {
		t.Errorf("subject %+v, want %+v", *res.Subject, wantSubject)
	}
	wantDose := verdict.Dose{
		Number: 1, Total: 2, Date: "2021-03-03", Vaccine: "COVISHIELD", Manufacturer: "Serum Institute of India",
		Lot: "Dummy-TGN-Chamba", Performer: "Himachal Site Name 176207, Address Of Site 176207, Chamba, Himachal",
		Country: "IN", Issuer: "https://cowin.gov.in/",
	}
	if len(res.Doses) != 1 || res.Doses[0] != wantDose {
		t.Errorf("doses %+v, want %+v", res.Doses, wantDose)
	}
	if res.CertificateID != "92047670169" {
		t.Errorf("certificate id %q", res.CertificateID)
	}
	wantIssuer := verdict.Issuer{ID: "did:india", Name: IndiaKeyName,
		KID: "a7062ae1358b75f996247b780ef60c845fbb27dc39a55f122125241611568422"}
	if res.Issuer != wantIssuer {
		t.Errorf("issuer %+v, want %+v", res.Issuer, wantIssuer)
	}
	if res.IssuedAt == nil || !res.IssuedAt.Equal(time.Date(2021, 3, 3, 4, 28, 46, 12e6, time.UTC)) {
		t.Errorf("issued at %v", res.IssuedAt)
	}
	if !slices.Equal(codes(res.Warnings), []string{"partial_vaccination"}) {
		t.Errorf("warnings %v", res.Warnings)
	}
}

func TestVerifyOtherSamples(t *testing.T) {
	tests := []struct {
		name    string
		input   []byte
		reasons []string
	}{
		// Jamaica's DIVOC signs with Ed25519 under the CoWIN context and an
		// empty subject id; its vaccine name is not one India used.
		{"jamaica", qrText(t, "jamaica-ed25519.qr.txt"), []string{"proof_unsupported", "implausible_vaccine"}},
		// Indonesia's DIVOC uses its own context, which is not bundled.
		{"indonesia", qrText(t, "indonesia-ed25519.qr.txt"), []string{"jsonld_context_unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Verify(tt.input, "", checkAt)
			if res.Status != verdict.Invalid || !slices.Equal(codes(res.Reasons), tt.reasons) {
				t.Fatalf("got %s %v, want invalid %v", res.Status, res.Reasons, tt.reasons)
			}
		})
	}
}

// tamper loads third-march-user-one.certificate.json, applies edit and
// serialises it again.
func tamper(t *testing.T, edit func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readSample(t, "third-march-user-one.certificate.json"), &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func subject(doc map[string]any) map[string]any { return doc["credentialSubject"].(map[string]any) }
func evidence(doc map[string]any) map[string]any {
	return doc["evidence"].([]any)[0].(map[string]any)
}

func TestVerifyTampered(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(doc map[string]any)
		reasons []string
	}{
		{"re-serialised unchanged (control)", func(map[string]any) {}, nil},
		{"name edited", func(d map[string]any) { subject(d)["name"] = "Someone Else" }, []string{"signature_invalid"}},
		{"age edited", func(d map[string]any) { subject(d)["age"] = "30" }, []string{"signature_invalid"}},
		// Both map to schema:doseValue: the signature still verifies, only
		// the plausibility check catches it.
		{"dose and totalDoses swapped", func(d map[string]any) {
			e := evidence(d)
			e["dose"], e["totalDoses"] = e["totalDoses"], e["dose"]
		}, []string{"implausible_dose"}},
		{"dose raised", func(d map[string]any) { evidence(d)["dose"] = 2.0 }, []string{"signature_invalid"}},
		// vaccine, manufacturer, batch and certificateId share schema:id.
		{"vaccine and manufacturer swapped", func(d map[string]any) {
			e := evidence(d)
			e["vaccine"], e["manufacturer"] = e["manufacturer"], e["vaccine"]
		}, []string{"implausible_vaccine"}},
		{"vaccine and batch swapped", func(d map[string]any) {
			e := evidence(d)
			e["vaccine"], e["batch"] = e["batch"], e["vaccine"]
		}, []string{"implausible_vaccine"}},
		{"certificateId and batch swapped", func(d map[string]any) {
			e := evidence(d)
			e["certificateId"], e["batch"] = e["batch"], e["certificateId"]
		}, []string{"implausible_certificate_id"}},
		{"extra undefined field at the top", func(d map[string]any) { d["vaccinated"] = "fully" }, []string{"jsonld_unknown_term"}},
		{"extra undefined field in the subject", func(d map[string]any) { subject(d)["passportNumber"] = "Z1234567" }, []string{"jsonld_unknown_term"}},
		{"extra undefined field in the evidence", func(d map[string]any) { evidence(d)["booster"] = true }, []string{"jsonld_unknown_term"}},
		{"extra defined field", func(d map[string]any) { d["expirationDate"] = "2030-01-01T00:00:00Z" }, []string{"signature_invalid"}},
		{"extra undefined type", func(d map[string]any) {
			d["type"] = []any{"VerifiableCredential", "ProofOfVaccinationCredential", "FullyVaccinated"}
		}, []string{"jsonld_unknown_term"}},
		{"subject id made relative", func(d map[string]any) { subject(d)["id"] = "Dummy256" }, []string{"relative_id"}},
		{"subject id emptied", func(d map[string]any) { subject(d)["id"] = "" }, []string{"relative_id"}},
		{"evidence id made relative", func(d map[string]any) { evidence(d)["id"] = "92047670169" }, []string{"relative_id"}},
		{"evidence id with a space", func(d map[string]any) { evidence(d)["id"] = "https://cowin.gov.in/vaccine/ 92047670169" },
			[]string{"invalid_iri", "implausible_certificate_id"}},
		{"IRI as a member name", func(d map[string]any) { subject(d)["https://schema.org/birthDate"] = "1950-01-01" }, []string{"jsonld_unknown_term"}},
		{"compact IRI as a member name", func(d map[string]any) { subject(d)["schema:birthDate"] = "1950-01-01" }, []string{"jsonld_unknown_term"}},
		{"blank node member name", func(d map[string]any) { d["_:note"] = "booster given" }, []string{"jsonld_unknown_term"}},
		{"blank node subject id", func(d map[string]any) { subject(d)["id"] = "_:b0" }, []string{"relative_id"}},
		{"subject type changed", func(d map[string]any) { subject(d)["type"] = "Patient" }, []string{"certificate_malformed", "jsonld_unknown_term"}},
		{"extra remote context", func(d map[string]any) {
			d["@context"] = append(d["@context"].([]any), "https://example.com/ctx")
		}, []string{"jsonld_context_unknown"}},
		{"inline context", func(d map[string]any) {
			d["@context"] = []any{credentialsV1URL, map[string]any{"name": "https://schema.org/name"}}
		}, []string{"jsonld_context_unknown"}},
		{"JSON-LD keyword inside", func(d map[string]any) { subject(d)["@id"] = "did:x:y" }, []string{"certificate_malformed"}},
		{"object where a string belongs", func(d map[string]any) { subject(d)["name"] = map[string]any{"first": "x"} }, []string{"certificate_malformed"}},
		{"proof removed", func(d map[string]any) { delete(d, "proof") }, []string{"proof_missing"}},
		{"proof header changed", func(d map[string]any) {
			p := d["proof"].(map[string]any)
			p["jws"] = strings.Replace(p["jws"].(string), detachedHeaderB64, "eyJhbGciOiJQUzI1NiJ9", 1)
		}, []string{"proof_unsupported"}},
		{"proof member added", func(d map[string]any) { d["proof"].(map[string]any)["nonce"] = "1" }, []string{"proof_unsupported"}},
		{"proof created edited", func(d map[string]any) { d["proof"].(map[string]any)["created"] = "2021-03-04T00:00:00Z" }, []string{"signature_invalid"}},
		{"signature truncated", func(d map[string]any) {
			p := d["proof"].(map[string]any)
			p["jws"] = p["jws"].(string)[:200]
		}, []string{"signature_invalid"}},
		{"verification method changed", func(d map[string]any) { d["proof"].(map[string]any)["verificationMethod"] = "did:example" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Verify(tamper(t, tt.edit), "", checkAt)
			want := verdict.Invalid
			switch {
			case tt.name == "verification method changed":
				// No key for did:example is trusted: the signature cannot be
				// checked, so NOT TRUSTED rather than INVALID.
				want, tt.reasons = verdict.NotTrusted, []string{"key_unknown"}
			case tt.reasons == nil:
				want = verdict.Valid
			}
			if res.Status != want || !slices.Equal(codes(res.Reasons), tt.reasons) {
				t.Fatalf("got %s %v, want %s %v", res.Status, res.Reasons, want, tt.reasons)
			}
		})
	}
}

func TestVerifyDates(t *testing.T) {
	tests := []struct {
		name    string
		at      time.Time
		edit    func(doc map[string]any)
		reasons []string
	}{
		{"checked before it was issued", time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), func(map[string]any) {},
			[]string{"implausible_date", "implausible_date", "implausible_date"}},
		{"checked within the clock skew", time.Date(2021, 3, 2, 12, 0, 0, 0, time.UTC), func(map[string]any) {}, nil},
		// date, effectiveStart and effectiveUntil share schema:date.
		{"effectiveStart and date swapped", checkAt, func(d map[string]any) {
			e := evidence(d)
			e["date"], e["effectiveStart"] = e["effectiveStart"], e["date"]
		}, nil},
		{"effectiveUntil before effectiveStart", checkAt, func(d map[string]any) {
			evidence(d)["effectiveUntil"] = "2021-03-01"
		}, []string{"signature_invalid", "implausible_date"}},
		{"date unreadable", checkAt, func(d map[string]any) { evidence(d)["date"] = "yesterday" },
			[]string{"signature_invalid", "implausible_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Verify(tamper(t, tt.edit), "", tt.at)
			want := verdict.Invalid
			if tt.reasons == nil {
				want = verdict.Valid
			}
			if res.Status != want || !slices.Equal(codes(res.Reasons), tt.reasons) {
				t.Fatalf("got %s %v, want %s %v", res.Status, res.Reasons, want, tt.reasons)
			}
		})
	}
}

func TestVerifyMalformedInput(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		code  string
	}{
		{"empty", nil, "json_invalid"},
		{"not JSON", []byte("HC1:6BFOXN"), "json_invalid"},
		{"JSON array", []byte(`[1,2]`), "json_invalid"},
		{"duplicate key", []byte(`{"name":"a","name":"b"}`), "json_invalid"},
		{"trailing data", []byte(`{"a":1}{"b":2}`), "json_invalid"},
		{"too large", bytes.Repeat([]byte(" "), MaxCertificateSize+1), "input_too_large"},
		{"no context", []byte(`{"type":"x"}`), "jsonld_context_unknown"},
		{"ZIP truncated", readSample(t, "third-march-user-one.qr.zip")[:500], "zip_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Verify(tt.input, "", checkAt)
			if res.Status != verdict.Invalid || len(res.Reasons) == 0 || res.Reasons[0].Code != tt.code {
				t.Fatalf("got %s %v, want invalid %s", res.Status, res.Reasons, tt.code)
			}
		})
	}
}

// A duplicate key inside a real certificate is refused even though the
// parser would keep one of the values.
func TestVerifyDuplicateKeyInCertificate(t *testing.T) {
	raw := readSample(t, "third-march-user-one.certificate.json")
	dup := bytes.Replace(raw, []byte(`"name":"Third March User One"`), []byte(`"name":"Someone Else","name":"Third March User One"`), 1)
	if bytes.Equal(dup, raw) {
		t.Fatal("sample changed; the test edit did not apply")
	}
	res := Verify(dup, "", checkAt)
	if res.Status != verdict.Invalid || res.Reasons[0].Code != "json_invalid" {
		t.Fatalf("got %s %v", res.Status, res.Reasons)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  bool
	}{
		{"QR ZIP", readSample(t, "third-march-user-one.qr.zip"), true},
		{"zeroed QR ZIP", readSample(t, "kde-partial-vaccination-zeroed-sig.qr.zip"), true},
		{"certificate.json", readSample(t, "third-march-user-one.certificate.json"), true},
		{"certificate.json with spaces around", append([]byte("\n  "), readSample(t, "divoc-signer-test-devkey-space-in-id.certificate.json")...), true},
		{"Indonesian DIVOC", unzipped(t, qrText(t, "indonesia-ed25519.qr.txt")), false},
		{"WHO B64 text", readSample(t, "third-march-user-one.qr.txt"), false},
		{"SHC", []byte("shc:/5676290952432060346029243740"), false},
		{"EU DCC", []byte("HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH"), false},
		{"other JSON", []byte(`{"resourceType":"Bundle"}`), false},
		{"other ZIP", zipOf(t, map[string][]byte{"other.json": []byte("{}")}), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect(tt.input); got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
		})
	}
}

// Verification shares no mutable state between calls.
func TestVerifyConcurrent(t *testing.T) {
	zip := readSample(t, "third-march-user-one.qr.zip")
	dev := readSample(t, "divoc-signer-test-devkey-space-in-id.certificate.json")
	ring, err := LoadKeyRing("")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			input, want := zip, verdict.Valid
			if i%2 == 1 {
				input, want = dev, verdict.NotTrusted
			}
			for range 5 {
				if res := VerifyWithKeys(input, ring, checkAt); res.Status != want {
					errs <- string(res.Status)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error("unexpected status", e)
	}
}

// The most blank nodes the shape check lets through, all alike (the case
// where URDNA2015 has to permute), still canonicalise: the shape caps keep
// the work small. A regression would show as a test timeout.
func TestCanonicalizeWorstAllowedShape(t *testing.T) {
	entry := func() map[string]any {
		return map[string]any{
			"type": []any{"Vaccination"}, "vaccine": "COVISHIELD",
			"verifier": map[string]any{"name": "x"},
			"facility": map[string]any{"name": "x", "address": map[string]any{"city": "x"}},
		}
	}
	var ev []any
	for range maxEvidence {
		ev = append(ev, entry())
	}
	doc := map[string]any{
		"@context":          []any{credentialsV1URL, cowinV2URL},
		"type":              []any{"VerifiableCredential", "ProofOfVaccinationCredential"},
		"credentialSubject": map[string]any{"type": "Person", "name": "x", "address": map[string]any{"city": "x"}},
		"evidence":          ev,
	}
	if err := checkShape(doc); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := canonicalize(doc); err != nil {
		t.Fatal(err)
	}
	t.Logf("canonicalised %d alike evidence entries in %v", maxEvidence, time.Since(start))
}
