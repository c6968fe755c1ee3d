// Package eudcc verifies EU Digital COVID Certificates (the "HC1:" QR
// codes) offline, against document signer certificates (DSCs) kept in a
// trust directory, and reports a verdict.Result with Format "eu-dcc".
//
// The pipeline (hcert spec v1.0.8, eu-dcc-schema 1.3.x):
//
//	"HC1:" text → Base45 (RFC 9285, strict) → zlib (capped at 64 KiB)
//	→ COSE_Sign1 (untagged, tag 18, or CWT tag 61 around tag 18)
//	→ kid → trusted DSCs with that kid → ES256 / PS256 signature
//	→ CWT claims (iss, iat, exp, hcert -260/1) → DCC schema → checks
//
// After the signature verifies, every content check runs and each failure
// adds a reason: expiry (exp, iat), DSC validity at the verification time,
// the DSC's key usage for the certificate's kind, schema, and for tests a
// positive result or a sample taken in the future. Before it verifies, the
// first failure ends the verification and no content is reported, because
// unsigned content must not be shown as if it meant something.
//
// Only vaccinations become verdict.Dose entries. A test or recovery
// certificate is reported with Kind "test" or "recovery", its details in
// Result.Test or Result.Recovery, and a warning, so that a checkpoint cannot
// mistake it for a vaccination.
//
// Business rules (CertLogic: how many days after which dose counts as
// protected, how long a test is accepted) are national and out of scope.
package eudcc

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/verifier/eudcc/cose"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// Format is the verdict.Result format of EU DCCs.
const Format = "eu-dcc"

// Detect reports whether input looks like an EU DCC: "HC1:" after trimming
// surrounding whitespace.
func Detect(input []byte) bool {
	return strings.HasPrefix(strings.TrimLeft(string(input), " \t\r\n"), Prefix)
}

// Verify verifies the HC1 text in input at time at, trusting the DSCs stored
// in <trustDir>/dsc/.
func Verify(input []byte, trustDir string, at time.Time) verdict.Result {
	return VerifyFrom(input, at, func(kid []byte) (*TrustStore, error) {
		return loadTrustStore(trustDir, kid)
	})
}

// VerifyWith verifies the HC1 text in input at time at against store.
func VerifyWith(input []byte, store *TrustStore, at time.Time) verdict.Result {
	return VerifyFrom(input, at, func([]byte) (*TrustStore, error) { return store, nil })
}

// VerifyFrom verifies the HC1 text in input at time at against the DSCs
// that trusted returns for its kid. An error from trusted refuses the
// certificate with trust_store_invalid.
func VerifyFrom(input []byte, at time.Time, trusted func(kid []byte) (*TrustStore, error)) verdict.Result {
	r := verdict.Result{Format: Format, Status: verdict.Invalid}
	coseBytes, err := DecodeText(string(input))
	if err != nil {
		rejectErr(&r, err)
		return r
	}
	msg, err := ParseCOSE(coseBytes)
	if err != nil {
		rejectErr(&r, err)
		return r
	}
	if err := checkHeaders(msg); err != nil {
		rejectErr(&r, err)
		return r
	}
	// Unverified, but it names the DSC to import when the kid is unknown.
	r.Issuer.KID = base64.StdEncoding.EncodeToString(msg.KID)
	store, err := trusted(msg.KID)
	if err != nil {
		r.Reject(CodeTrustStoreInvalid, err.Error())
		return r
	}
	dsc, err := VerifySignature(msg, store)
	if err != nil {
		rejectErr(&r, err)
		if CodeOf(err) == CodeKIDUnknown {
			r.Status = verdict.NotTrusted
		}
		return r
	}
	r.Issuer.Name = signerName(dsc)

	claims, err := ParseClaims(msg.Payload)
	if err != nil {
		rejectErr(&r, err)
		return r
	}
	r.Issuer.ID = claims.Issuer
	if claims.HasIat {
		r.IssuedAt = timePtr(claims.IssuedAt)
	}
	if claims.HasExp {
		r.ExpiresAt = timePtr(claims.ExpiresAt)
	}
	var dcc *DCC
	doc, err := DecodeDCC(claims.DCC)
	if err == nil {
		dcc, err = ParseDCC(doc)
	}
	if err != nil {
		rejectErr(&r, err)
	} else {
		report(&r, dcc, at)
		if r.Issuer.ID == "" {
			r.Issuer.ID = dcc.Country()
		}
	}

	for _, err := range CheckValidity(claims, dsc, at) {
		rejectErr(&r, err)
	}
	if dcc != nil && !KeyUsageAllows(dsc, dcc.Kind()) {
		r.Reject(CodeKeyUsage, fmt.Sprintf("the document signer certificate may not sign %s certificates (extended key usage)", dcc.Kind()))
	}
	if len(r.Reasons) == 0 {
		r.Status = verdict.Valid
	}
	return r
}

// VerifySignature finds the trusted DSCs for the message's kid and returns
// the one whose key verifies the signature. The kid must be 8 bytes; a kid
// in the protected header is the only one considered, even when it is wrong
// and the unprotected one would match.
func VerifySignature(msg *cose.Sign1, store *TrustStore) (*x509.Certificate, error) {
	if err := checkHeaders(msg); err != nil {
		return nil, err
	}
	kid := base64.StdEncoding.EncodeToString(msg.KID)
	candidates := store.Lookup(msg.KID)
	if len(candidates) == 0 {
		return nil, fail(CodeKIDUnknown, nil, "no trusted document signer certificate has kid %s", kid)
	}
	mismatches := 0
	var last error
	for _, cert := range candidates {
		err := msg.Verify(cert.PublicKey)
		if err == nil {
			return cert, nil
		}
		if errors.Is(err, cose.ErrKeyMismatch) {
			mismatches++
		}
		last = err
	}
	if mismatches == len(candidates) {
		return nil, fail(CodeKeyMismatch, last, "%s does not fit the key of the certificate with kid %s", cose.AlgName(msg.Alg), kid)
	}
	return nil, fail(CodeSignatureInvalid, last, "the signature does not verify with the certificate(s) with kid %s", kid)
}

// checkHeaders rejects what no DSC could verify: an algorithm other than
// ES256 and PS256, and a missing kid or one that is not 8 bytes.
func checkHeaders(msg *cose.Sign1) error {
	if msg.Alg != cose.AlgES256 && msg.Alg != cose.AlgPS256 {
		return fail(CodeAlgUnsupported, nil, "algorithm %s is not ES256 or PS256", cose.AlgName(msg.Alg))
	}
	if msg.KID == nil {
		return fail(CodeKIDInvalid, nil, "no kid in either header")
	}
	if len(msg.KID) != kidSize {
		return fail(CodeKIDInvalid, nil, "kid is %d bytes, want %d", len(msg.KID), kidSize)
	}
	return nil
}

// CheckValidity returns every time-related reason to reject: at must lie in
// [iat, exp] of the claims (both are required) and in the DSC's validity.
func CheckValidity(claims *Claims, dsc *x509.Certificate, at time.Time) []error {
	var errs []error
	day := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	if !claims.HasIat || !claims.HasExp {
		errs = append(errs, fail(CodeCWTInvalid, nil, "the certificate lacks iat or exp"))
	}
	if claims.HasIat && at.Before(claims.IssuedAt) {
		errs = append(errs, fail(CodeNotYetValid, nil, "issued at %s, after the verification time %s", day(claims.IssuedAt), day(at)))
	}
	if claims.HasExp && at.After(claims.ExpiresAt) {
		errs = append(errs, fail(CodeExpired, nil, "expired at %s", day(claims.ExpiresAt)))
	}
	if dsc != nil {
		if at.Before(dsc.NotBefore) {
			errs = append(errs, fail(CodeDSCNotYetValid, nil, "the document signer certificate is valid only from %s", day(dsc.NotBefore)))
		}
		if at.After(dsc.NotAfter) {
			errs = append(errs, fail(CodeDSCExpired, nil, "the document signer certificate expired at %s", day(dsc.NotAfter)))
		}
	}
	return errs
}

// report fills the result with the certificate's content and the checks
// that depend on its kind.
func report(r *verdict.Result, d *DCC, at time.Time) {
	r.Subject = &verdict.Subject{Name: d.Name.DisplayName(), BirthDate: d.DateOfBirth}
	r.CertificateID = d.CertificateID()
	r.Kind = string(d.Kind())
	switch {
	case d.Vaccination != nil:
		v := d.Vaccination
		warnUnknown(r, "tg", v.Disease, "disease")
		warnUnknown(r, "mp", v.Product, "vaccine product")
		r.Doses = []verdict.Dose{{
			Number:       v.DoseNumber,
			Total:        v.TotalDoses,
			Date:         v.Date,
			Vaccine:      display("mp", v.Product),
			VaccineCode:  v.Product,
			Manufacturer: display("ma", v.Manufacturer),
			Country:      v.Country,
			Issuer:       v.Issuer,
		}}
	case d.Test != nil:
		t := d.Test
		warnUnknown(r, "tg", t.Disease, "disease")
		r.Test = &verdict.TestResult{
			Type:      display("tt", t.Type),
			Name:      firstNonEmpty(t.Name, t.Device),
			Result:    display("tr", t.Result),
			Collected: t.SampleCollected.UTC().Format(time.RFC3339),
			Centre:    t.Centre,
			Country:   t.Country,
			Issuer:    t.Issuer,
		}
		r.Warn(WarnTestCertificate, fmt.Sprintf("this is a test certificate, not a vaccination: %s, %s, sample taken %s (%s)",
			r.Test.Type, strings.ToLower(r.Test.Result), r.Test.Collected, age(at.Sub(t.SampleCollected))))
		switch t.Result {
		case testNotDetected:
		case testDetected:
			r.Reject(CodeTestPositive, "the test result is positive (SARS-CoV-2 detected)")
		default:
			r.Reject(CodeTestResultUnknown, fmt.Sprintf("unknown test result code %q: not a negative result", t.Result))
		}
		if t.SampleCollected.After(at) {
			r.Reject(CodeTestSampleFuture, fmt.Sprintf("the sample was taken at %s, after the verification time", r.Test.Collected))
		}
	case d.Recovery != nil:
		rec := d.Recovery
		warnUnknown(r, "tg", rec.Disease, "disease")
		r.Recovery = &verdict.Recovery{
			FirstPositive: rec.FirstPositive,
			ValidFrom:     rec.ValidFrom,
			ValidUntil:    rec.ValidUntil,
			Country:       rec.Country,
			Issuer:        rec.Issuer,
		}
		r.Warn(WarnRecoveryCertificate, fmt.Sprintf("this is a recovery certificate, not a vaccination: first positive test %s, valid %s to %s",
			rec.FirstPositive, rec.ValidFrom, rec.ValidUntil))
		today := at.UTC().Format(time.DateOnly)
		if today < rec.ValidFrom || today > rec.ValidUntil {
			r.Warn(WarnRecoveryPeriod, fmt.Sprintf("%s is outside the recovery validity %s to %s", today, rec.ValidFrom, rec.ValidUntil))
		}
	}
}

// age says how long ago something happened, in the unit a checkpoint
// reads test validity in: hours up to three days, then days.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < 72*time.Hour:
		return fmt.Sprintf("%d hours before the verification time", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days before the verification time", int(d.Hours()/24))
	}
}

func warnUnknown(r *verdict.Result, set, code, what string) {
	if !known(set, code) {
		r.Warn(WarnUnknownCode, fmt.Sprintf("unknown %s code %q", what, code))
	}
}

func rejectErr(r *verdict.Result, err error) {
	var e *Error
	if errors.As(err, &e) {
		r.Reject(e.Code, e.Message)
		return
	}
	r.Reject(CodeCOSEInvalid, err.Error())
}

func timePtr(t time.Time) *time.Time { return &t }

// signerName is how a checkpoint sees a document signer: its common name
// (else its organisation, else its whole subject) and the country its
// certificate names, which a checkpoint can hold against the issuer the
// certificate claims.
func signerName(dsc *x509.Certificate) string {
	s := dsc.Subject
	name := s.String()
	switch {
	case s.CommonName != "":
		name = s.CommonName
	case len(s.Organization) > 0 && s.Organization[0] != "":
		name = s.Organization[0]
	default:
		return name // the subject names its country itself
	}
	if len(s.Country) > 0 && s.Country[0] != "" {
		name += ", " + s.Country[0]
	}
	return name
}
