package issuer

import (
	"time"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/vaccine"
)

// Dose is one vaccine dose as recorded.
type Dose struct {
	ID             string
	BeneficiaryRef string
	Number         int
	Vaccine        string    // vaccine catalog code, e.g. COVISHIELD
	Date           time.Time // the day it was given (UTC midnight)
	Lot            string
	CentreID       string
	Performer      string // the centre's name when the dose was given
	District       string
	State          string
	RecordedBy     string // audit actor
	RecordedAt     time.Time
}

// Status is where a certificate is in the issuing pipeline.
type Status string

const (
	// Pending: stored, not yet signed (or signed but not yet marked issued).
	// The service finishes pending certificates at start and periodically.
	Pending Status = "pending"
	// Issued: signed, self-checked against the published keys, final.
	Issued Status = "issued"
)

// Reasons a certificate was issued.
const (
	ReasonDose       = "dose"       // a dose was recorded
	ReasonCorrection = "correction" // an admin corrected the beneficiary's details
	ReasonReissue    = "reissue"    // an admin issued the current doses again
)

// Certificate is one SMART Health Card issued (or being issued) for a
// beneficiary. The newest one is the beneficiary's current certificate.
type Certificate struct {
	ID             string
	BeneficiaryRef string
	AccountID      string // the account that owns the beneficiary (read only)
	Status         Status
	Course         vaccine.Status // provisional, final or precaution
	DoseCount      int
	Reason         string
	DoseID         string // the dose that caused it ("" for a correction)
	// Payload is the SMART Health Card payload as decided when the
	// certificate was stored, minified JSON without vc.rid: the rid depends
	// on the signing key and is added when the card is signed.
	Payload []byte
	Details Details // what the documents print besides the card
	NBF     int64   // the card's nbf, seconds; strictly increasing per beneficiary
	KID     string  // set when issued
	RID     string  // set when issued
	JWS     string  // set when issued
	// CreatedAt is when it was stored pending; IssuedAt when it was marked
	// issued (zero while pending).
	CreatedAt    time.Time
	IssuedAt     time.Time
	RevokedAt    time.Time // zero unless revoked
	RevokeReason string
}

// Revoked reports whether the certificate has been revoked.
func (c Certificate) Revoked() bool { return !c.RevokedAt.IsZero() }

// Details are the facts a certificate document prints that the SMART Health
// Card does not carry (or carries shortened), captured when the certificate
// was decided so that a document always matches its card.
type Details struct {
	Name         string      `json:"name"`
	Gender       string      `json:"gender"`
	BirthDate    string      `json:"birth_date"` // YYYY-MM-DD
	IDType       string      `json:"id_type"`
	IDMasked     string      `json:"id_masked"`
	PrimaryDoses int         `json:"primary_doses"` // doses in the full primary course
	Doses        []DoseFacts `json:"doses"`
}

// DoseFacts is one dose as printed.
type DoseFacts struct {
	Number       int    `json:"number"`
	Vaccine      string `json:"vaccine"` // catalog code
	VaccineName  string `json:"vaccine_name"`
	Manufacturer string `json:"manufacturer"`
	Date         string `json:"date"` // YYYY-MM-DD
	Lot          string `json:"lot"`
	Centre       string `json:"centre"`
	District     string `json:"district"`
	State        string `json:"state"`
}

// Centre is what the issuer needs of a vaccination centre.
type Centre struct {
	ID       string
	Name     string
	District string
	State    string
}

// Subject is what the store knows about a beneficiary when a certificate is
// decided, read inside the deciding transaction with the beneficiary locked.
type Subject struct {
	Beneficiary registration.Beneficiary
	Doses       []Dose // ordered by number
	LastNBF     int64  // the newest nbf of any of its certificates; 0 if none
}

// IdempotencyID names an idempotency key: the same key from different
// callers (scopes) never collides.
type IdempotencyID struct {
	Scope string // who sent it: "user:<account>" or "import"
	Key   string
}

// IdempotencyRecord is what a key already used points at.
type IdempotencyRecord struct {
	RequestHash   string
	DoseID        string
	CertificateID string
}

// DoseJob is one dose request travelling through Store.Write. The issuer
// fills the request part; decide sets exactly one of Plan, Replay and Err;
// the store fills Loaded for replays.
type DoseJob struct {
	Req    DoseRequest
	Hash   string // of the request, for idempotency
	DoseID string // allocated before the transaction
	CertID string
	Now    time.Time

	Plan   *DosePlan
	Replay *IdempotencyRecord // the key was used before with the same request
	Err    error

	// Loaded is the dose and certificate a replay points at.
	Loaded *Recorded
}

// DosePlan is what the store writes for one accepted dose: the dose, a pending
// certificate, the beneficiary's open appointment for that dose marked
// completed, the idempotency key (if any) and the audit entries, all in the
// batch's one transaction.
type DosePlan struct {
	Dose        Dose
	Certificate Certificate
	Audit       []audit.Entry
}

// DoseBatch is what decide sees: the jobs and everything the store read for
// them inside the transaction.
type DoseBatch struct {
	Jobs     []*DoseJob
	Subjects map[string]*Subject // by beneficiary reference; absent: no such beneficiary
	Centres  map[string]Centre   // by centre ID; absent: no such centre
	Used     map[IdempotencyID]IdempotencyRecord
}

// WriteBatch is the work of one write transaction (Store.Write): signed
// certificates to mark issued, and dose requests to record. Sharing one
// transaction halves the commits (and the audit chain's lock) per
// certificate.
type WriteBatch struct {
	Issued []*IssueJob
	Doses  []*DoseJob
	Decide func(*DoseBatch) // required when Doses is not empty
}

// IssueJob marks one signed certificate issued, compare-and-set on its
// pending state. Won reports whether this job did it (false: someone else
// finished the certificate first).
type IssueJob struct {
	CertID   string
	KID      string
	RID      string
	JWS      string
	IssuedAt time.Time
	Audit    audit.Entry
	Won      bool
}

// Revocation is one CRL entry: every card of the key kid with vc.rid RID and
// an nbf before Cutoff is revoked ("rid.cutoff").
type Revocation struct {
	KID    string
	RID    string
	Cutoff int64
}

// BeneficiaryView is what ChangeBeneficiary's decide sees.
type BeneficiaryView struct {
	Subject
	Certificates []Certificate // newest first
}

// Change is what ChangeBeneficiary writes, in one transaction: corrected
// personal details, a new pending certificate, CRL entries (each raises the
// stored cutoff of its kid and rid, never lowers it, and bumps the key's CRL
// counter), certificates marked revoked, and audit entries.
type Change struct {
	Beneficiary  *registration.Beneficiary // Name, Gender, BirthDate, Corrections
	Certificate  *Certificate
	Revocations  []Revocation
	Revoked      []string // certificate IDs
	RevokedAt    time.Time
	RevokeReason string
	Audit        []audit.Entry
}

// CertificateFilter selects certificates for listings.
type CertificateFilter struct {
	BeneficiaryRef string // "" for any
	Status         Status // "" for any
	Limit          int    // 0 for a default
}
