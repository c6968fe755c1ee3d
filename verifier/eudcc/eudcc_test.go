package eudcc

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/vaxcert/vaxcert/verifier/eudcc/base45"
	"github.com/vaxcert/vaxcert/verifier/eudcc/cose"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

var (
	oidVaccination       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 2}
	oidVaccinationLegacy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 2}
	oidTest              = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 1}
)

func codes(fs []verdict.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"HC1:NCF", true},
		{"  \r\nHC1:NCF\n", true},
		{"hc1:NCF", false},
		{"HC2:NCF", false},
		{"shc:/5676", false},
		{"", false},
		{"NCFHC1:", false},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%q) = %v", tt.in, got)
		}
	}
}

func TestVerifyCases(t *testing.T) {
	testKeys()
	dsc, _ := newDSC(t, dscOptions{})
	rsaDSC, _ := newDSC(t, dscOptions{key: testRSA})
	p384DSC, _ := newDSC(t, dscOptions{key: testP384})
	expiredDSC, _ := newDSC(t, dscOptions{notBefore: testNow.AddDate(-2, 0, 0), notAfter: testNow.AddDate(0, 0, -1)})
	futureDSC, _ := newDSC(t, dscOptions{notBefore: testNow.AddDate(0, 0, 1)})
	vOnly, _ := newDSC(t, dscOptions{eku: []asn1.ObjectIdentifier{oidVaccination}})
	vLegacy, _ := newDSC(t, dscOptions{eku: []asn1.ObjectIdentifier{oidVaccinationLegacy}})
	tOnly, _ := newDSC(t, dscOptions{eku: []asn1.ObjectIdentifier{oidTest}})
	tlsOnly, _ := newDSC(t, dscOptions{tlsEKU: true})

	store := NewTrustStore(dsc, rsaDSC, p384DSC, expiredDSC, futureDSC, vOnly, vLegacy, tOnly, tlsOnly)

	withDCC := func(mutate func(d map[string]any)) map[string]any {
		d := vaccinationDCC()
		mutate(d)
		return d
	}
	entry := func(d map[string]any, group string) map[string]any { return d[group].([]any)[0].(map[string]any) }

	tests := []struct {
		name    string
		dsc     *x509.Certificate
		cert    hc1
		wrap    func(text string) string // rewrites the generated text
		raw     string                   // replaces the generated text
		at      time.Time
		status  verdict.Status
		reasons []string // exact reason codes, in order
		check   func(t *testing.T, r verdict.Result)
	}{
		{name: "valid vaccination, ES256", dsc: dsc, status: verdict.Valid,
			check: func(t *testing.T, r verdict.Result) {
				want := verdict.Dose{Number: 2, Total: 2, Date: "2021-05-18", Vaccine: "Comirnaty", VaccineCode: "EU/1/20/1528",
					Manufacturer: "Biontech Manufacturing GmbH", Country: "AT", Issuer: "Ministry of Health, Austria"}
				if len(r.Doses) != 1 || r.Doses[0] != want {
					t.Errorf("doses %+v", r.Doses)
				}
				if r.Subject == nil || r.Subject.Name != "Gabriele Musterfrau-Gößinger" || r.Subject.BirthDate != "1998-02-26" {
					t.Errorf("subject %+v", r.Subject)
				}
				if r.Kind != "vaccination" || r.Test != nil || r.Recovery != nil || len(r.Warnings) != 0 {
					t.Errorf("kind %q test %v recovery %v warnings %v", r.Kind, r.Test, r.Recovery, r.Warnings)
				}
				if r.CertificateID != "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B" {
					t.Errorf("certificate id %q", r.CertificateID)
				}
				if r.Issuer.ID != "AT" || !strings.Contains(r.Issuer.Name, "Test DSC") || r.Issuer.KID == "" {
					t.Errorf("issuer %+v", r.Issuer)
				}
				if r.IssuedAt == nil || !r.IssuedAt.Equal(testNow.AddDate(0, 0, -7)) || r.ExpiresAt == nil || !r.ExpiresAt.Equal(testNow.AddDate(0, 6, 0)) {
					t.Errorf("issued %v expires %v", r.IssuedAt, r.ExpiresAt)
				}
			}},
		{name: "valid, PS256 (CO1)", dsc: rsaDSC, cert: hc1{signer: testRSA}, status: verdict.Valid},
		{name: "valid, untagged", dsc: dsc, cert: hc1{tags: []uint64{}}, status: verdict.Valid},
		{name: "valid, CWT tag 61 around tag 18 (CO28)", dsc: dsc, cert: hc1{tags: []uint64{61, 18}}, status: verdict.Valid},
		{name: "valid, kid only unprotected (CO19, DE)", dsc: dsc, cert: hc1{protected: map[any]any{1: cose.AlgES256}, unprotected: map[any]any{4: KID(dsc)}}, status: verdict.Valid},
		{name: "valid, empty protected header (CO20)", dsc: dsc, cert: hc1{protected: map[any]any{}, unprotected: map[any]any{1: cose.AlgES256, 4: KID(dsc)}}, status: verdict.Valid},
		{name: "protected kid wins over a wrong unprotected one (CO21)", dsc: dsc, cert: hc1{unprotected: map[any]any{4: []byte("foo")}}, status: verdict.Valid},
		{name: "wrong protected kid never falls back (CO22)", dsc: dsc, cert: hc1{protected: map[any]any{1: cose.AlgES256, 4: []byte("01234567")}, unprotected: map[any]any{4: KID(dsc)}},
			status: verdict.NotTrusted, reasons: []string{CodeKIDUnknown}},
		{name: "unknown kid (CO23)", dsc: dsc, cert: hc1{protected: map[any]any{}, unprotected: map[any]any{1: cose.AlgES256, 4: []byte("unknown!")}},
			status: verdict.NotTrusted, reasons: []string{CodeKIDUnknown}},
		{name: "alg ES384 unsupported (CO4)", dsc: p384DSC, cert: hc1{signer: testP384, alg: -35}, status: verdict.Invalid, reasons: []string{CodeAlgUnsupported}},
		{name: "ES256 with a P-384 DSC", dsc: p384DSC, cert: hc1{signer: testP384}, status: verdict.Invalid, reasons: []string{CodeKeyMismatch}},
		{name: "signature of 72 bytes (CO24)", dsc: dsc, cert: hc1{sig: bytes.Repeat([]byte{0x30}, 72)}, status: verdict.Invalid, reasons: []string{CodeSignatureInvalid}},
		{name: "kid of 7 bytes (CO25)", dsc: dsc, cert: hc1{kid: []byte("1234567")}, status: verdict.Invalid, reasons: []string{CodeKIDInvalid}},
		{name: "kid of 9 bytes (CO26)", dsc: dsc, cert: hc1{kid: []byte("123456789")}, status: verdict.Invalid, reasons: []string{CodeKIDInvalid}},
		{name: "no kid", dsc: dsc, cert: hc1{protected: map[any]any{1: cose.AlgES256}}, status: verdict.Invalid, reasons: []string{CodeKIDInvalid}},
		{name: "PS256 header over an ECDSA key and signature (CO27)", dsc: dsc, cert: hc1{alg: cose.AlgPS256, signAs: cose.AlgES256}, status: verdict.Invalid, reasons: []string{CodeKeyMismatch}},
		{name: "ES256 header over an RSA DSC (CO27)", dsc: rsaDSC, cert: hc1{signer: testP256, kid: KID(rsaDSC)}, status: verdict.Invalid, reasons: []string{CodeKeyMismatch}},
		{name: "signed by another key (CO5)", dsc: dsc, cert: hc1{signer: testOther, kid: KID(dsc)}, status: verdict.Invalid, reasons: []string{CodeSignatureInvalid}},
		{name: "not yet valid (CO16)", dsc: dsc, at: testNow.AddDate(0, 0, -8), status: verdict.Invalid, reasons: []string{CodeNotYetValid}},
		{name: "expired (CO17)", dsc: dsc, at: testNow.AddDate(0, 7, 0), status: verdict.Invalid, reasons: []string{CodeExpired}},
		{name: "DSC expired at the verification time", dsc: expiredDSC, status: verdict.Invalid, reasons: []string{CodeDSCExpired}},
		{name: "DSC not yet valid", dsc: futureDSC, status: verdict.Invalid, reasons: []string{CodeDSCNotYetValid}},
		{name: "expired and by an expired DSC: every reason", dsc: expiredDSC, at: testNow.AddDate(0, 7, 0), status: verdict.Invalid, reasons: []string{CodeExpired, CodeDSCExpired}},
		{name: "EKU vaccination OID allows v", dsc: vOnly, status: verdict.Valid},
		{name: "EKU legacy vaccination OID allows v (CO13)", dsc: vLegacy, status: verdict.Valid},
		{name: "EKU test OID forbids v (CO6)", dsc: tOnly, status: verdict.Invalid, reasons: []string{CodeKeyUsage}},
		{name: "EKU of unrelated usages forbids all", dsc: tlsOnly, status: verdict.Invalid, reasons: []string{CodeKeyUsage}},
		{name: "EKU vaccination OID forbids t (CO8)", dsc: vOnly, cert: hc1{dcc: testDCC(testNotDetected, "2021-05-31T08:00:00Z")}, status: verdict.Invalid, reasons: []string{CodeKeyUsage}},
		{name: "negative test: valid, reported as a test", dsc: dsc, cert: hc1{dcc: testDCC(testNotDetected, "2021-05-31T08:00:00Z")}, status: verdict.Valid,
			check: func(t *testing.T, r verdict.Result) {
				if r.Kind != "test" || len(r.Doses) != 0 || r.Test == nil || r.Test.Result != "Not detected" || r.Test.Collected != "2021-05-31T08:00:00Z" {
					t.Errorf("kind %q doses %v test %+v", r.Kind, r.Doses, r.Test)
				}
				if !slices.Contains(codes(r.Warnings), WarnTestCertificate) || !strings.Contains(r.Warnings[0].Message, "28 hours before") {
					t.Errorf("warnings %v", r.Warnings)
				}
			}},
		{name: "positive test (DGC7)", dsc: dsc, cert: hc1{dcc: testDCC(testDetected, "2021-05-31T08:00:00Z")}, status: verdict.Invalid, reasons: []string{CodeTestPositive}},
		{name: "unknown test result code", dsc: dsc, cert: hc1{dcc: testDCC("123", "2021-05-31T08:00:00Z")}, status: verdict.Invalid, reasons: []string{CodeTestResultUnknown}},
		{name: "test sampled in the future (DGC8)", dsc: dsc, cert: hc1{dcc: testDCC(testNotDetected, "2021-06-02T08:00:00Z")}, status: verdict.Invalid, reasons: []string{CodeTestSampleFuture}},
		{name: "recovery: valid, reported as a recovery", dsc: dsc, cert: hc1{dcc: recoveryDCC()}, status: verdict.Valid,
			check: func(t *testing.T, r verdict.Result) {
				if r.Kind != "recovery" || len(r.Doses) != 0 || r.Recovery == nil || r.Recovery.ValidUntil != "2021-10-04" {
					t.Errorf("kind %q doses %v recovery %+v", r.Kind, r.Doses, r.Recovery)
				}
				if !slices.Equal(codes(r.Warnings), []string{WarnRecoveryCertificate}) {
					t.Errorf("warnings %v", r.Warnings)
				}
			}},
		{name: "float iat and exp", dsc: dsc, cert: hc1{claims: map[any]any{1: "AT", 6: float64(testNow.Unix()) - 0.5, 4: float64(testNow.AddDate(0, 1, 0).Unix()) + 0.25, -260: map[any]any{1: vaccinationDCC()}}},
			status: verdict.Valid},
		{name: "no exp", dsc: dsc, cert: hc1{claims: map[any]any{1: "AT", 6: testNow.Unix() - 10, -260: map[any]any{1: vaccinationDCC()}}},
			status: verdict.Invalid, reasons: []string{CodeCWTInvalid}},
		{name: "exp as text", dsc: dsc, cert: hc1{claims: map[any]any{6: testNow.Unix(), 4: "soon", -260: map[any]any{1: vaccinationDCC()}}},
			status: verdict.Invalid, reasons: []string{CodeCWTInvalid}},
		{name: "no hcert claim", dsc: dsc, cert: hc1{claims: map[any]any{1: "AT", 6: testNow.Unix(), 4: testNow.Unix() + 10}},
			status: verdict.Invalid, reasons: []string{CodeCWTInvalid}},
		{name: "DCC as a byte string (CBO1)", dsc: dsc, cert: hc1{claims: map[any]any{6: testNow.Unix(), 4: testNow.Unix() + 10, -260: map[any]any{1: mustCBOR(t, vaccinationDCC())}}},
			status: verdict.Invalid, reasons: []string{CodeSchemaInvalid}},
		{name: "no iss: the country comes from the entry", dsc: dsc, cert: hc1{claims: map[any]any{6: testNow.Unix() - 10, 4: testNow.Unix() + 10, -260: map[any]any{1: vaccinationDCC()}}},
			status: verdict.Valid, check: func(t *testing.T, r verdict.Result) {
				if r.Issuer.ID != "AT" {
					t.Errorf("issuer id %q", r.Issuer.ID)
				}
			}},
		{name: "v, t and r all present (DGC2)", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { d["t"] = testDCC(testNotDetected, "2021-05-31T08:00:00Z")["t"] })},
			status: verdict.Invalid, reasons: []string{CodeSchemaInvalid}},
		{name: "only ver and nam (DGC1)", dsc: dsc, cert: hc1{dcc: map[string]any{"ver": "1.3.0", "nam": map[string]any{"fnt": "X"}}},
			status: verdict.Invalid, reasons: []string{CodeSchemaInvalid}},
		{name: "explicit null groups count as absent (BG)", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { d["t"], d["r"] = nil, nil })}, status: verdict.Valid},
		{name: "padded codes are trimmed (BG, GR)", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { entry(d, "v")["mp"] = " EU/1/20/1528 " })}, status: verdict.Valid,
			check: func(t *testing.T, r verdict.Result) {
				if r.Doses[0].Vaccine != "Comirnaty" {
					t.Errorf("vaccine %q", r.Doses[0].Vaccine)
				}
			}},
		{name: "dose numbers as floats (IE)", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { entry(d, "v")["dn"], entry(d, "v")["sd"] = 1.0, 2.0 })}, status: verdict.Valid,
			check: func(t *testing.T, r verdict.Result) {
				if r.Doses[0].Number != 1 || r.Doses[0].Total != 2 {
					t.Errorf("dose %+v", r.Doses[0])
				}
			}},
		{name: "fractional dose number", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { entry(d, "v")["dn"] = 1.5 })}, status: verdict.Invalid, reasons: []string{CodeSchemaInvalid}},
		{name: "date-time as vaccination date", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { entry(d, "v")["dt"] = "2021-03-09T00:00:00" })}, status: verdict.Valid,
			check: func(t *testing.T, r verdict.Result) {
				if r.Doses[0].Date != "2021-03-09" {
					t.Errorf("date %q", r.Doses[0].Date)
				}
			}},
		{name: "tag 0 date (HU)", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) {
			entry(d, "v")["dt"] = cbor.Tag{Number: 0, Content: "2021-03-09T10:00:00Z"}
		})}, status: verdict.Valid},
		{name: "unknown product is shown as sent, with a warning", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { entry(d, "v")["mp"] = "X-Vax" })}, status: verdict.Valid,
			check: func(t *testing.T, r verdict.Result) {
				if r.Doses[0].Vaccine != "X-Vax" || !slices.Equal(codes(r.Warnings), []string{WarnUnknownCode}) {
					t.Errorf("vaccine %q warnings %v", r.Doses[0].Vaccine, r.Warnings)
				}
			}},
		{name: "year-only birth date (1.3.0)", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { d["dob"] = "1979" })}, status: verdict.Valid},
		{name: "birth date out of range", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { d["dob"] = "1899-12-31" })}, status: verdict.Invalid, reasons: []string{CodeSchemaInvalid}},
		{name: "unsupported schema major version", dsc: dsc, cert: hc1{dcc: withDCC(func(d map[string]any) { d["ver"] = "2.0.0" })}, status: verdict.Invalid, reasons: []string{CodeSchemaInvalid}},
		{name: "surrounding whitespace and line breaks", dsc: dsc, wrap: func(s string) string { return "  \r\n" + s + "\r\n" }, status: verdict.Valid},
		{name: "HC2 prefix (H2)", dsc: dsc, wrap: func(s string) string { return "HC2:" + s[4:] }, status: verdict.Invalid, reasons: []string{CodePrefixInvalid}},
		{name: "no prefix (H3)", dsc: dsc, wrap: func(s string) string { return s[4:] }, status: verdict.Invalid, reasons: []string{CodePrefixInvalid}},
		{name: "invalid Base45 (B1)", dsc: dsc, raw: "HC1:AB=", status: verdict.Invalid, reasons: []string{CodeBase45Invalid}},
		{name: "uncompressed COSE (Z2)", dsc: dsc, cert: hc1{noCompress: true}, status: verdict.Invalid, reasons: []string{CodeZlibInvalid}},
		{name: "not COSE (CBO2)", dsc: dsc, raw: "HC1:" + base45.Encode(deflate(t, []byte{0x00})), status: verdict.Invalid, reasons: []string{CodeCOSEInvalid}},
		{name: "zlib bomb", dsc: dsc, raw: "HC1:" + base45.Encode(deflate(t, make([]byte, MaxCOSESize+1))), status: verdict.Invalid, reasons: []string{CodeZlibInvalid}},
		{name: "bytes after the zlib stream", dsc: dsc, raw: "HC1:" + base45.Encode(append(deflate(t, []byte{0x84}), 0)), status: verdict.Invalid, reasons: []string{CodeZlibInvalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.raw
			if text == "" {
				text = tt.cert.text(t, tt.dsc)
			}
			if tt.wrap != nil {
				text = tt.wrap(text)
			}
			at := tt.at
			if at.IsZero() {
				at = testNow
			}
			r := VerifyWith([]byte(text), store, at)
			if r.Format != Format {
				t.Errorf("format %q", r.Format)
			}
			if r.Status != tt.status || !slices.Equal(codes(r.Reasons), tt.reasons) {
				t.Fatalf("status %s, reasons %+v; want %s %v", r.Status, r.Reasons, tt.status, tt.reasons)
			}
			if r.Status != verdict.Valid && r.Subject != nil && codeBeforeSignature(r.Reasons) {
				t.Errorf("content reported although the signature was not verified: %+v", r.Subject)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// codeBeforeSignature reports whether the rejection happened before the
// signature was verified.
func codeBeforeSignature(reasons []verdict.Finding) bool {
	switch reasons[0].Code {
	case CodePrefixInvalid, CodeBase45Invalid, CodeZlibInvalid, CodeCOSEInvalid, CodeAlgUnsupported,
		CodeKIDInvalid, CodeKIDUnknown, CodeKeyMismatch, CodeSignatureInvalid:
		return true
	}
	return false
}

// TestTrySeveralDSCsWithOneKid: the spec says a verifier MUST try every DSC
// sharing a kid. Real SHA-256 prefixes do not collide, so the store is built
// by hand.
func TestTrySeveralDSCsWithOneKid(t *testing.T) {
	testKeys()
	right, _ := newDSC(t, dscOptions{})
	wrong, _ := newDSC(t, dscOptions{key: testOther})
	wrongRSA, _ := newDSC(t, dscOptions{key: testRSA})
	kid := string(KID(right))
	store := &TrustStore{byKID: map[string][]*x509.Certificate{kid: {wrongRSA, wrong, right}}, n: 3}
	text := hc1{}.text(t, right)
	if r := VerifyWith([]byte(text), store, testNow); r.Status != verdict.Valid {
		t.Fatalf("status %s %+v", r.Status, r.Reasons)
	}
	store.byKID[kid] = []*x509.Certificate{wrongRSA, wrong}
	if r := VerifyWith([]byte(text), store, testNow); !slices.Equal(codes(r.Reasons), []string{CodeSignatureInvalid}) {
		t.Fatalf("reasons %+v", r.Reasons)
	}
}

func TestResultJSON(t *testing.T) {
	dsc, _ := newDSC(t, dscOptions{})
	r := VerifyWith([]byte(hc1{dcc: testDCC(testNotDetected, "2021-05-31T08:00:00Z")}.text(t, dsc)), NewTrustStore(dsc), testNow)
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"format":"eu-dcc"`, `"status":"valid"`, `"kind":"test"`, `"result":"Not detected"`, `"code":"test_certificate"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("JSON lacks %s: %s", want, out)
		}
	}
	if strings.Contains(string(out), `"doses"`) {
		t.Errorf("a test certificate reports doses: %s", out)
	}
}

func TestSchemaVersions(t *testing.T) {
	long := strings.Repeat("A", 60)
	tests := []struct {
		name   string
		mutate func(d map[string]any)
		ok     bool
	}{
		{"1.3.0 allows 60-character names", func(d map[string]any) { d["nam"].(map[string]any)["fnt"] = long }, true},
		{"1.2.1 limits names to 50", func(d map[string]any) { d["ver"] = "1.2.1"; d["nam"].(map[string]any)["fnt"] = long }, false},
		{"1.2.1 limits doses to 9", func(d map[string]any) { d["ver"] = "1.2.1"; d["v"].([]any)[0].(map[string]any)["dn"] = 10.0 }, false},
		{"1.3.0 allows dose 10", func(d map[string]any) { d["v"].([]any)[0].(map[string]any)["dn"] = 10.0 }, true},
		{"1.2.1 needs a birth date", func(d map[string]any) { d["ver"] = "1.2.1"; d["dob"] = "" }, false},
		{"1.3.0 allows an empty birth date", func(d map[string]any) { d["dob"] = "" }, true},
		{"1.3.0 needs fnt", func(d map[string]any) { delete(d["nam"].(map[string]any), "fnt") }, false},
		{"1.3.2 accepts gnt alone", func(d map[string]any) { d["ver"] = "1.3.2"; delete(d["nam"].(map[string]any), "fnt") }, true},
		{"1.3.2 needs fnt or gnt", func(d map[string]any) {
			d["ver"] = "1.3.2"
			delete(d["nam"].(map[string]any), "fnt")
			delete(d["nam"].(map[string]any), "gnt")
		}, false},
		{"fnt must be ICAO", func(d map[string]any) { d["nam"].(map[string]any)["fnt"] = "Müller" }, false},
		{"two vaccination entries", func(d map[string]any) { d["v"] = append(d["v"].([]any), d["v"].([]any)[0]) }, false},
		{"empty v", func(d map[string]any) { d["v"] = []any{} }, false},
		{"v not an array", func(d map[string]any) { d["v"] = d["v"].([]any)[0] }, false},
		{"missing ci", func(d map[string]any) { delete(d["v"].([]any)[0].(map[string]any), "ci") }, false},
		{"dn as text", func(d map[string]any) { d["v"].([]any)[0].(map[string]any)["dn"] = "1" }, false},
		{"bad date", func(d map[string]any) { d["v"].([]any)[0].(map[string]any)["dt"] = "2021-13-01" }, false},
		{"ver not semver", func(d map[string]any) { d["ver"] = "1.3" }, false},
		{"country in lower case", func(d map[string]any) { d["v"].([]any)[0].(map[string]any)["co"] = "at" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := jsonRoundTrip(t, vaccinationDCC())
			tt.mutate(d)
			_, err := ParseDCC(d)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseDCC: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && CodeOf(err) != CodeSchemaInvalid {
				t.Fatalf("code %q", CodeOf(err))
			}
		})
	}
	t.Run("1.3.0 requires tc, 1.3.1 does not", func(t *testing.T) {
		d := jsonRoundTrip(t, testDCC(testNotDetected, "2021-05-31T08:00:00Z"))
		delete(d["t"].([]any)[0].(map[string]any), "tc")
		if _, err := ParseDCC(d); err == nil {
			t.Fatal("1.3.0 test without tc accepted")
		}
		d["ver"] = "1.3.1"
		if _, err := ParseDCC(d); err != nil {
			t.Fatal(err)
		}
	})
}

// jsonRoundTrip turns a Go literal into the JSON data model DecodeDCC yields.
func jsonRoundTrip(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeyUsageAllows(t *testing.T) {
	none, _ := newDSC(t, dscOptions{})
	legacyAll, _ := newDSC(t, dscOptions{eku: []asn1.ObjectIdentifier{
		{1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 1}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 2}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 3}}})
	recovery, _ := newDSC(t, dscOptions{eku: []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 3}}})
	unrelated, _ := newDSC(t, dscOptions{eku: []asn1.ObjectIdentifier{{2, 23, 136, 1, 1, 14, 2}}})
	tests := []struct {
		cert                  *x509.Certificate
		name                  string
		vaccination, test, rc bool
	}{
		{none, "no EKU", true, true, true},
		{legacyAll, "all three legacy OIDs", true, true, true},
		{recovery, "recovery OID", false, false, true},
		{unrelated, "unrelated OID only (IS)", false, false, false},
	}
	for _, tt := range tests {
		got := [3]bool{KeyUsageAllows(tt.cert, KindVaccination), KeyUsageAllows(tt.cert, KindTest), KeyUsageAllows(tt.cert, KindRecovery)}
		if got != [3]bool{tt.vaccination, tt.test, tt.rc} {
			t.Errorf("%s: v/t/r allowed = %v", tt.name, got)
		}
	}
}

func TestInflateAndUnprefix(t *testing.T) {
	if _, err := Inflate(deflate(t, make([]byte, MaxCOSESize))); err != nil {
		t.Fatalf("exactly the cap: %v", err)
	}
	if _, err := Inflate(deflate(t, make([]byte, MaxCOSESize+1))); CodeOf(err) != CodeZlibInvalid {
		t.Fatalf("over the cap: %v", err)
	}
	full := deflate(t, []byte("hello"))
	if _, err := Inflate(full[:len(full)-2]); CodeOf(err) != CodeZlibInvalid {
		t.Fatalf("truncated: %v", err)
	}
	for _, s := range []string{"HL0:ABC", "HC2:ABC", "HCZ:ABC", "ABC", "", "hc1:ABC"} {
		if _, err := Unprefix(s); CodeOf(err) != CodePrefixInvalid {
			t.Errorf("Unprefix(%q) = %v", s, err)
		}
	}
	if body, err := Unprefix("HC1:AB \n"); err != nil || body != "AB " {
		t.Errorf("Unprefix keeps a trailing space: %q, %v", body, err)
	}
	if _, err := DecodeText("HC1:" + strings.Repeat("0", MaxTextSize)); err == nil {
		t.Error("oversized text accepted")
	}
}
