package registration

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/internal/metrics"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration/sms"
)

// Limits are the anti-abuse rules of OTPs and the size of a household.
type Limits struct {
	OTPValidity      time.Duration // how long an OTP may be confirmed (3 minutes)
	OTPAttempts      int           // wrong guesses allowed per OTP request (3)
	OTPCooldown      time.Duration // between two OTPs to one mobile (60 s)
	OTPPerMobileHour int           // OTPs per mobile per hour (10)
	OTPPerClientHour int           // OTPs per client IP per hour (60)
	MaxBeneficiaries int           // per mobile (4, as on Co-WIN)
}

// DefaultLimits are the rules when nothing is configured.
var DefaultLimits = Limits{
	OTPValidity:      3 * time.Minute,
	OTPAttempts:      3,
	OTPCooldown:      60 * time.Second,
	OTPPerMobileHour: 10,
	OTPPerClientHour: 60,
	MaxBeneficiaries: 4,
}

// Config builds a Service.
type Config struct {
	Store   Store
	SMS     sms.Sender
	Tokens  *Tokens
	Secrets Secrets
	Limits  Limits           // zero fields take DefaultLimits
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger
}

// Service is registration: OTP login, session tokens, beneficiaries.
type Service struct {
	store  Store
	sms    sms.Sender
	tokens *Tokens
	otpKey []byte
	vault  *IDVault
	limits Limits
	now    func() time.Time
	log    *slog.Logger
}

// NewService checks the configuration and builds the service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.SMS == nil || cfg.Tokens == nil {
		return nil, errors.New("registration: Store, SMS and Tokens are required")
	}
	if len(cfg.Secrets.OTP) < 16 {
		return nil, errors.New("registration: OTP secret is missing or too short")
	}
	vault, err := NewIDVault(cfg.Secrets.IDHash, cfg.Secrets.IDSeal)
	if err != nil {
		return nil, err
	}
	l := cfg.Limits
	d := DefaultLimits
	if l.OTPValidity <= 0 {
		l.OTPValidity = d.OTPValidity
	}
	if l.OTPAttempts <= 0 {
		l.OTPAttempts = d.OTPAttempts
	}
	if l.OTPCooldown < 0 {
		l.OTPCooldown = 0
	}
	if l.OTPPerMobileHour <= 0 {
		l.OTPPerMobileHour = d.OTPPerMobileHour
	}
	if l.OTPPerClientHour <= 0 {
		l.OTPPerClientHour = d.OTPPerClientHour
	}
	if l.MaxBeneficiaries <= 0 {
		l.MaxBeneficiaries = d.MaxBeneficiaries
	}
	s := &Service{store: cfg.Store, sms: cfg.SMS, tokens: cfg.Tokens, otpKey: cfg.Secrets.OTP,
		vault: vault, limits: l, now: cfg.Now, log: cfg.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Limits returns the limits in force.
func (s *Service) Limits() Limits { return s.limits }

// Vault is the ID vault, for packages that read beneficiaries directly.
func (s *Service) Vault() *IDVault { return s.vault }

type clientKey struct{}

// WithClientIP records the caller's IP address in ctx; the OTP caps per
// client count by it. The HTTP edge sets it on every request.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientKey{}, ip)
}

// clientRateKey is a keyed hash of the client IP: the database counts
// clients without keeping their addresses.
func (s *Service) clientRateKey(ctx context.Context) string {
	ip, _ := ctx.Value(clientKey{}).(string)
	if ip == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.otpKey)
	m.Write([]byte("client\x00" + ip))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// StartLogin sends a login OTP to mobile and returns the transaction ID to
// confirm it with. It answers the same whether or not the mobile has an
// account: the account is created at the first confirmation.
func (s *Service) StartLogin(ctx context.Context, mobile string) (txnID string, err error) {
	m, err := NormalizeMobile(mobile)
	if err != nil {
		return "", err
	}
	return s.startOTP(ctx, PurposeLogin, m, m, "",
		"%s is your vaxcert login OTP. It is valid for %d minutes. Do not share it with anyone.")
}

// ConfirmLogin checks the OTP of a login transaction and returns a session
// token for the mobile's account (created as a citizen account if new).
func (s *Service) ConfirmLogin(ctx context.Context, txnID, otp string) (token string, expires time.Time, err error) {
	digest, err := otpDigest(otp)
	if err != nil {
		return "", time.Time{}, err
	}
	return s.ConfirmLoginDigest(ctx, txnID, digest)
}

// ConfirmLoginDigest is ConfirmLogin for clients that send the OTP's SHA-256
// in hex, as Co-WIN clients do.
func (s *Service) ConfirmLoginDigest(ctx context.Context, txnID, otpSHA256 string) (token string, expires time.Time, err error) {
	txn, err := s.confirmOTP(ctx, PurposeLogin, txnID, otpSHA256)
	if err != nil {
		return "", time.Time{}, err
	}
	acct, err := s.store.EnsureAccount(ctx, txn.Mobile, newUUID(), s.now().UTC())
	if err != nil {
		return "", time.Time{}, err
	}
	return s.tokens.Issue(acct.Principal())
}

// StartBeneficiaryOTP sends an OTP to the mobile of the account that owns
// refID, for a certificate download without logging in (Co-WIN style). It
// never reveals whether refID exists: for an unknown reference it returns a
// transaction ID just the same, which no OTP will ever confirm.
func (s *Service) StartBeneficiaryOTP(ctx context.Context, refID string) (txnID string, err error) {
	refID = strings.TrimSpace(refID)
	if !refIDPattern.MatchString(refID) {
		return "", problem.Invalidf("beneficiary-ref-invalid", "A beneficiary reference ID has 14 digits.")
	}
	mobile, err := s.store.BeneficiaryMobile(ctx, refID)
	switch {
	case errors.Is(err, ErrBeneficiaryNotFound):
		return s.startOTP(ctx, PurposeBeneficiary, "", "ref:"+refID, refID, "")
	case err != nil:
		return "", err
	}
	return s.startOTP(ctx, PurposeBeneficiary, mobile, mobile, refID,
		"%s is your OTP to download the vaccination certificate of beneficiary "+MaskRef(refID)+". It is valid for %d minutes. Do not share it.")
}

// ConfirmBeneficiaryOTP checks an OTP from StartBeneficiaryOTP and returns
// the beneficiary reference it unlocks.
func (s *Service) ConfirmBeneficiaryOTP(ctx context.Context, txnID, otp string) (refID string, err error) {
	digest, err := otpDigest(otp)
	if err != nil {
		return "", err
	}
	txn, err := s.confirmOTP(ctx, PurposeBeneficiary, txnID, digest)
	if err != nil {
		return "", err
	}
	return txn.Subject, nil
}

// startOTP applies the caps, stores the OTP's MAC and sends the SMS. With
// mobile "" it stores a decoy that cannot be confirmed and sends nothing.
func (s *Service) startOTP(ctx context.Context, purpose OTPPurpose, mobile, rateKey, subject, text string) (string, error) {
	now := s.now().UTC()
	otp, err := newOTP()
	if err != nil {
		return "", err
	}
	txn := OTPTxn{
		ID: newUUID(), Purpose: purpose, Mobile: mobile, RateKey: rateKey,
		ClientKey: s.clientRateKey(ctx), Subject: subject,
		CreatedAt: now, ExpiresAt: now.Add(s.limits.OTPValidity),
	}
	if mobile == "" {
		txn.MAC = make([]byte, sha256.Size)
		rand.Read(txn.MAC) // matches nothing: no OTP was sent
	} else {
		txn.MAC = s.otpMAC(txn.ID, sha256Hex(otp))
	}
	err = s.store.CreateOTP(ctx, txn, now.Add(-time.Hour), func(u OTPUsage) error { return s.checkQuota(now, u) })
	if err != nil {
		if problem.Is(err, problem.TooMany) {
			metrics.OTPs.WithLabelValues("capped").Inc()
		}
		return "", err
	}
	if mobile != "" {
		msg := fmt.Sprintf(text, otp, int(s.limits.OTPValidity/time.Minute))
		if err := s.sms.Send(ctx, mobile, msg); err != nil {
			return "", &problem.Error{Kind: problem.Unavailable, Slug: "sms-failed",
				Detail: "The OTP could not be sent by SMS; try again in a minute.", Err: err, RetryAfter: time.Minute}
		}
		metrics.OTPs.WithLabelValues("sent").Inc()
	}
	return txn.ID, nil
}

// checkQuota says whether one more OTP may be sent.
func (s *Service) checkQuota(now time.Time, u OTPUsage) error {
	l := s.limits
	if !u.LastByKey.IsZero() && now.Sub(u.LastByKey) < l.OTPCooldown {
		wait := u.LastByKey.Add(l.OTPCooldown).Sub(now)
		return &problem.Error{Kind: problem.TooMany, Slug: "otp-cooldown", RetryAfter: wait,
			Detail: fmt.Sprintf("An OTP was sent to this number moments ago; wait %d seconds before asking for another.", int(wait.Seconds()+0.999))}
	}
	if u.ByKey >= l.OTPPerMobileHour {
		wait := u.OldestByKey.Add(time.Hour).Sub(now)
		return &problem.Error{Kind: problem.TooMany, Slug: "otp-mobile-limit", RetryAfter: wait,
			Detail: fmt.Sprintf("At most %d OTPs per hour can be sent to one number; try again in %d minutes.", l.OTPPerMobileHour, int(wait.Minutes()+0.999))}
	}
	if u.ByClient >= l.OTPPerClientHour {
		wait := u.OldestClient.Add(time.Hour).Sub(now)
		return &problem.Error{Kind: problem.TooMany, Slug: "otp-client-limit", RetryAfter: wait,
			Detail: fmt.Sprintf("Too many OTPs were requested from your network; try again in %d minutes.", int(wait.Minutes()+0.999))}
	}
	return nil
}

var txnIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// confirmOTP checks digest (the hex SHA-256 of the OTP typed) against the
// transaction, in constant time, counting wrong guesses.
func (s *Service) confirmOTP(ctx context.Context, purpose OTPPurpose, txnID, digest string) (OTPTxn, error) {
	txnID = strings.ToLower(strings.TrimSpace(txnID))
	digest = strings.ToLower(strings.TrimSpace(digest))
	if !txnIDPattern.MatchString(txnID) {
		return OTPTxn{}, ErrOTPUnknown
	}
	if len(digest) != 64 {
		return OTPTxn{}, problem.Invalidf("otp-invalid", "The OTP is six digits (or, as Co-WIN clients send it, their SHA-256 in hex).")
	}
	var got OTPTxn
	now := s.now().UTC()
	outcome := "" // for the OTP metrics
	err := s.store.UseOTP(ctx, txnID, func(t *OTPTxn) error {
		switch {
		case t.Purpose != purpose:
			return ErrOTPUnknown
		case !t.UsedAt.IsZero():
			return ErrOTPUsed
		case t.Attempts >= s.limits.OTPAttempts:
			outcome = "capped"
			return ErrOTPAttempts
		case !now.Before(t.ExpiresAt):
			outcome = "expired"
			return ErrOTPExpired
		}
		want := s.otpMAC(t.ID, digest)
		if subtle.ConstantTimeCompare(want, t.MAC) != 1 {
			t.Attempts++
			outcome = "wrong"
			if t.Attempts >= s.limits.OTPAttempts {
				return ErrOTPAttempts
			}
			return ErrOTPWrong
		}
		t.UsedAt = now
		got = *t
		outcome = "verified"
		return nil
	})
	if outcome != "" && (err == nil) == (outcome == "verified") {
		metrics.OTPs.WithLabelValues(outcome).Inc()
	}
	return got, err
}

func (s *Service) otpMAC(txnID, digest string) []byte {
	m := hmac.New(sha256.New, s.otpKey)
	m.Write([]byte("vaxcert-otp/v1\x00" + txnID + "\x00" + digest))
	return m.Sum(nil)
}

// otpDigest validates a typed OTP and returns its SHA-256 in hex.
func otpDigest(otp string) (string, error) {
	otp = strings.TrimSpace(otp)
	if len(otp) != 6 || !allDigits(otp) {
		return "", problem.Invalidf("otp-invalid", "The OTP is the six digits sent by SMS.")
	}
	return sha256Hex(otp), nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newOTP draws six uniform digits from crypto/rand.
func newOTP() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// VerifyToken checks a session token (see Tokens.VerifyToken).
func (s *Service) VerifyToken(ctx context.Context, token string) (Principal, error) {
	return s.tokens.VerifyToken(ctx, token)
}

// PutStaff creates or updates the vaccinator or admin account of a mobile
// (`vaxcert users add`); role citizen takes a staff role away. A vaccinator
// needs at least one centre.
func (s *Service) PutStaff(ctx context.Context, mobile string, role Role, centres []string) (Account, error) {
	return PutStaff(ctx, s.store, mobile, role, centres, s.now())
}

// PutStaff is Service.PutStaff for callers without a whole service (the CLI).
func PutStaff(ctx context.Context, st Store, mobile string, role Role, centres []string, now time.Time) (Account, error) {
	m, err := NormalizeMobile(mobile)
	if err != nil {
		return Account{}, err
	}
	if role != Vaccinator && role != Admin && role != Citizen {
		return Account{}, problem.Invalidf("role-invalid", "The role must be vaccinator, admin or citizen.")
	}
	if role == Vaccinator && len(centres) == 0 {
		return Account{}, problem.Invalidf("centre-missing", "A vaccinator needs at least one centre (--centre ID).")
	}
	if role != Vaccinator {
		centres = nil
	}
	return st.PutStaffAccount(ctx, Account{ID: newUUID(), Mobile: m, Role: role, Centres: centres, CreatedAt: now.UTC()})
}
