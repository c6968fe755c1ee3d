package verifier

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/vectors"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

const specIss = "https://spec.smarthealth.cards/examples/issuer"

func vectorPath(t testing.TB, parts ...string) string {
	return vectors.Path(t, append([]string{"shc"}, parts...)...)
}

func vector(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(vectorPath(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// specIssuer is the spec's example issuer, with its key set and (unless
// withoutCRL) its CRL.
func specIssuer(t testing.TB, withoutCRL bool) *trust.Issuer {
	t.Helper()
	keys, _, err := trust.ParseJWKS(vector(t, "spec", "issuer-well-known-jwks.json"))
	if err != nil || len(keys) != 2 {
		t.Fatalf("spec JWKS: %d keys, %v", len(keys), err)
	}
	is := &trust.Issuer{Iss: specIss, Name: "Spec example issuer", Keys: map[string]*trust.Key{}, CRLs: map[string]*trust.CRL{}}
	for _, k := range keys {
		is.Keys[k.Kid] = k
	}
	if !withoutCRL {
		c, err := trust.ParseCRL(vector(t, "spec", "issuer-well-known-crl_3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"))
		if err != nil {
			t.Fatal(err)
		}
		is.CRLs[c.Kid] = c
	}
	return is
}

// ownIssuer is a freshly generated key trusted under iss.
type ownIssuer struct {
	key    *ecdsa.PrivateKey
	kid    string
	issuer *trust.Issuer
}

func newOwnIssuer(t testing.TB, iss string, crlVersion int) *ownIssuer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := trust.NewKey(&k.PublicKey, crlVersion)
	if err != nil {
		t.Fatal(err)
	}
	return &ownIssuer{key: k, kid: tk.Kid, issuer: &trust.Issuer{Iss: iss, Name: "Own test issuer",
		Keys: map[string]*trust.Key{tk.Kid: tk}, CRLs: map[string]*trust.CRL{}}}
}

// signRaw signs an arbitrary payload (already minified JSON) the SHC way,
// so tests can sign payloads shc.Sign would refuse to produce.
func (o *ownIssuer) signRaw(t testing.TB, payload []byte) string {
	t.Helper()
	deflated, err := shc.Deflate(payload)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString([]byte(`{"zip":"DEF","alg":"ES256","kid":"`+o.kid+`"}`)) + "." + b64.EncodeToString(deflated)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, o.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

func at(s string) func() time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

func codes(fs []verdict.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func hasCode(fs []verdict.Finding, code string) bool {
	for _, f := range fs {
		if f.Code == code {
			return true
		}
	}
	return false
}

// samplePayload is a two-dose card as our issuer would make it.
func samplePayload(t testing.TB, iss string, nbf time.Time, rid string, cvx ...string) shc.Payload {
	t.Helper()
	var doses []shc.Immunization
	for i, code := range cvx {
		doses = append(doses, shc.Immunization{
			Status:             "completed",
			VaccineCode:        shc.CodeableConcept{Coding: []shc.Coding{{System: shc.SystemCVX, Code: code}}},
			OccurrenceDateTime: nbf.AddDate(0, 0, -60+28*i).Format(time.DateOnly),
			LotNumber:          "4120Z001",
			Performer:          []shc.Performer{{Actor: shc.Actor{Display: "PHC Rampur"}}},
		})
	}
	b, err := shc.NewImmunizationBundle(shc.Patient{
		Name: []shc.HumanName{{Family: "Devi", Given: []string{"Sunita"}}}, BirthDate: "1975-08-15"}, doses)
	if err != nil {
		t.Fatal(err)
	}
	return shc.Payload{Iss: iss, NBF: shc.NewNumericDate(nbf), VC: shc.VC{
		Type:              []string{shc.HealthCardType},
		CredentialSubject: shc.CredentialSubject{FHIRVersion: shc.FHIRVersion, FHIRBundle: b},
		RID:               rid,
	}}
}
