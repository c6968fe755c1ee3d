package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

const testIss = "https://vaxcert.example"

// card signs a minimal vaccination card.
func card(t testing.TB, key *ecdsa.PrivateKey, iss string) string {
	t.Helper()
	bundle, err := shc.NewImmunizationBundle(
		shc.Patient{Name: []shc.HumanName{{Family: "Sharma", Given: []string{"Asha"}}}, BirthDate: "1980-04-02"},
		[]shc.Immunization{{Status: "completed", VaccineCode: shc.CodeableConcept{Coding: []shc.Coding{{System: shc.SystemCVX, Code: "210"}}},
			OccurrenceDateTime: "2021-05-01", LotNumber: "4121Z040"}})
	if err != nil {
		t.Fatal(err)
	}
	p := shc.Payload{Iss: iss, NBF: shc.NewNumericDate(time.Date(2021, 5, 2, 0, 0, 0, 0, time.UTC))}
	p.VC.Type = []string{shc.HealthCardType, "https://smarthealth.cards#immunization"}
	p.VC.CredentialSubject.FHIRVersion = shc.FHIRVersion
	p.VC.CredentialSubject.FHIRBundle = bundle
	jws, err := shc.Sign(key, keys.Thumbprint(&key.PublicKey), p)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

func bundleFor(t testing.TB, iss string, pub *ecdsa.PublicKey) []byte {
	t.Helper()
	jwks, _ := json.Marshal(keys.JWKS{Keys: []keys.JWK{keys.PublicJWK(pub)}})
	entry, _ := json.Marshal(map[string]any{"iss": iss, "name": "test", "jwks": json.RawMessage(jwks)})
	b, _ := json.Marshal(map[string]any{"issuers": []json.RawMessage{entry}})
	return b
}

func TestParseBundleAndVerify(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tr, err := ParseBundle(bundleFor(t, testIss, &key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(tr)
	good := card(t, key, testIss)
	qr := shc.QRText(good)
	tampered := []byte(qr)
	tampered[len(tampered)-5] = '0' + (tampered[len(tampered)-5]-'0'+1)%10
	tests := []struct {
		name  string
		input string
		want  verdict.Status
	}{
		{"qr text", qr, verdict.Valid},
		{"jws", good, verdict.Valid},
		{"tampered qr", string(tampered), verdict.Invalid},
		{"unknown signer", card(t, stranger, testIss), verdict.NotTrusted},
		{"garbage", "hello", verdict.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var results []verdict.Result
			if err := json.Unmarshal([]byte(verifyJSON(v, []byte(tt.input), "test")), &results); err != nil {
				t.Fatal(err)
			}
			if len(results) == 0 || results[0].Status != tt.want {
				t.Fatalf("got %+v, want %s", results, tt.want)
			}
			if tt.want == verdict.Valid && (results[0].Subject == nil || results[0].Subject.Name == "" || len(results[0].Doses) != 1) {
				t.Errorf("a valid result names the person and the doses: %+v", results[0])
			}
		})
	}
}

func TestParseBundleRejects(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := map[string]string{
		"not json":    "{",
		"no issuers":  `{}`,
		"http issuer": string(bundleFor(t, "http://127.0.0.1:8080", &key.PublicKey)),
		"bad jwks":    `{"issuers":[{"iss":"https://a.example","jwks":{"keys":"x"}}]}`,
		"too large":   `{"issuers":[],"pad":"` + strings.Repeat("x", MaxBundleSize) + `"}`,
		"bad signer":  `{"issuers":[],"dscs":["MIIB"]}`,
	}
	for name, in := range tests {
		if _, err := ParseBundle([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if tr, err := ParseBundle([]byte(`{"issuers":[]}`)); err != nil || len(tr.Issuers.Issuers()) != 0 || tr.Signers.Len() != 0 {
		t.Errorf("an empty bundle trusts no one: %v", err)
	}
}

func FuzzParseBundle(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(bundleFor(f, testIss, &key.PublicKey))
	f.Add([]byte(`{"issuers":[]}`))
	f.Add([]byte(`{"issuers":[],"dscs":["MIIB"]}`))
	f.Add([]byte(`{"issuers":[{"iss":"https://a.example","jwks":{"keys":[]},"crls":[{"kid":"k","method":"rid","ctr":1,"rids":["abc.5"]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ParseBundle(b)
		if err == nil && (tr.Issuers == nil || tr.Signers == nil) {
			t.Fatal("no error and no trust")
		}
	})
}
