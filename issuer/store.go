package issuer

import (
	"context"
	"errors"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// Store is what the issuer needs persisted. store/sqlite and store/postgres
// implement it; store/storetest holds both to the same behaviour.
type Store interface {
	// Write runs one write transaction for a batch. First it marks each
	// Issued job's certificate issued (with its kid, rid, JWS and time) if it
	// is still pending, compare-and-set, setting Won on the jobs that did.
	// Then, for the Doses, it locks their beneficiaries, reads their details,
	// dose history and newest nbf, the centres named and the idempotency keys
	// already used, calls Decide once, writes every job's Plan (dose, pending
	// certificate, appointment completed, idempotency key) and loads what
	// every Replay points at. Last it appends the audit entries of the won
	// Issued jobs and of the Plans. A key another transaction takes
	// meanwhile, or a deadlock, makes it return ErrRetry with nothing
	// written; Decide must then be safe to run again. Errors other than
	// per-job ones (set by Decide in DoseJob.Err) fail the whole batch.
	Write(ctx context.Context, b *WriteBatch) error

	// ChangeBeneficiary locks the beneficiary ref, calls decide with its
	// details, doses and certificates, and writes the Change decide returns,
	// in one transaction. It returns ErrBeneficiaryNotFound for an unknown ref
	// and decide's error as is.
	ChangeBeneficiary(ctx context.Context, ref string, decide func(*BeneficiaryView) (*Change, error)) (*Change, error)

	// Certificate returns one certificate, or ErrCertificateNotFound.
	Certificate(ctx context.Context, id string) (Certificate, error)
	// Certificates lists certificates, newest first.
	Certificates(ctx context.Context, f CertificateFilter) ([]Certificate, error)
	// PendingCertificates lists up to limit certificates still pending that
	// were stored before, oldest first.
	PendingCertificates(ctx context.Context, before time.Time, limit int) ([]Certificate, error)

	// CRLVersions returns the CRL counter of every key that has one; a key
	// without an entry has never had a revocation (its counter is 1).
	CRLVersions(ctx context.Context) (map[string]int, error)
	// CRL returns a key's revocation entries, sorted by rid, and its counter.
	CRL(ctx context.Context, kid string) (ctr int, entries []Revocation, err error)

	// DeleteIdempotencyKeys forgets keys used before a time.
	DeleteIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}

// ErrRetry asks the caller to run a batch again: a concurrent transaction
// changed what it had read.
var ErrRetry = errors.New("issuer: concurrent change; retry the batch")

// Errors the store returns; *problem.Error values, so the HTTP edge answers
// them directly.
var (
	ErrCertificateNotFound = problem.New(problem.NotFound, "certificate-not-found", "No such certificate.")
	ErrBeneficiaryNotFound = problem.New(problem.NotFound, "beneficiary-not-found", "No beneficiary has this reference ID.")
)
