package divoc

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// Format is the verdict.Result format name of CoWIN/DIVOC certificates.
const Format = "divoc"

// detachedHeader is the only JWS header CoWIN uses: PS256 over the raw
// (unencoded, RFC 7797) verification data.
const detachedHeader = `{"alg":"PS256","b64":false,"crit":["b64"]}`

var detachedHeaderB64 = base64.RawURLEncoding.EncodeToString([]byte(detachedHeader))

// proofMembers are the members a CoWIN RsaSignature2018 proof may have.
var proofMembers = map[string]bool{"type": true, "created": true, "verificationMethod": true, "proofPurpose": true, "jws": true}

// Detect reports whether input looks like a CoWIN certificate: raw ZIP bytes
// whose first entry is certificate.json, or a JSON object whose @context
// names a CoWIN vaccination context. It is cheap and does not verify.
func Detect(input []byte) bool {
	if bytes.HasPrefix(input, zipMagic) {
		name, _, ok := localHeader(input)
		return ok && name == certificateEntry
	}
	trimmed := bytes.TrimSpace(input)
	if len(trimmed) == 0 || trimmed[0] != '{' || len(trimmed) > MaxCertificateSize {
		return false
	}
	var head struct {
		Context []any `json:"@context"`
	}
	if json.Unmarshal(trimmed, &head) != nil {
		return false
	}
	for _, c := range head.Context {
		if s, ok := c.(string); ok && strings.HasPrefix(s, "https://cowin.gov.in/credentials/vaccination/") {
			return true
		}
	}
	return false
}

// Verify checks a CoWIN certificate (raw QR ZIP bytes or certificate.json)
// against the keys of trustDir (see LoadKeyRing) at time at. It never uses
// the network.
func Verify(input []byte, trustDir string, at time.Time) verdict.Result {
	ring, err := LoadKeyRing(trustDir)
	if err != nil {
		res := verdict.Result{Format: Format}
		res.Reject("trust_store_error", err.Error())
		return res
	}
	return VerifyWithKeys(input, ring, at)
}

// VerifyWithKeys is Verify with an explicit key ring.
//
// Outcome: VALID when the signature verifies with a trusted key for the
// proof's verificationMethod and every check passes. NOT TRUSTED (reason
// key_unknown) when nothing is wrong but the signature verifies only with a
// known untrusted key, or when no trusted key exists for that DID (so the
// signature cannot be checked at all). INVALID otherwise, in particular when
// trusted keys exist for the DID and the signature verifies with none of
// them (signature_invalid). Any rejection makes the result INVALID even if
// the key is not trusted.
func VerifyWithKeys(input []byte, ring KeyRing, at time.Time) verdict.Result {
	res := verdict.Result{Format: Format, Status: verdict.Valid}

	data := input
	if bytes.HasPrefix(input, zipMagic) {
		var err error
		if data, err = ExtractCertificate(input); err != nil {
			code := "zip_invalid"
			if errors.Is(err, ErrZIPTooLarge) {
				code = "zip_too_large"
			}
			res.Reject(code, err.Error())
			return res
		}
	}
	if len(data) > MaxCertificateSize {
		res.Reject("input_too_large", fmt.Sprintf("the certificate is %d bytes, the limit is %d", len(data), MaxCertificateSize))
		return res
	}
	doc, err := decodeStrictJSON(data)
	if err != nil {
		res.Reject("json_invalid", "not a CoWIN certificate: "+err.Error())
		return res
	}
	if err := checkShape(doc); err != nil {
		rejectProblem(&res, err)
		return res
	}
	if err := checkContext(doc); err != nil {
		rejectProblem(&res, err)
		return res
	}
	proof, ok := doc["proof"].(map[string]any)
	if !ok {
		res.Reject("proof_missing", "the certificate carries no proof")
		return res
	}
	unsigned := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			unsigned[k] = v
		}
	}

	// What the certificate says, so a rejected one can still be shown.
	cert, certErr := readCertificate(unsigned)
	if certErr != nil {
		rejectProblem(&res, certErr)
	} else {
		fillResult(&res, cert)
	}

	// Signature and trust.
	vm, _ := proof["verificationMethod"].(string)
	res.Issuer.ID = vm
	untrusted := false
	key, docNQuads, sigErr := checkProof(unsigned, proof, ring)
	switch {
	case sigErr == nil:
		res.Issuer.Name = key.Name
		res.Issuer.KID = key.Fingerprint
	case errors.Is(sigErr, errUntrusted):
		untrusted = true
		if key.Name != "" {
			res.Issuer.Name = key.Name
			res.Issuer.KID = key.Fingerprint
		}
	default:
		rejectProblem(&res, sigErr)
	}

	if cert != nil && docNQuads != "" {
		if err := checkSigned(docNQuads, unsigned); err != nil {
			rejectProblem(&res, err)
		}
	}
	if cert != nil {
		created, _ := proof["created"].(string)
		problems, warnings := cert.plausibility(at, created)
		for _, p := range problems {
			res.Reject(p.code, p.message)
		}
		for _, w := range warnings {
			res.Warn(w.code, w.message)
		}
	}

	if untrusted && res.Status != verdict.Invalid {
		res.Status = verdict.NotTrusted
		msg := fmt.Sprintf("no key for %s is trusted, so the signature cannot be checked; "+
			"import the issuer's public key with `vaxverify trust import --did %s`", orUnknown(vm), orUnknown(vm))
		if key.Name != "" {
			// Recognised but not trusted (e.g. DIVOC's public development
			// key): say whose it is, and do not suggest trusting it.
			msg = fmt.Sprintf("signed with %s (SHA-256 %s), which is not trusted", key.Name, key.Fingerprint[:16])
		}
		res.Reasons = append(res.Reasons, verdict.Finding{Code: "key_unknown", Message: msg})
	}
	return res
}

// errUntrusted marks a signature that is sound with a known untrusted key,
// or that cannot be checked because no key for the DID is trusted.
var errUntrusted = errors.New("key not trusted")

// checkProof verifies the RsaSignature2018 proof over doc (without its
// proof). It returns the trusted key that verified it; errUntrusted (with
// the known key, if one verified it); or a *problem / *linkedDataError.
// docNQuads is the canonical form of doc once it has been computed.
func checkProof(doc, proof map[string]any, ring KeyRing) (key Key, docNQuads string, err error) {
	for k, v := range proof {
		if !proofMembers[k] {
			return Key{}, "", &problem{code: "proof_unsupported", message: fmt.Sprintf("unexpected proof member %q", k)}
		}
		if _, ok := v.(string); !ok {
			return Key{}, "", &problem{code: "proof_unsupported", message: fmt.Sprintf("proof member %q is not a string", k)}
		}
	}
	if t := proof["type"]; t != "RsaSignature2018" {
		return Key{}, "", &problem{code: "proof_unsupported", message: fmt.Sprintf("proof type %v; CoWIN signs with RsaSignature2018", t)}
	}
	if p := proof["proofPurpose"]; p != "assertionMethod" {
		return Key{}, "", &problem{code: "proof_unsupported", message: fmt.Sprintf("proof purpose %v; expected assertionMethod", p)}
	}
	vm, _ := proof["verificationMethod"].(string)
	if vm == "" {
		return Key{}, "", &problem{code: "proof_unsupported", message: "the proof names no verificationMethod"}
	}
	jws, _ := proof["jws"].(string)
	header, payload, sigB64, ok := splitJWS(jws)
	if !ok || payload != "" {
		return Key{}, "", &problem{code: "proof_unsupported", message: "the proof's jws is not a detached compact JWS"}
	}
	if header != detachedHeaderB64 {
		return Key{}, "", &problem{code: "proof_unsupported", message: "the JWS header is not exactly " + detachedHeader}
	}

	docNQuads, err = canonicalize(doc)
	if err != nil {
		return Key{}, "", err
	}
	options := make(map[string]any, len(proof))
	for k, v := range proof {
		if k != "jws" {
			options[k] = v
		}
	}
	options["@context"] = securityV2URL
	optionsNQuads, err := canonicalize(options)
	if err != nil {
		return Key{}, docNQuads, err
	}
	digest := signingDigest(header, optionsNQuads, docNQuads)

	// Some JWS writers pad; the padding carries no information.
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(sigB64, "="))
	if err != nil {
		return Key{}, docNQuads, &problem{code: "signature_invalid", message: "the signature is not base64url: " + err.Error()}
	}

	trustedForDID := 0
	for _, k := range ring.Trusted {
		if k.DID != vm {
			continue
		}
		trustedForDID++
		if verifyPS256(k.PublicKey, digest, sig) {
			return k, docNQuads, nil
		}
	}
	for _, k := range ring.Known {
		if k.DID == vm && verifyPS256(k.PublicKey, digest, sig) {
			return k, docNQuads, errUntrusted
		}
	}
	if trustedForDID == 0 {
		return Key{}, docNQuads, errUntrusted
	}
	return Key{}, docNQuads, &problem{code: "signature_invalid",
		message: fmt.Sprintf("the signature does not verify with any trusted key for %s: the certificate was altered or signed by another key", vm)}
}

// signingDigest is SHA-256 of the JWS signing input for b64=false:
// ASCII(base64url(header) + ".") ‖ SHA-256(c14n proof options) ‖
// SHA-256(c14n document), as jsonld-signatures' RsaSignature2018 builds it.
func signingDigest(headerB64, optionsNQuads, docNQuads string) []byte {
	optionsHash := sha256.Sum256([]byte(optionsNQuads))
	docHash := sha256.Sum256([]byte(docNQuads))
	h := sha256.New()
	h.Write([]byte(headerB64 + "."))
	h.Write(optionsHash[:])
	h.Write(docHash[:])
	return h.Sum(nil)
}

// verifyPS256 checks RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte
// salt. RFC 7518 fixes the salt length of PS256 to the hash length, and
// every real CoWIN and DIVOC signature examined uses exactly that, so other
// salt lengths are refused rather than auto-detected.
func verifyPS256(pub *rsa.PublicKey, digest, sig []byte) bool {
	return rsa.VerifyPSS(pub, crypto.SHA256, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
}

func splitJWS(jws string) (header, payload, sig string, ok bool) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func rejectProblem(res *verdict.Result, err error) {
	var p *problem
	var l *linkedDataError
	switch {
	case errors.As(err, &p):
		res.Reject(p.code, p.message)
	case errors.As(err, &l):
		res.Reject(l.code, l.err.Error())
	default:
		res.Reject("certificate_malformed", err.Error())
	}
}

func fillResult(res *verdict.Result, c *certificate) {
	subj := &verdict.Subject{Name: c.name, Age: c.age, Gender: c.gender, ID: c.subjectID}
	if c.dob != "" {
		subj.BirthDate = c.dob
	}
	res.Subject = subj
	if t, err := parseDate(c.issuance); err == nil {
		res.IssuedAt = &t
	}
	for _, v := range c.vaccination {
		dose, _ := parseDose(v.dose)
		total, _ := parseDose(v.total)
		res.Doses = append(res.Doses, verdict.Dose{
			Number:       dose,
			Total:        total,
			Date:         day(v.date),
			Vaccine:      v.vaccine,
			Manufacturer: v.manufacturer,
			Lot:          v.batch,
			Performer:    v.centre,
			Country:      v.country,
			Issuer:       c.issuer,
		})
	}
	if len(c.vaccination) > 0 {
		v := c.vaccination[0]
		res.CertificateID = v.certificateID
		if res.CertificateID == "" {
			if suffix, ok := strings.CutPrefix(v.id, "https://cowin.gov.in/vaccine/"); ok && isDigits(suffix) {
				res.CertificateID = suffix
			}
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(no verificationMethod)"
	}
	return s
}
