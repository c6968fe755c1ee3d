package registration

import (
	"context"
	"errors"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// Store is what registration needs persisted. store/sqlite and
// store/postgres implement it; store/storetest holds both to it.
type Store interface {
	// EnsureAccount returns the account of mobile, first creating it as a
	// citizen account with ID newID if there is none.
	EnsureAccount(ctx context.Context, mobile, newID string, now time.Time) (Account, error)
	// PutStaffAccount creates or updates the account of a.Mobile with a.Role
	// and a.Centres (a.ID is used only when creating).
	PutStaffAccount(ctx context.Context, a Account) (Account, error)
	// Account returns an account by ID, or ErrAccountNotFound.
	Account(ctx context.Context, id string) (Account, error)

	// CreateOTP inserts txn after decide accepts the mobile's and client's
	// recent usage; the usage read, the decision and the insert are atomic,
	// so concurrent requests cannot exceed a cap together.
	CreateOTP(ctx context.Context, txn OTPTxn, since time.Time, decide func(OTPUsage) error) error
	// UseOTP locks the transaction, calls fn, and saves the Attempts and
	// UsedAt that fn set, whether or not fn returns an error (a wrong guess
	// must count). It returns fn's error, or ErrOTPUnknown.
	UseOTP(ctx context.Context, id string, fn func(*OTPTxn) error) error

	// AddBeneficiary inserts b unless its account already has max
	// beneficiaries (ErrTooManyBeneficiaries) or b.IDHash is registered
	// (ErrDuplicateID). ErrRefIDTaken asks the caller to draw another RefID.
	AddBeneficiary(ctx context.Context, b Beneficiary, idHash string, max int) error
	// Beneficiaries lists an account's beneficiaries, oldest first.
	Beneficiaries(ctx context.Context, accountID string) ([]Beneficiary, error)
	// Beneficiary returns one beneficiary (with AccountID and IDSealed), or
	// ErrBeneficiaryNotFound.
	Beneficiary(ctx context.Context, refID string) (Beneficiary, error)
	// UpdateBeneficiary replaces the personal details and ID of the
	// beneficiary b.RefID owned by b.AccountID, if no dose has been
	// recorded for it (else ErrHasDoses).
	UpdateBeneficiary(ctx context.Context, b Beneficiary, idHash string) error
	// DeleteBeneficiary removes a beneficiary owned by accountID that has no
	// dose (else ErrHasDoses), cancelling its open appointment and giving the
	// slot back, in one transaction.
	DeleteBeneficiary(ctx context.Context, accountID, refID string) error
	// BeneficiaryMobile is the mobile of the account owning refID.
	BeneficiaryMobile(ctx context.Context, refID string) (string, error)
}

// OTPPurpose says what a confirmed OTP unlocks.
type OTPPurpose string

const (
	PurposeLogin       OTPPurpose = "login"       // a session token for the mobile
	PurposeBeneficiary OTPPurpose = "beneficiary" // one beneficiary's certificate download
)

// OTPTxn is one OTP sent (or, for an unknown beneficiary, pretended to be).
type OTPTxn struct {
	ID        string // a UUID, the txnId clients hold
	Purpose   OTPPurpose
	Mobile    string // where it went; "" when nothing was sent
	RateKey   string // what per-mobile limits count: the mobile, or "ref:<id>" for a decoy
	ClientKey string // what per-client limits count: a keyed hash of the client IP
	Subject   string // the beneficiary reference a PurposeBeneficiary OTP unlocks
	MAC       []byte // HMAC of the OTP; the OTP itself is never stored
	CreatedAt time.Time
	ExpiresAt time.Time
	Attempts  int       // wrong guesses so far
	UsedAt    time.Time // zero until confirmed
}

// OTPUsage is what CreateOTP's decide sees: OTPs created since a moment.
type OTPUsage struct {
	ByKey        int       // with the same RateKey
	ByClient     int       // with the same ClientKey (0 if the key is empty)
	LastByKey    time.Time // the newest with the same RateKey, ever (zero if none)
	OldestByKey  time.Time // the oldest counted in ByKey
	OldestClient time.Time // the oldest counted in ByClient
}

// Errors the store returns. They are *problem.Error values, so the HTTP edge
// can answer them directly.
var (
	ErrAccountNotFound      = problem.New(problem.NotFound, "account-not-found", "No such account.")
	ErrBeneficiaryNotFound  = problem.New(problem.NotFound, "beneficiary-not-found", "No such beneficiary under this account.")
	ErrTooManyBeneficiaries = problem.New(problem.Conflict, "beneficiary-limit", "This mobile number already has the most beneficiaries allowed (4).")
	ErrDuplicateID          = problem.New(problem.Conflict, "id-already-registered", "This photo ID is already registered for a beneficiary. Each ID can be registered once.")
	ErrHasDoses             = problem.New(problem.Conflict, "beneficiary-vaccinated", "A dose has been recorded for this beneficiary: the details can no longer be changed here (ask the vaccination centre for a correction) and the beneficiary cannot be deleted.")
	ErrOTPUnknown           = problem.New(problem.Unauthorized, "otp-txn-unknown", "No such OTP request: ask for a new OTP.")
	ErrOTPWrong             = problem.New(problem.Unauthorized, "otp-wrong", "The OTP is not correct.")
	ErrOTPExpired           = problem.New(problem.Unauthorized, "otp-expired", "The OTP has expired: ask for a new one.")
	ErrOTPUsed              = problem.New(problem.Unauthorized, "otp-used", "This OTP has already been used: ask for a new one.")
	ErrOTPAttempts          = problem.New(problem.TooMany, "otp-attempts-exceeded", "Too many wrong OTPs for this request: ask for a new OTP.")

	// ErrRefIDTaken: the drawn beneficiary reference exists; draw again.
	ErrRefIDTaken = errors.New("registration: beneficiary reference ID already taken")
)
