package issuer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/vaccine"
)

// The vc.type values of a vaccination card. v1.4.0 deprecates the last two,
// but verifiers in the field (and the dev tools) still look for them.
const (
	typeImmunization = "https://smarthealth.cards#immunization"
	typeCOVID19      = "https://smarthealth.cards#covid19"
)

// Limits the specification sets on a QR-bound card's FHIR bundle.
const (
	MaxLotLength       = 20 // Immunization.lotNumber
	MaxPerformerLength = 30 // Immunization.performer[0].actor.display
)

// jwsMargin is kept free below shc.MaxQRJWSLength when a card is decided
// with the rid of the key active then: if another key signs it (a rotation in
// between), its rid is as long but compresses a little differently.
const jwsMargin = 8

// cardContent is what a card says, before it is fitted to one QR code.
type cardContent struct {
	iss       string
	nbf       int64
	name      string
	birthDate string
	doses     []Dose
	catalog   *vaccine.Catalog
}

// payload builds the card's payload (without rid) with performer names cut
// to performerMax characters; performerMax 0 leaves performers out.
func (c cardContent) payload(performerMax int) (shc.Payload, error) {
	patient := shc.Patient{Name: []shc.HumanName{{Text: c.name}}, BirthDate: c.birthDate}
	ims := make([]shc.Immunization, 0, len(c.doses))
	for _, d := range c.doses {
		v, ok := c.catalog.Lookup(d.Vaccine)
		if !ok {
			return shc.Payload{}, fmt.Errorf("issuer: dose %d: vaccine %q is not in the catalog", d.Number, d.Vaccine)
		}
		im := shc.Immunization{
			Status:             "completed",
			VaccineCode:        shc.CodeableConcept{Coding: []shc.Coding{{System: shc.SystemCVX, Code: v.CVX}}},
			OccurrenceDateTime: d.Date.Format("2006-01-02"),
			LotNumber:          d.Lot,
		}
		if p := truncate(d.Performer, performerMax); p != "" {
			im.Performer = []shc.Performer{{Actor: shc.Actor{Display: p}}}
		}
		ims = append(ims, im)
	}
	bundle, err := shc.NewImmunizationBundle(patient, ims)
	if err != nil {
		return shc.Payload{}, err
	}
	return shc.Payload{
		Iss: c.iss,
		NBF: shc.NumericDate(strconv.FormatInt(c.nbf, 10)),
		VC: shc.VC{
			Type:              []string{shc.HealthCardType, typeImmunization, typeCOVID19},
			CredentialSubject: shc.CredentialSubject{FHIRVersion: shc.FHIRVersion, FHIRBundle: bundle},
		},
	}, nil
}

// fit returns the payload JSON (without rid) of the fullest card that still
// fits one QR code once rid is added. Only the performer display is
// shortened and then left out, which the profile allows; a dose, the lot
// numbers and the name are never dropped. A card that still does not fit is
// refused.
func (c cardContent) fit(rid string) ([]byte, error) {
	for _, performerMax := range []int{MaxPerformerLength, 20, 12, 0} {
		p, err := c.payload(performerMax)
		if err != nil {
			return nil, err
		}
		p.VC.RID = rid
		n, err := jwsLength(p)
		if err != nil {
			return nil, err
		}
		if n <= shc.MaxQRJWSLength-jwsMargin {
			p.VC.RID = ""
			return json.Marshal(p)
		}
	}
	return nil, problem.New(problem.Conflict, "certificate-too-large",
		"The certificate would not fit one QR code, even with the vaccinator's place left out: the name is too long. Correct the name first.")
}

// jwsLength is the length of the compact JWS that shc.Sign produces for p:
// base64url of the fixed-size header, of the raw-DEFLATEd minified payload,
// and of a 64-byte signature. A payload so small that even stored
// uncompressed it would fit is not compressed: DEFLATE never emits more than
// the input plus five bytes per stored block (65535 bytes) and a final
// block, so that bound is returned instead.
func jwsLength(p shc.Payload) (int, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	enc := base64.RawURLEncoding
	fixed := enc.EncodedLen(len(jwsHeaderTemplate)) + 1 + 1 + enc.EncodedLen(64)
	if bound := len(raw) + 5*(len(raw)/65535+1) + 5; fixed+enc.EncodedLen(bound) <= shc.MaxQRJWSLength-jwsMargin {
		return fixed + enc.EncodedLen(bound), nil
	}
	deflated, err := shc.Deflate(raw)
	if err != nil {
		return 0, err
	}
	return fixed + enc.EncodedLen(len(deflated)), nil
}

// jwsHeaderTemplate has the length of every card's protected header (a kid
// is always 43 characters).
var jwsHeaderTemplate = `{"zip":"DEF","alg":"ES256","kid":"` + strings.Repeat("k", 43) + `"}`

// truncate cuts s to at most n characters (runes), never inside a rune, and
// trims the spaces a cut may leave.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	count := 0
	for i := range s {
		if count == n {
			return strings.TrimSpace(s[:i])
		}
		count++
	}
	return s
}

// rid is the card's revocation ID as the specification recommends:
// base64url(HMAC-SHA-256(secret ‖ kid, beneficiary)[0:8]). It is the same for
// every card of one beneficiary signed by one key, so one CRL entry with a
// cutoff ("rid.<time>") revokes a card and everything issued to that person
// before it, and nothing after. The kid in the key keeps rids of different
// keys unlinkable.
func rid(secret []byte, kid, beneficiaryRef string) string {
	key := make([]byte, 0, len(secret)+len(kid))
	key = append(append(key, secret...), kid...)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(beneficiaryRef))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:8])
}

// signedPayload is the stored payload with the rid for kid added: exactly
// what gets signed.
func signedPayload(stored []byte, secret []byte, kid, beneficiaryRef string) (shc.Payload, error) {
	var p shc.Payload
	if err := json.Unmarshal(stored, &p); err != nil {
		return shc.Payload{}, fmt.Errorf("issuer: stored payload: %w", err)
	}
	p.VC.RID = rid(secret, kid, beneficiaryRef)
	return p, nil
}
