package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

const afterSpecNBF = "2023-07-01T00:00:00Z" // spec examples: nbf 2023-06-22, example 03 exp 2024-06-21

func verifyOne(t *testing.T, v *Verifier, input []byte) verdict.Result {
	t.Helper()
	rs := v.Verify(context.Background(), input, "test")
	if len(rs) != 1 {
		t.Fatalf("%d results, want 1: %+v", len(rs), rs)
	}
	return rs[0]
}

func TestSpecExamples(t *testing.T) {
	v := &Verifier{Trust: trust.NewStore(specIssuer(t, false)), Now: at(afterSpecNBF)}
	chunks := bytes.Join([][]byte{
		vector(t, "spec", "example-02-f-qr-code-numeric-value-1.txt"),
		vector(t, "spec", "example-02-f-qr-code-numeric-value-0.txt"),
		vector(t, "spec", "example-02-f-qr-code-numeric-value-2.txt"),
	}, []byte("\n"))
	tests := []struct {
		name     string
		input    []byte
		now      string
		status   verdict.Status
		reasons  []string
		warnings []string
		doses    int
	}{
		{"00 jws", vector(t, "spec", "example-00-d-jws.txt"), afterSpecNBF, verdict.Valid, nil, nil, 3},
		{"00 file", vector(t, "spec", "example-00-e-file.smart-health-card"), afterSpecNBF, verdict.Valid, nil, nil, 3},
		{"00 qr", vector(t, "spec", "example-00-f-qr-code-numeric-value-0.txt"), afterSpecNBF, verdict.Valid, nil, nil, 3},
		{"00 qr with newline", append(vector(t, "spec", "example-00-f-qr-code-numeric-value-0.txt"), '\n'), afterSpecNBF, verdict.Valid, nil, nil, 3},
		{"00 before nbf", vector(t, "spec", "example-00-d-jws.txt"), "2023-06-01T00:00:00Z", verdict.Invalid, []string{"nbf_future"}, nil, 3},
		{"01 jws (x5c not required)", vector(t, "spec", "example-01-d-jws.txt"), afterSpecNBF, verdict.Valid, nil, nil, 3},
		{"01 qr", vector(t, "spec", "example-01-f-qr-code-numeric-value-0.txt"), afterSpecNBF, verdict.Valid, nil, nil, 3},
		{"02 jws", vector(t, "spec", "example-02-d-jws.txt"), afterSpecNBF, verdict.Valid, nil, []string{"fhir_no_patient"}, 0},
		{"02 chunks", chunks, afterSpecNBF, verdict.Valid, nil, []string{"fhir_no_patient", "qr_chunked"}, 0},
		{"03 revoked", vector(t, "spec", "example-03-d-jws.txt"), afterSpecNBF, verdict.Invalid, []string{"revoked"}, nil, 2},
		{"03 revoked and expired", vector(t, "spec", "example-03-e-file.smart-health-card"), "2025-01-01T00:00:00Z", verdict.Invalid, []string{"revoked", "expired"}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.Now = at(tt.now)
			r := verifyOne(t, v, tt.input)
			if r.Status != tt.status || !slices.Equal(codes(r.Reasons), tt.reasons) && !(len(tt.reasons) == 0 && len(r.Reasons) == 0) {
				t.Fatalf("status %s reasons %v, want %s %v", r.Status, codes(r.Reasons), tt.status, tt.reasons)
			}
			if got := codes(r.Warnings); !slices.Equal(got, tt.warnings) && !(len(got) == 0 && len(tt.warnings) == 0) {
				t.Fatalf("warnings %v, want %v", got, tt.warnings)
			}
			if len(r.Doses) != tt.doses || r.Format != FormatSHC || r.Issuer.ID != specIss || r.Issuer.Name != "Spec example issuer" {
				t.Fatalf("result %+v", r)
			}
			if tt.doses == 3 && (r.Subject == nil || r.Subject.Name != "John B. Anyperson" || r.Subject.BirthDate != "1951-01-20" ||
				r.Doses[0].Vaccine != "Moderna COVID-19 (Spikevax)" || r.Doses[0].Date != "2021-01-01") {
				t.Fatalf("subject %+v doses %+v", r.Subject, r.Doses)
			}
			if r.IssuedAt == nil || r.IssuedAt.Unix() != 1687450764 {
				t.Fatalf("issued_at %v", r.IssuedAt)
			}
		})
	}
}

func TestNegativeVectors(t *testing.T) {
	v := &Verifier{Trust: trust.NewStore(specIssuer(t, false)), Now: at("2021-12-01T00:00:00Z")}
	tests := []struct {
		file   string
		status verdict.Status
		code   string
	}{
		{"test-example-00-d-jws-no_deflate.txt", verdict.Invalid, "zip_missing"},
		{"test-example-00-e-file-invalid_deflate.smart-health-card", verdict.Invalid, "deflate_zlib"},
		{"test-example-00-d-jws-der-signature.txt", verdict.Invalid, "signature_format"},
		{"test-example-00-d-jws-invalid-signature.txt", verdict.Invalid, "signature_invalid"},
		{"test-example-00-d-jws-issuer-kid-mismatch.txt", verdict.NotTrusted, "kid_unknown"},
		{"test-example-00-d-jws-wrong_jws_header_kid.txt", verdict.NotTrusted, "kid_unknown"},
		{"test-example-00-d-jws-no_jws_header_alg.txt", verdict.Invalid, "alg_missing"},
		{"test-example-00-d-jws-no_jws_header_kid.txt", verdict.Invalid, "kid_missing"},
		{"test-example-00-d-jws-no_jws_header_zip.txt", verdict.Invalid, "zip_missing"},
		{"test-example-00-d-jws-trailing_chars.txt", verdict.Invalid, "jws_whitespace"},
		{"test-example-00-d-jws-utf8_bom_prefix.txt", verdict.Invalid, "payload_bom"},
		{"test-example-00-d-jws-jws_too_long.txt", verdict.Invalid, "issuer_untrusted"},
		{"test-example-00-e-file-invalid_issuer_url_http.smart-health-card", verdict.Invalid, "iss_invalid"},
		{"test-example-00-e-file-issuer_url_with_trailing_slash.smart-health-card", verdict.Invalid, "iss_invalid"},
		{"test-example-00-f-qr-code-numeric-value-0-number-too-big.txt", verdict.Invalid, "qr_digits"},
		{"test-example-00-f-qr-code-numeric-value-0-odd-count.txt", verdict.Invalid, "qr_digits"},
		{"test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt", verdict.Invalid, "qr_prefix"},
		{"test-example-1195-byte-qrnumeric.txt", verdict.Valid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := verifyOne(t, v, vector(t, "negative", tt.file))
			if r.Status != tt.status {
				t.Fatalf("status %s (%v), want %s", r.Status, codes(r.Reasons), tt.status)
			}
			if tt.code != "" && !hasCode(r.Reasons, tt.code) {
				t.Fatalf("reasons %v lack %s", codes(r.Reasons), tt.code)
			}
			if tt.status != verdict.Valid && r.Subject != nil && r.Status != verdict.Invalid {
				t.Fatalf("untrusted card shows its subject")
			}
		})
	}
	// The too-long JWS is rejected for every defect, not only the first.
	r := verifyOne(t, v, vector(t, "negative", "test-example-00-d-jws-jws_too_long.txt"))
	for _, c := range []string{"nbf_missing", "vc_type_missing"} {
		if !hasCode(r.Reasons, c) {
			t.Errorf("jws_too_long: reasons %v lack %s", codes(r.Reasons), c)
		}
	}
	// The boundary vector fits one QR (it decodes to 1194 characters).
	jws, err := shc.ParseQRText(string(vector(t, "negative", "test-example-1195-byte-qrnumeric.txt")))
	if err != nil || len(jws) > shc.MaxQRJWSLength {
		t.Fatalf("boundary: %d chars %v", len(jws), err)
	}
}

// The -b- payloads and -a- bundles of the negative set are unsigned; they are
// signed here with our own key, trusted under the spec iss.
func TestNegativePayloads(t *testing.T) {
	own := newOwnIssuer(t, specIss, 0)
	v := &Verifier{Trust: trust.NewStore(own.issuer), Now: at("2021-12-01T00:00:00Z")}
	minify := func(b []byte) []byte {
		var out bytes.Buffer
		if err := json.Compact(&out, b); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	wrap := func(bundle []byte) []byte {
		return []byte(`{"iss":"` + specIss + `","nbf":1622690247.979,"vc":{"type":["` + shc.HealthCardType +
			`"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":` + string(minify(bundle)) + `}}}`)
	}
	tests := []struct {
		name    string
		payload []byte
		now     string
		status  verdict.Status
		code    string // a reason, or a warning when status is valid
	}{
		{"nbf milliseconds", minify(vector(t, "negative", "test-example-00-b-jws-payload-expanded-nbf_milliseconds.json")), "2021-12-01T00:00:00Z", verdict.Invalid, "nbf_milliseconds"},
		{"exp milliseconds", minify(vector(t, "negative", "test-example-00-b-jws-payload-expanded-exp_milliseconds.json")), "2021-12-20T00:00:00Z", verdict.Invalid, "exp_milliseconds"},
		{"expired", minify(vector(t, "negative", "test-example-00-b-jws-payload-expanded-expired.json")), "2021-12-20T00:00:00Z", verdict.Invalid, "expired"},
		{"missing health-card type", minify(vector(t, "negative", "test-example-00-b-jws-payload-expanded-missing-shc-vc-type.json")), "2021-12-01T00:00:00Z", verdict.Invalid, "vc_type_missing"},
		{"short refs", wrap(vector(t, "negative", "test-example-00-a-short-refs.json")), "2021-12-01T00:00:00Z", verdict.Invalid, "fhir_reference"},
		{"meta not security", wrap(vector(t, "negative", "test-example-00-a-fhirBundle-bad_meta_non_security.json")), "2021-12-01T00:00:00Z", verdict.Valid, "fhir_meta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.Now = at(tt.now)
			r := verifyOne(t, v, []byte(own.signRaw(t, tt.payload)))
			if r.Status != tt.status {
				t.Fatalf("status %s %v, want %s", r.Status, codes(r.Reasons), tt.status)
			}
			list := r.Reasons
			if tt.status == verdict.Valid {
				list = r.Warnings
			}
			if !hasCode(list, tt.code) {
				t.Fatalf("reasons %v warnings %v lack %s", codes(r.Reasons), codes(r.Warnings), tt.code)
			}
		})
	}
}

func TestTrustDecisions(t *testing.T) {
	jws := vector(t, "spec", "example-00-d-jws.txt")
	t.Run("unknown issuer", func(t *testing.T) {
		r := verifyOne(t, &Verifier{Now: at(afterSpecNBF)}, jws)
		if r.Status != verdict.NotTrusted || !hasCode(r.Reasons, "issuer_untrusted") || r.Subject != nil || len(r.Doses) != 0 || r.IssuedAt != nil {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("CRL announced but missing", func(t *testing.T) {
		r := verifyOne(t, &Verifier{Trust: trust.NewStore(specIssuer(t, true)), Now: at(afterSpecNBF)}, jws)
		if r.Status != verdict.Invalid || !hasCode(r.Reasons, "crl_unavailable") {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("other issuer's key", func(t *testing.T) {
		// Our own key trusted under the spec iss: the spec card's kid is unknown.
		own := newOwnIssuer(t, specIss, 0)
		r := verifyOne(t, &Verifier{Trust: trust.NewStore(own.issuer), Now: at(afterSpecNBF)}, jws)
		if r.Status != verdict.NotTrusted || !hasCode(r.Reasons, "kid_unknown") {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("key of another trusted issuer", func(t *testing.T) {
		// A card claiming iss A, signed by trusted issuer B's key, must fail
		// even though B is trusted: keys are looked up under the card's iss.
		a := newOwnIssuer(t, "https://a.example", 0)
		b := newOwnIssuer(t, "https://b.example", 0)
		p := samplePayload(t, "https://a.example", time.Now().Add(-time.Hour), "", "208")
		forged, err := shc.Sign(b.key, b.kid, p)
		if err != nil {
			t.Fatal(err)
		}
		r := verifyOne(t, &Verifier{Trust: trust.NewStore(a.issuer, b.issuer)}, []byte(forged))
		if r.Status == verdict.Valid || !hasCode(r.Reasons, "kid_unknown") {
			t.Fatalf("%+v", r)
		}
	})
}

func TestRevocationRule(t *testing.T) {
	own := newOwnIssuer(t, "https://vaxcert.example", 1)
	nbf := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	crl, err := trust.ParseCRL([]byte(`{"kid":"` + own.kid + `","method":"rid","ctr":"1","rids":["bare1","cut1.` +
		itoa(nbf.Unix()+1) + `","cut2.` + itoa(nbf.Unix()) + `"]}`))
	if err != nil {
		t.Fatal(err)
	}
	own.issuer.CRLs[own.kid] = crl
	v := &Verifier{Trust: trust.NewStore(own.issuer), Now: at("2024-06-01T00:00:00Z")}
	tests := []struct {
		rid     string
		revoked bool
	}{
		{"bare1", true},
		{"cut1", true},  // nbf earlier than the cut-off
		{"cut2", false}, // nbf equal to the cut-off: issued after revocation
		{"other", false},
		{"", false},
	}
	for _, tt := range tests {
		jws, err := shc.Sign(own.key, own.kid, samplePayload(t, own.issuer.Iss, nbf, tt.rid, "210", "210"))
		if err != nil {
			t.Fatal(err)
		}
		r := verifyOne(t, v, []byte(jws))
		if hasCode(r.Reasons, "revoked") != tt.revoked || (r.Status == verdict.Valid) == tt.revoked {
			t.Errorf("rid %q: %s %v", tt.rid, r.Status, codes(r.Reasons))
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRequireFullCourse(t *testing.T) {
	own := newOwnIssuer(t, "https://vaxcert.example", 0)
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	mk := func(nbf time.Time, dates []string, cvx ...string) []byte {
		p := samplePayload(t, own.issuer.Iss, nbf, "", cvx...)
		b, _ := shc.NewImmunizationBundle(shc.Patient{Name: []shc.HumanName{{Text: "X"}}}, nil)
		for i, code := range cvx {
			raw, _ := json.Marshal(shc.Immunization{Status: "completed", OccurrenceDateTime: dates[i],
				VaccineCode: shc.CodeableConcept{Coding: []shc.Coding{{System: shc.SystemCVX, Code: code}}},
				Patient:     shc.Reference{Reference: "resource:0"}})
			b.Entry = append(b.Entry, shc.Entry{FullURL: shc.ResourceRef(i + 1), Resource: raw})
		}
		p.VC.CredentialSubject.FHIRBundle = b
		jws, err := shc.Sign(own.key, own.kid, p)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(jws)
	}
	nbf := now.AddDate(0, 0, -1)
	tests := []struct {
		name  string
		card  []byte
		code  string
		valid bool
	}{
		{"two doses long ago", mk(nbf, []string{"2024-01-01", "2024-04-01"}, "210", "210"), "", true},
		{"one of two", mk(nbf, []string{"2024-01-01"}, "502"), "course_incomplete", false},
		{"single-dose vaccine", mk(nbf, []string{"2024-01-01"}, "212"), "", true},
		{"mixed two-dose vaccines", mk(nbf, []string{"2024-01-01", "2024-03-01"}, "207", "208"), "", true},
		{"last dose 10 days ago", mk(nbf, []string{"2024-01-01", "2024-05-22"}, "208", "208"), "course_too_recent", false},
		{"last dose exactly 14 days ago", mk(nbf, []string{"2024-01-01", "2024-05-18"}, "208", "208"), "", true},
		{"unknown vaccine needs two", mk(nbf, []string{"2024-01-01"}, "999"), "course_incomplete", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Trust: trust.NewStore(own.issuer), Now: func() time.Time { return now }, RequireFullCourse: true}
			r := verifyOne(t, v, tt.card)
			if (r.Status == verdict.Valid) != tt.valid || (tt.code != "" && !hasCode(r.Reasons, tt.code)) {
				t.Fatalf("%s %v", r.Status, codes(r.Reasons))
			}
			v.RequireFullCourse = false
			if r := verifyOne(t, v, tt.card); r.Status != verdict.Valid {
				t.Fatalf("without the flag: %s %v", r.Status, codes(r.Reasons))
			}
		})
	}
}

func TestUnrecognisedInputs(t *testing.T) {
	v := &Verifier{}
	tests := []struct {
		in, code string
	}{
		{"", "input_empty"},
		{"hello world", "input_unrecognized"},
		{"\xff\xfe\x00", "input_unrecognized"},
		{"\x89PNG\r\n\x1a\nbroken", "image_invalid"},
		{"%PDF-1.4\nnothing", "pdf_invalid"},
		{`{"foo":1}`, "file_invalid"},
	}
	for _, tt := range tests {
		r := verifyOne(t, v, []byte(tt.in))
		if r.Status != verdict.Invalid || !hasCode(r.Reasons, tt.code) {
			t.Errorf("%q: %s %v, want %s", tt.in, r.Status, codes(r.Reasons), tt.code)
		}
	}
}

// The verifier must stay a pure library: no server, store, issuer, template
// or database code may end up in it.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/vaxcert/vaxcert/verifier/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"store", "api", "issuer", "templates", "registration", "booking", "keys"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			p := "github.com/vaxcert/vaxcert/" + f
			if dep == p || strings.HasPrefix(dep, p+"/") {
				t.Errorf("verifier depends on %s", dep)
			}
		}
		if strings.Contains(dep, "jackc/pgx") || strings.Contains(dep, "sqlite") || dep == "database/sql" {
			t.Errorf("verifier depends on database code: %s", dep)
		}
	}
}
