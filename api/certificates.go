package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/templates"
)

// crl: GET /.well-known/crl/{kid}.json, the SMART Health Cards revocation
// list of a published key.
func (a *issuingAPI) crl(w http.ResponseWriter, r *http.Request) {
	body, err := a.iss.CRL(r.Context(), chi.URLParam(r, "kid"))
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	serveCacheable(w, r, "application/json", body, "public, max-age=60")
}

// Download formats, chosen by the file name's suffix.
var downloadFormats = []struct {
	suffix, contentType string
}{
	{shc.FileExtension, shc.FileContentType},
	{".fhir.json", "application/fhir+json"},
	{".png", "image/png"},
	{".pdf", "application/pdf"},
}

// qrPixels is the size of a QR module in the PNG, unless ?size= says.
const qrPixels = 4

// download: GET /api/v1/certificates/{id}.{smart-health-card|png|fhir.json|pdf}
// for the beneficiary's own account (session token), or with ?access= a
// download grant from the public OTP flow. Anyone else is told the
// certificate does not exist.
func (a *issuingAPI) download(w http.ResponseWriter, r *http.Request) {
	file := chi.URLParam(r, "file")
	var id, suffix, contentType string
	for _, f := range downloadFormats {
		if strings.HasSuffix(file, f.suffix) {
			id, suffix, contentType = strings.TrimSuffix(file, f.suffix), f.suffix, f.contentType
			break
		}
	}
	if id == "" {
		a.s.writeError(w, r, problem.New(problem.NotFound, "not-found",
			"Ask for {id}.smart-health-card, {id}.png, {id}.fhir.json or {id}.pdf."))
		return
	}
	allowed, err := a.mayDownload(r)
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	c, err := a.iss.Certificate(r.Context(), id)
	if err != nil && !problem.Is(err, problem.NotFound) {
		a.s.writeError(w, r, err)
		return
	}
	if err != nil || !allowed(c) {
		a.s.writeError(w, r, issuer.ErrCertificateNotFound)
		return
	}
	if c.Revoked() {
		a.s.writeError(w, r, problem.New(problem.Conflict, "certificate-revoked",
			"This certificate was revoked on %s; download the current one (GET /api/v1/certificates).", c.RevokedAt.Format(time.DateOnly)))
		return
	}
	var body []byte
	switch suffix {
	case shc.FileExtension:
		body, err = issuer.SmartHealthCardFile(c)
	case ".fhir.json":
		body, err = issuer.FHIRBundle(c)
	case ".png":
		size := qrPixels
		if v := r.URL.Query().Get("size"); v != "" {
			if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 16 {
				a.s.writeError(w, r, problem.Invalidf("size-invalid", "size is the pixels per QR module, 1 to 16."))
				return
			}
		}
		body, err = issuer.QRPNG(c, size)
	case ".pdf":
		body, err = a.pdf(r, c)
	}
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	// Personal data: never kept by shared caches or the browser's disk cache.
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.ID+suffix+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(body)
}

// mayDownload authenticates a download request and returns who it lets in.
func (a *issuingAPI) mayDownload(r *http.Request) (func(issuer.Certificate) bool, error) {
	if grant := r.URL.Query().Get("access"); grant != "" {
		ref, err := a.grants.verify(grant, a.now())
		if err != nil {
			return nil, err
		}
		return func(c issuer.Certificate) bool { return c.BeneficiaryRef == ref }, nil
	}
	token := bearerToken(r)
	if token == "" {
		return nil, problem.New(problem.Unauthorized, "token-missing",
			"Log in first (Authorization: Bearer <token>), or download with the OTP sent to the registered mobile (POST /api/v1/certificates/public/otp).")
	}
	p, err := a.s.auth.VerifyToken(r.Context(), token)
	if err != nil {
		return nil, err
	}
	return func(c issuer.Certificate) bool {
		return p.Role == registration.Citizen && p.AccountID != "" && c.AccountID == p.AccountID
	}, nil
}

// pdf renders the certificate PDF: ?variant=travel prints the passport
// number (the beneficiary must have registered with a passport); ?lang=
// chooses the second language.
func (a *issuingAPI) pdf(r *http.Request, c issuer.Certificate) ([]byte, error) {
	q := r.URL.Query()
	o := issuer.PDFOptions{Variant: q.Get("variant"), Lang: q.Get("lang")}
	switch o.Variant {
	case "", templates.VariantStandard:
		o.Variant = templates.VariantStandard
	case templates.VariantTravel:
		passport, err := a.passport(r, c)
		if err != nil {
			return nil, err
		}
		o.Passport = passport
	default:
		return nil, problem.Invalidf("variant-invalid", "variant is %s or %s.", templates.VariantStandard, templates.VariantTravel)
	}
	if o.Lang != "" && !validLang(o.Lang) {
		return nil, problem.Invalidf("lang-invalid", "lang is a language code such as hi or en.")
	}
	return a.iss.PDF(c, o)
}

func validLang(s string) bool {
	if len(s) < 2 || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

var errTravelNeedsPassport = problem.New(problem.Conflict, "travel-needs-passport",
	"The travel certificate prints the passport number, but this beneficiary registered with another photo ID.")

// passport opens the beneficiary's sealed passport number for the travel
// certificate. The issuer reads the registration as staff would: the caller
// has already been allowed to download this beneficiary's certificate.
func (a *issuingAPI) passport(r *http.Request, c issuer.Certificate) (string, error) {
	if a.reg == nil || c.Details.IDType != string(registration.Passport) {
		return "", errTravelNeedsPassport
	}
	b, err := a.reg.Beneficiary(r.Context(), registration.Principal{Role: registration.Admin}, c.BeneficiaryRef)
	if err != nil {
		return "", err
	}
	if b.IDType != registration.Passport {
		return "", errTravelNeedsPassport
	}
	return a.reg.RevealID(b, b.IDSealed)
}

// publicOTP: POST /api/v1/certificates/public/otp {"beneficiary_reference_id"}
// → {"txn_id"}: an OTP goes to the mobile registered for the beneficiary
// (the answer is the same for an unknown reference).
func (a *issuingAPI) publicOTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ref string `json:"beneficiary_reference_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		a.s.writeError(w, r, err)
		return
	}
	txn, err := a.reg.StartBeneficiaryOTP(r.Context(), in.Ref)
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"txn_id": txn})
}

// grantValidity is how long a public download grant lasts.
const grantValidity = 15 * time.Minute

// publicConfirm: POST /api/v1/certificates/public/confirm {"txn_id","otp"}
// → the beneficiary's current certificate with download links carrying a
// short-lived grant (?access=).
func (a *issuingAPI) publicConfirm(w http.ResponseWriter, r *http.Request) {
	var in otpConfirm
	if err := decodeJSON(r, &in); err != nil {
		a.s.writeError(w, r, err)
		return
	}
	if in.TxnID == "" || in.OTP == "" {
		a.s.writeError(w, r, problem.Invalidf("otp-invalid", "Send txn_id and otp."))
		return
	}
	ref, err := a.reg.ConfirmBeneficiaryOTP(r.Context(), in.TxnID, in.OTP)
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	c, err := a.iss.Current(r.Context(), ref)
	if err != nil {
		a.s.writeError(w, r, err)
		return
	}
	exp := a.now().Add(grantValidity)
	grant := a.grants.issue(ref, exp)
	v := viewCertificate(c, false)
	for k, link := range v.Links {
		sep := "?"
		if strings.Contains(link, "?") {
			sep = "&"
		}
		v.Links[k] = link + sep + "access=" + grant
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"certificate": v, "access": grant, "expires_at": exp.UTC().Format(time.RFC3339)})
}

// grantKey signs download grants: "base64url(ref.expiry).base64url(mac)",
// an HMAC-SHA-256 (truncated to 128 bits) over the beneficiary and expiry.
type grantKey []byte

var errGrantInvalid = problem.New(problem.Unauthorized, "download-grant-invalid",
	"The download link is invalid or has expired; ask for a new OTP.")

// notGrantRune reports a rune that is neither base64url nor the dot.
func notGrantRune(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
}

func (k grantKey) mac(payload string) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("vaxcert certificate download\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

func (k grantKey) issue(ref string, exp time.Time) string {
	payload := ref + "." + strconv.FormatInt(exp.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(k.mac(payload))
}

func (k grantKey) verify(grant string, now time.Time) (string, error) {
	// Go's base64 decoders skip CR and LF, so the alphabet is checked first:
	// one spelling per grant.
	if len(k) < 16 || len(grant) > 256 || strings.ContainsFunc(grant, notGrantRune) {
		return "", errGrantInvalid
	}
	p, m, ok := strings.Cut(grant, ".")
	enc := base64.RawURLEncoding.Strict()
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, k.mac(string(payload))) {
		return "", errGrantInvalid
	}
	ref, exp, ok := strings.Cut(string(payload), ".")
	sec, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || now.Unix() >= sec {
		return "", errGrantInvalid
	}
	return ref, nil
}
