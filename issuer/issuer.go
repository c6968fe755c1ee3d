// Package issuer turns recorded doses into signed SMART Health Cards, the way
// a certificate authority issues: it stores its intent before signing, checks
// what it signed, and audit-logs before and after.
//
// Recording a dose is one database transaction that stores the dose, a
// pending certificate (with a unique ID and the exact payload to be signed),
// marks the beneficiary's appointment completed, remembers the idempotency
// key and appends the audit entries. The certificate is then signed with the
// active key, verified by the offline verifier against the key set exactly as
// it is published (/.well-known/jwks.json and the CRLs), and marked issued
// with a compare-and-set on its pending state, with a second audit entry in
// the same transaction. A crash at any point leaves either nothing or a
// pending certificate, which FinishPending completes (at start and
// periodically); RecordDose answers only after the certificate is issued.
//
// Concurrent requests share transactions: a batcher hands every request that
// queued while the previous batch was in the database to the next one, so
// the commit and the audit chain's lock are paid once per batch, not once per
// certificate.
//
// Each beneficiary has one current certificate, re-issued after every dose
// (provisional, final, then precaution doses listed) and after an admin's
// correction. A card's rid is the specification's recommended
// HMAC(secret ‖ kid, beneficiary); revoking a card publishes "rid.<nbf+1>",
// which revokes it and that person's earlier cards of the same key, never a
// later one, because nbf strictly increases per beneficiary.
package issuer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/metrics"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/vaccine"
)

// KeyStore is the signing-key store; *keys.FileStore implements it.
type KeyStore interface {
	// ActiveSigner returns the key that signs now.
	ActiveSigner() (keys.Signer, error)
	// JWKS returns the public keys to publish.
	JWKS(crlVersion func(kid string) int) keys.JWKS
	// Lookup returns a key in any state.
	Lookup(kid string) (keys.Key, bool)
	// Reload picks up keys rotated or revoked by another process.
	Reload() error
}

// Config builds a Service.
type Config struct {
	Store     Store
	Keys      KeyStore
	IssuerURL string // the cards' iss
	// RIDSecret keys the cards' revocation IDs (keys.LoadOrCreateSecret);
	// losing it makes existing cards unrevocable.
	RIDSecret []byte
	Catalog   *vaccine.Catalog // nil: vaccine.Default
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger
	// Writers is how many batch transactions may run at once: 1 suits
	// SQLite (one writer anyway); a few suit PostgreSQL. 0 means 1.
	Writers int
	// MaxBatch bounds the requests in one transaction; 0 means
	// DefaultMaxBatch.
	MaxBatch int
	// MaxCorrections is how many times an admin may correct one
	// beneficiary's details; 0 means DefaultMaxCorrections.
	MaxCorrections int
	// Fault, if set, is called at each step of issuing with the step's name
	// (FaultAfterPending, FaultAfterSign, FaultAfterIssued). Tests use it to
	// crash the process between steps; it must be nil in production.
	Fault func(step string)
}

// Steps of issuing at which Config.Fault is called.
const (
	FaultAfterPending = "after-pending" // dose and pending certificate committed
	FaultAfterSign    = "after-sign"    // card signed, not yet marked issued
	FaultAfterIssued  = "after-issued"  // marked issued, not yet answered
)

// DefaultMaxBatch bounds a write transaction: large enough that under heavy
// load the commit and the audit chain's lock are shared by many requests,
// small enough that one transaction stays well under a second.
const DefaultMaxBatch = 256

// DefaultMaxCorrections is how many corrections a beneficiary may have.
const DefaultMaxCorrections = 3

// Service records doses and issues certificates. It is safe for concurrent
// use; Close it to stop its batch workers.
type Service struct {
	store          Store
	keys           KeyStore
	iss            string
	secret         []byte
	catalog        *vaccine.Catalog
	now            func() time.Time
	log            *slog.Logger
	maxCorrections int
	fault          func(string)

	writes *batcher[*writeOp]
	trust  trustCache
	crls   crlCache
	pdfs   lru
}

// New checks the configuration and starts the batch workers.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil || cfg.Keys == nil:
		return nil, errors.New("issuer: Store and Keys are required")
	case len(cfg.RIDSecret) < 16:
		return nil, errors.New("issuer: RIDSecret is missing or shorter than 16 bytes")
	}
	if err := checkIssuerURL(cfg.IssuerURL); err != nil {
		return nil, err
	}
	s := &Service{
		store: cfg.Store, keys: cfg.Keys, iss: cfg.IssuerURL, secret: cfg.RIDSecret,
		catalog: cfg.Catalog, now: cfg.Now, log: cfg.Log, maxCorrections: cfg.MaxCorrections, fault: cfg.Fault,
	}
	if s.catalog == nil {
		s.catalog = vaccine.Default
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxCorrections <= 0 {
		s.maxCorrections = DefaultMaxCorrections
	}
	if s.fault == nil {
		s.fault = func(string) {}
	}
	writers, maxBatch := max(cfg.Writers, 1), cfg.MaxBatch
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	s.writes = newBatcher(writers, maxBatch, s.runWrites)
	return s, nil
}

// Close stops the batch workers; requests still waiting fail.
func (s *Service) Close() { s.writes.close() }

// IssuerURL is the cards' iss.
func (s *Service) IssuerURL() string { return s.iss }

// checkIssuerURL accepts what shc.CheckIss accepts, and also http:// so that
// a development server without TLS can issue (such cards verify nowhere else).
func checkIssuerURL(iss string) error {
	test := iss
	if len(iss) > 7 && iss[:7] == "http://" {
		test = "https://" + iss[7:]
	}
	if err := shc.CheckIss(test); err != nil {
		return fmt.Errorf("issuer: issuer URL: %w", err)
	}
	return nil
}

// newID returns a certificate or dose ID: 16 characters of base32 (80 random
// bits), unguessable and short enough to print.
func newID() string { return rand.Text()[:16] }

// RecordDose records a dose and issues the beneficiary's new certificate. It
// returns after the certificate is issued; a retry with the same idempotency
// key returns the first answer and never records a second dose. Bad input is
// a *problem.Error (Invalid, NotFound or Conflict), and nothing is stored.
func (s *Service) RecordDose(ctx context.Context, req DoseRequest) (Recorded, error) {
	now := s.now().UTC()
	if err := req.normalize(s.catalog, now); err != nil {
		return Recorded{}, err
	}
	ctx, cancel := detach(ctx)
	defer cancel()
	job := &DoseJob{Req: req, Hash: req.hash(), DoseID: newID(), CertID: newID(), Now: now}
	if err := s.writes.do(ctx, &writeOp{dose: job}); err != nil {
		return Recorded{}, err
	}
	var rec Recorded
	switch {
	case job.Err != nil:
		return Recorded{}, job.Err
	case job.Plan != nil:
		rec = Recorded{Dose: job.Plan.Dose, Certificate: job.Plan.Certificate}
	case job.Loaded != nil:
		rec = *job.Loaded
		rec.Replayed = true
	default:
		return Recorded{}, errors.New("issuer: the store left a dose request undecided")
	}
	s.fault(FaultAfterPending)
	if rec.Certificate.Status == Pending {
		cert, err := s.finish(ctx, rec.Certificate, req.Actor)
		if err != nil {
			return Recorded{}, err
		}
		rec.Certificate = cert
	}
	return rec, nil
}

// writeOp is one request waiting for a write transaction: a dose to record
// or a signed certificate to mark issued.
type writeOp struct {
	dose  *DoseJob
	issue *IssueJob
	err   error // a failure of the whole batch, for issue ops
}

// issueTimeout bounds recording and issuing one certificate.
const issueTimeout = 30 * time.Second

// detach keeps ctx's values but not its cancellation: once a dose is on its
// way to the database, a client that hangs up must not leave its certificate
// pending until the next recovery pass.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), issueTimeout)
}

// runWrites runs one batch in one transaction. A batch that fails for a
// reason other than the database being down is split, so one bad request
// cannot fail the others.
func (s *Service) runWrites(ops []*writeOp) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := s.writeWithRetry(ctx, ops)
	if err != nil && len(ops) > 1 && !problem.Is(err, problem.Unavailable) {
		s.log.Warn("write batch failed; running its requests one by one", "requests", len(ops), "err", err)
		for _, op := range ops {
			s.fail(op, s.writeWithRetry(ctx, []*writeOp{op}))
		}
		return
	}
	for _, op := range ops {
		s.fail(op, err)
	}
}

// fail records a batch failure on op (nil: nothing to record).
func (s *Service) fail(op *writeOp, err error) {
	if err == nil {
		return
	}
	if op.dose != nil {
		op.dose.Plan, op.dose.Replay, op.dose.Loaded, op.dose.Err = nil, nil, nil, err
	} else {
		op.issue.Won, op.err = false, err
	}
}

func (s *Service) writeWithRetry(ctx context.Context, ops []*writeOp) error {
	b := &WriteBatch{Decide: s.decide}
	for _, op := range ops {
		if op.dose != nil {
			b.Doses = append(b.Doses, op.dose)
		} else {
			b.Issued = append(b.Issued, op.issue)
		}
	}
	var err error
	for range 5 {
		if err = s.store.Write(ctx, b); !errors.Is(err, ErrRetry) {
			return err
		}
	}
	return err
}

// finish signs a pending certificate, checks the card against the published
// keys and marks it issued. It is idempotent: if another process (or a
// concurrent retry) finished the certificate first, it returns that result.
func (s *Service) finish(ctx context.Context, c Certificate, actor string) (Certificate, error) {
	signer, err := s.keys.ActiveSigner()
	if err != nil {
		return Certificate{}, fmt.Errorf("issuer: certificate %s: %w", c.ID, err)
	}
	kid := signer.KID()
	p, err := signedPayload(c.Payload, s.secret, kid, c.BeneficiaryRef)
	if err != nil {
		return Certificate{}, fmt.Errorf("issuer: certificate %s: %w", c.ID, err)
	}
	jws, err := shc.Sign(signer, kid, p)
	if err != nil {
		metrics.Certificates.WithLabelValues("failed").Inc()
		return Certificate{}, fmt.Errorf("issuer: certificate %s: signing: %w", c.ID, err)
	}
	s.fault(FaultAfterSign)
	if err := s.selfCheck(ctx, jws, kid); err != nil {
		metrics.Certificates.WithLabelValues("failed").Inc()
		s.log.ErrorContext(ctx, "signed certificate failed its self-check; it stays pending", "certificate", c.ID, "kid", kid, "err", err)
		return Certificate{}, fmt.Errorf("issuer: certificate %s: %w", c.ID, err)
	}
	now := s.now().UTC()
	op := &writeOp{issue: &IssueJob{
		CertID: c.ID, KID: kid, RID: p.VC.RID, JWS: jws, IssuedAt: now,
		Audit: audit.Entry{At: now, Actor: actor, Action: "certificate.issued", Subject: c.ID,
			Detail: fmt.Sprintf("%s certificate for beneficiary %s signed by key %s, rid %s, nbf %d, %d characters", c.Course, c.BeneficiaryRef, kid, p.VC.RID, c.NBF, len(jws))},
	}}
	if err := s.writes.do(ctx, op); err != nil {
		return Certificate{}, err
	}
	if op.err != nil {
		return Certificate{}, op.err
	}
	if !op.issue.Won {
		// Someone else finished it first; theirs is the certificate.
		stored, err := s.store.Certificate(ctx, c.ID)
		if err != nil {
			return Certificate{}, err
		}
		if stored.Status != Issued {
			return Certificate{}, fmt.Errorf("issuer: certificate %s: neither pending nor issued after signing", c.ID)
		}
		return stored, nil
	}
	outcome := "issued"
	if actor == "system" { // FinishPending: work a crash or an outage left pending
		outcome = "recovered"
	}
	metrics.Certificates.WithLabelValues(outcome).Inc()
	s.fault(FaultAfterIssued)
	c.Status, c.KID, c.RID, c.JWS, c.IssuedAt = Issued, kid, p.VC.RID, jws, now
	return c, nil
}

// Finish completes one pending certificate now (an issued one is returned as
// is). actor is recorded in the audit log.
func (s *Service) Finish(ctx context.Context, id, actor string) (Certificate, error) {
	c, err := s.store.Certificate(ctx, id)
	if err != nil || c.Status == Issued {
		return c, err
	}
	return s.finish(ctx, c, actor)
}
