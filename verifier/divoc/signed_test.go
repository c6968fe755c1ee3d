package divoc

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSigned(t *testing.T) {
	load := func() map[string]any {
		doc, err := decodeStrictJSON(readSample(t, "third-march-user-one.certificate.json"))
		if err != nil {
			t.Fatal(err)
		}
		delete(doc, "proof")
		return doc
	}
	nquads, err := canonicalize(load())
	if err != nil {
		t.Fatal(err)
	}
	dropLine := func(containing string) string {
		var kept []string
		for _, line := range strings.SplitAfter(nquads, "\n") {
			if !strings.Contains(line, containing) {
				kept = append(kept, line)
			}
		}
		if len(kept) == len(strings.SplitAfter(nquads, "\n")) {
			t.Fatalf("no statement contains %q", containing)
		}
		return strings.Join(kept, "")
	}
	tests := []struct {
		name    string
		nquads  string
		edit    func(map[string]any)
		missing string // "" for none
	}{
		{"as signed", nquads, func(map[string]any) {}, ""},
		{"name statement dropped", dropLine(`"Third March User One"`), func(map[string]any) {}, "credentialSubject.name"},
		{"dose statement dropped", dropLine(`"1"^^`), func(map[string]any) {}, "evidence[0].dose"},
		{"centre statement dropped", dropLine(`"Himachal Site Name 176207"`), func(map[string]any) {}, "evidence[0].facility.name"},
		{"subject link dropped", dropLine(predCredentialSubject), func(map[string]any) {}, "credentialSubject.id"},
		{"value not signed", nquads, func(d map[string]any) { subject(d)["gender"] = "Female" }, "credentialSubject.gender"},
		{"number instead of string", nquads, func(d map[string]any) { subject(d)["age"] = 65.0 }, "credentialSubject.age"},
		{"value with quotes", nquads, func(d map[string]any) { subject(d)["name"] = `Third "March" User One` }, "credentialSubject.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := load()
			tt.edit(doc)
			err := checkSigned(tt.nquads, doc)
			if tt.missing == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var p *problem
			if !errors.As(err, &p) || p.code != "unsigned_data" || !strings.Contains(p.message, tt.missing) {
				t.Fatalf("got %v, want unsigned_data naming %s", err, tt.missing)
			}
		})
	}
}

// Every sample that canonicalises has all its shown values signed.
func TestCheckSignedSamples(t *testing.T) {
	for _, name := range []string{
		"third-march-user-one.certificate.json",
		"divoc-signer-test-devkey-2021-01-15.certificate.json",
		"divoc-signer-test-devkey-space-in-id.certificate.json",
		"pathcheck-testkey-bhaya-mitra-2021-04-15.certificate.json",
		"divoc-digilocker-test-resubelpara-unverifiable.certificate.json",
	} {
		doc, err := decodeStrictJSON(readSample(t, name))
		if err != nil {
			t.Fatal(err)
		}
		delete(doc, "proof")
		nquads, err := canonicalize(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := checkSigned(nquads, doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// json-gold panics when a "type" (or "" member) is not a string; the
// fuzzer found it. checkShape refuses such input, and canonicalize turns a
// panic into an error should any other input provoke one.
func TestJSONLDPanicsAreContained(t *testing.T) {
	for _, obj := range []map[string]any{{"": 10.0}, {"type": 5.0}} {
		doc := map[string]any{
			"@context":          []any{credentialsV1URL, cowinV1URL},
			"type":              []any{"VerifiableCredential", "ProofOfVaccinationCredential"},
			"credentialSubject": map[string]any{"type": "Person", "address": obj},
		}
		var lde *linkedDataError
		if _, err := canonicalize(doc); !errors.As(err, &lde) || lde.code != "jsonld_invalid" {
			t.Errorf("%v: canonicalize returned %v, want jsonld_invalid", obj, err)
		}
		var p *problem
		if err := checkShape(doc); !errors.As(err, &p) || p.code != "certificate_malformed" {
			t.Errorf("%v: checkShape returned %v, want certificate_malformed", obj, err)
		}
	}
}
