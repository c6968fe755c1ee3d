// Package verdict is the one result type every verifier format (SMART Health
// Cards, EU DCC, CoWIN/DIVOC) reports in, so a checkpoint reads one shape
// whatever it scanned. Its JSON form is the stable schema of `vaxverify
// verify --json` and of POST /api/v1/verify: fields may be added, never
// renamed or removed.
package verdict

import "time"

// Status is the overall outcome.
type Status string

const (
	// Valid: well formed, signed by a trusted key, not revoked, in date.
	Valid Status = "valid"
	// Invalid: malformed, tampered, revoked, expired or otherwise rejected.
	Invalid Status = "invalid"
	// NotTrusted: the signature may be sound but the issuer or key is not in
	// the trust store, so nothing it says can be relied on.
	NotTrusted Status = "not_trusted"
)

// Label is the word a person sees: VALID, INVALID or NOT TRUSTED.
func (s Status) Label() string {
	switch s {
	case Valid:
		return "VALID"
	case NotTrusted:
		return "NOT TRUSTED"
	default:
		return "INVALID"
	}
}

// Finding is one reason or warning. Code is stable and machine-readable
// (snake_case, e.g. "signature_invalid", "revoked", "expired"); Message is for
// people.
type Finding struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Subject is the person the certificate is about.
type Subject struct {
	Name      string `json:"name"`
	BirthDate string `json:"birth_date,omitempty"` // YYYY, YYYY-MM or YYYY-MM-DD
	Age       string `json:"age,omitempty"`        // when the format carries an age instead
	Gender    string `json:"gender,omitempty"`
	ID        string `json:"id,omitempty"` // a document or reference number, as the format carries it
}

// Dose is one vaccination event.
type Dose struct {
	Number       int    `json:"number,omitempty"` // dose n of Total; 0 when the format does not say
	Total        int    `json:"total,omitempty"`
	Date         string `json:"date"`    // YYYY-MM-DD
	Vaccine      string `json:"vaccine"` // a display name
	VaccineCode  string `json:"vaccine_code,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Lot          string `json:"lot,omitempty"`
	Performer    string `json:"performer,omitempty"` // who or where administered it
	Country      string `json:"country,omitempty"`
	Issuer       string `json:"issuer,omitempty"`
}

// Issuer says who signed.
type Issuer struct {
	ID   string `json:"id"`             // SHC iss, DCC country/issuer, or a DID
	Name string `json:"name,omitempty"` // display name from the trust store
	KID  string `json:"kid,omitempty"`
}

// Result is the outcome of verifying one input.
type Result struct {
	Source        string     `json:"source,omitempty"` // the input's name: a path, "-" or "(text)"
	Format        string     `json:"format"`           // "shc", "eu-dcc" or "divoc"
	Status        Status     `json:"status"`
	Reasons       []Finding  `json:"reasons,omitempty"`  // why it is not valid
	Warnings      []Finding  `json:"warnings,omitempty"` // accepted, but worth knowing
	Issuer        Issuer     `json:"issuer"`
	Subject       *Subject   `json:"subject,omitempty"`
	Doses         []Dose     `json:"doses,omitempty"`
	CertificateID string     `json:"certificate_id,omitempty"`
	IssuedAt      *time.Time `json:"issued_at,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`

	// Kind says what the certificate attests, for formats that carry more
	// than vaccinations: "vaccination", "test" or "recovery" (EU DCC). Only
	// a vaccination has Doses; a test fills Test, a recovery Recovery.
	Kind     string      `json:"kind,omitempty"`
	Test     *TestResult `json:"test,omitempty"`
	Recovery *Recovery   `json:"recovery,omitempty"`
}

// TestResult is a test certificate's content (EU DCC "t").
type TestResult struct {
	Type      string `json:"type"`           // e.g. "NAAT (e.g. PCR)", "Rapid antigen test"
	Name      string `json:"name,omitempty"` // the test or device
	Result    string `json:"result"`         // "Not detected" or "Detected"
	Collected string `json:"collected"`      // sample collection time, RFC 3339
	Centre    string `json:"centre,omitempty"`
	Country   string `json:"country,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
}

// Recovery is a recovery certificate's content (EU DCC "r").
type Recovery struct {
	FirstPositive string `json:"first_positive"` // date of the first positive test, YYYY-MM-DD
	ValidFrom     string `json:"valid_from"`     // YYYY-MM-DD
	ValidUntil    string `json:"valid_until"`    // YYYY-MM-DD
	Country       string `json:"country,omitempty"`
	Issuer        string `json:"issuer,omitempty"`
}

// Reject records a reason and makes the result invalid.
func (r *Result) Reject(code, message string) {
	r.Status = Invalid
	r.Reasons = append(r.Reasons, Finding{Code: code, Message: message})
}

// Warn records a warning without changing the status.
func (r *Result) Warn(code, message string) {
	r.Warnings = append(r.Warnings, Finding{Code: code, Message: message})
}
