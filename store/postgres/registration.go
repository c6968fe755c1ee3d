package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vaxcert/vaxcert/registration"
)

var _ registration.Store = (*Store)(nil)

// violation reports whether err is a violation (SQLSTATE code, e.g. 23505)
// of the named constraint or index ("" for any).
func violation(err error, code, constraint string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code && (constraint == "" || e.ConstraintName == constraint)
}

const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

const accountColumns = `id, mobile, role, centres, created_at`

func scanAccount(row pgx.Row) (registration.Account, error) {
	var a registration.Account
	var role string
	if err := row.Scan(&a.ID, &a.Mobile, &role, &a.Centres, &a.CreatedAt); err != nil {
		return a, err
	}
	a.Role = registration.Role(role)
	a.CreatedAt = a.CreatedAt.UTC()
	if len(a.Centres) == 0 {
		a.Centres = nil
	}
	return a, nil
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// EnsureAccount returns mobile's account, creating a citizen account first.
func (s *Store) EnsureAccount(ctx context.Context, mobile, newID string, now time.Time) (registration.Account, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO accounts (id, mobile, role, centres, created_at)
		VALUES ($1, $2, 'citizen', '{}', $3) ON CONFLICT (mobile) DO NOTHING`, newID, mobile, now); err != nil {
		return registration.Account{}, classify(err)
	}
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE mobile = $1`, mobile))
	return a, classify(err)
}

// PutStaffAccount creates or updates the account of a.Mobile.
func (s *Store) PutStaffAccount(ctx context.Context, a registration.Account) (registration.Account, error) {
	out, err := scanAccount(s.pool.QueryRow(ctx, `INSERT INTO accounts (id, mobile, role, centres, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (mobile) DO UPDATE SET role = excluded.role, centres = excluded.centres
		RETURNING `+accountColumns, a.ID, a.Mobile, string(a.Role), nonNil(a.Centres), a.CreatedAt))
	return out, classify(err)
}

// Account returns an account by ID.
func (s *Store) Account(ctx context.Context, id string) (registration.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, registration.ErrAccountNotFound
	}
	return a, classify(err)
}

const otpRetention = 24 * time.Hour

// CreateOTP counts recent OTPs, lets decide judge, and inserts txn.
// Transaction-scoped advisory locks on the rate and client keys serialise
// concurrent requests for the same mobile or client, so a cap cannot be
// overrun by racing; the mobile is always locked first, so two requests
// never wait on each other in a cycle.
func (s *Store) CreateOTP(ctx context.Context, txn registration.OTPTxn, since time.Time, decide func(registration.OTPUsage) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('otp-rate:' || $1, 0))`, txn.RateKey); err != nil {
			return err
		}
		if txn.ClientKey != "" {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('otp-client:' || $1, 0))`, txn.ClientKey); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM otp_txns WHERE created_at < $1`, txn.CreatedAt.Add(-otpRetention)); err != nil {
			return err
		}
		var u registration.OTPUsage
		var oldest, last, oldestClient *time.Time
		if err := tx.QueryRow(ctx, `SELECT count(*), min(created_at) FROM otp_txns WHERE rate_key = $1 AND created_at > $2`,
			txn.RateKey, since).Scan(&u.ByKey, &oldest); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT max(created_at) FROM otp_txns WHERE rate_key = $1`, txn.RateKey).Scan(&last); err != nil {
			return err
		}
		if txn.ClientKey != "" {
			if err := tx.QueryRow(ctx, `SELECT count(*), min(created_at) FROM otp_txns WHERE client_key = $1 AND created_at > $2`,
				txn.ClientKey, since).Scan(&u.ByClient, &oldestClient); err != nil {
				return err
			}
		}
		if oldest != nil {
			u.OldestByKey = oldest.UTC()
		}
		if last != nil {
			u.LastByKey = last.UTC()
		}
		if oldestClient != nil {
			u.OldestClient = oldestClient.UTC()
		}
		if err := decide(u); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO otp_txns
			(id, purpose, mobile, rate_key, client_key, subject, mac, created_at, expires_at, attempts)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)`,
			txn.ID, string(txn.Purpose), txn.Mobile, txn.RateKey, txn.ClientKey, txn.Subject, txn.MAC, txn.CreatedAt, txn.ExpiresAt)
		return err
	})
}

// UseOTP runs fn on the row-locked transaction and saves its attempts and use.
func (s *Store) UseOTP(ctx context.Context, id string, fn func(*registration.OTPTxn) error) error {
	var fnErr error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var t registration.OTPTxn
		var purpose string
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT id, purpose, mobile, rate_key, client_key, subject, mac,
			created_at, expires_at, attempts, used_at FROM otp_txns WHERE id = $1 FOR UPDATE`, id).
			Scan(&t.ID, &purpose, &t.Mobile, &t.RateKey, &t.ClientKey, &t.Subject, &t.MAC, &t.CreatedAt, &t.ExpiresAt, &t.Attempts, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			fnErr = registration.ErrOTPUnknown
			return nil
		}
		if err != nil {
			return err
		}
		t.Purpose = registration.OTPPurpose(purpose)
		t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
		if used != nil {
			t.UsedAt = used.UTC()
		}
		fnErr = fn(&t)
		var usedAt *time.Time
		if !t.UsedAt.IsZero() {
			usedAt = &t.UsedAt
		}
		_, err = tx.Exec(ctx, `UPDATE otp_txns SET attempts = $1, used_at = $2 WHERE id = $3`, t.Attempts, usedAt, id)
		return err
	})
	if err != nil {
		return err
	}
	return fnErr
}

const beneficiaryColumns = `ref_id, account_id, name, gender, birth_date, id_type, id_masked, id_sealed, corrections, created_at`

func scanBeneficiary(row pgx.Row) (registration.Beneficiary, error) {
	var b registration.Beneficiary
	var idType string
	if err := row.Scan(&b.RefID, &b.AccountID, &b.Name, &b.Gender, &b.BirthDate, &idType, &b.IDMasked, &b.IDSealed, &b.Corrections, &b.CreatedAt); err != nil {
		return b, err
	}
	b.IDType = registration.IDType(idType)
	b.BirthDate = dayUTC(b.BirthDate)
	b.CreatedAt = b.CreatedAt.UTC()
	return b, nil
}

// dayUTC is a DATE as read by pgx, at 00:00 UTC.
func dayUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// AddBeneficiary inserts b within the per-account limit. Locking the
// account row serialises concurrent additions to one account.
func (s *Store) AddBeneficiary(ctx context.Context, b registration.Beneficiary, idHash string, max int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, b.AccountID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return registration.ErrAccountNotFound
		} else if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM beneficiaries WHERE account_id = $1`, b.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return registration.ErrTooManyBeneficiaries
		}
		_, err := tx.Exec(ctx, `INSERT INTO beneficiaries (`+beneficiaryColumns+`, id_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)`,
			b.RefID, b.AccountID, b.Name, b.Gender, b.BirthDate, string(b.IDType), b.IDMasked, b.IDSealed, b.CreatedAt, idHash)
		switch {
		case violation(err, uniqueViolation, "beneficiaries_id_hash_key"):
			return registration.ErrDuplicateID
		case violation(err, uniqueViolation, "beneficiaries_pkey"):
			return registration.ErrRefIDTaken
		}
		return err
	})
}

// Beneficiaries lists an account's beneficiaries, oldest first.
func (s *Store) Beneficiaries(ctx context.Context, accountID string) ([]registration.Beneficiary, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+beneficiaryColumns+` FROM beneficiaries
		WHERE account_id = $1 ORDER BY created_at, ref_id`, accountID)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (registration.Beneficiary, error) { return scanBeneficiary(row) })
	if out == nil {
		out = []registration.Beneficiary{}
	}
	return out, classify(err)
}

// Beneficiary returns one beneficiary.
func (s *Store) Beneficiary(ctx context.Context, refID string) (registration.Beneficiary, error) {
	b, err := scanBeneficiary(s.pool.QueryRow(ctx, `SELECT `+beneficiaryColumns+` FROM beneficiaries WHERE ref_id = $1`, refID))
	if errors.Is(err, pgx.ErrNoRows) {
		return b, registration.ErrBeneficiaryNotFound
	}
	return b, classify(err)
}

// lockBeneficiary locks the row of refID if accountID owns it. The issuer
// locks the same row before recording a dose, so "no doses yet" stays true
// until this transaction ends.
func lockBeneficiary(ctx context.Context, tx pgx.Tx, accountID, refID string) error {
	var owner string
	err := tx.QueryRow(ctx, `SELECT account_id FROM beneficiaries WHERE ref_id = $1 FOR UPDATE`, refID).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && owner != accountID) {
		return registration.ErrBeneficiaryNotFound
	}
	if err != nil {
		return err
	}
	var dosed bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM doses WHERE beneficiary_ref = $1)`, refID).Scan(&dosed); err != nil {
		return err
	}
	if dosed {
		return registration.ErrHasDoses
	}
	return nil
}

// UpdateBeneficiary replaces details of a beneficiary without doses.
func (s *Store) UpdateBeneficiary(ctx context.Context, b registration.Beneficiary, idHash string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockBeneficiary(ctx, tx, b.AccountID, b.RefID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE beneficiaries SET name = $1, gender = $2, birth_date = $3, id_type = $4,
			id_hash = $5, id_masked = $6, id_sealed = $7 WHERE ref_id = $8`,
			b.Name, b.Gender, b.BirthDate, string(b.IDType), idHash, b.IDMasked, b.IDSealed, b.RefID)
		if violation(err, uniqueViolation, "beneficiaries_id_hash_key") {
			return registration.ErrDuplicateID
		}
		return err
	})
}

// DeleteBeneficiary removes a beneficiary without doses, with its
// appointments, giving an open appointment's place back.
func (s *Store) DeleteBeneficiary(ctx context.Context, accountID, refID string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockBeneficiary(ctx, tx, accountID, refID); err != nil {
			return err
		}
		var sessionID, bucket string
		err := tx.QueryRow(ctx, `SELECT session_id, bucket FROM appointments WHERE beneficiary_ref = $1 AND status = 'booked'`, refID).
			Scan(&sessionID, &bucket)
		switch {
		case err == nil:
			if err := giveBack(ctx, tx, sessionID, bucket); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM appointments WHERE beneficiary_ref = $1`, refID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM beneficiaries WHERE ref_id = $1`, refID)
		return err
	})
}

// BeneficiaryMobile is the mobile of the account owning refID.
func (s *Store) BeneficiaryMobile(ctx context.Context, refID string) (string, error) {
	var m string
	err := s.pool.QueryRow(ctx, `SELECT a.mobile FROM beneficiaries b JOIN accounts a ON a.id = b.account_id
		WHERE b.ref_id = $1`, refID).Scan(&m)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", registration.ErrBeneficiaryNotFound
	}
	return m, classify(err)
}
