package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vaxcert/vaxcert/registration"
)

var _ registration.Store = (*Store)(nil)

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// uniqueViolation reports whether err is a UNIQUE (or primary key)
// constraint failure mentioning column (e.g. "beneficiaries.id_hash").
func uniqueViolation(err error, column string) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	c := e.Code()
	return (c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) &&
		strings.Contains(e.Error(), column)
}

func foreignKeyViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

const accountColumns = `id, mobile, role, centres, created_at`

func scanAccount(row interface{ Scan(...any) error }) (registration.Account, error) {
	var a registration.Account
	var role, centres string
	var created int64
	if err := row.Scan(&a.ID, &a.Mobile, &role, &centres, &created); err != nil {
		return a, err
	}
	a.Role = registration.Role(role)
	a.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(centres), &a.Centres); err != nil {
		return a, err
	}
	return a, nil
}

func jsonText(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// EnsureAccount returns mobile's account, creating a citizen account first.
func (s *Store) EnsureAccount(ctx context.Context, mobile, newID string, now time.Time) (registration.Account, error) {
	var a registration.Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, mobile, role, centres, created_at)
			VALUES (?, ?, 'citizen', '[]', ?) ON CONFLICT (mobile) DO NOTHING`, newID, mobile, micros(now)); err != nil {
			return err
		}
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE mobile = ?`, mobile))
		return err
	})
	return a, err
}

// PutStaffAccount creates or updates the account of a.Mobile.
func (s *Store) PutStaffAccount(ctx context.Context, a registration.Account) (registration.Account, error) {
	var out registration.Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanAccount(tx.QueryRowContext(ctx, `INSERT INTO accounts (id, mobile, role, centres, created_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (mobile) DO UPDATE SET role = excluded.role, centres = excluded.centres
			RETURNING `+accountColumns, a.ID, a.Mobile, string(a.Role), jsonText(a.Centres), micros(a.CreatedAt)))
		return err
	})
	return out, err
}

// Account returns an account by ID.
func (s *Store) Account(ctx context.Context, id string) (registration.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, registration.ErrAccountNotFound
	}
	return a, err
}

// otpRetention is how long OTP transactions are kept: long enough for every
// hourly cap, short enough that the table stays small.
const otpRetention = 24 * time.Hour

// CreateOTP counts recent OTPs, lets decide judge, and inserts txn. The
// single write connection serialises it with every other writer.
func (s *Store) CreateOTP(ctx context.Context, txn registration.OTPTxn, since time.Time, decide func(registration.OTPUsage) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM otp_txns WHERE created_at < ?`, micros(txn.CreatedAt.Add(-otpRetention))); err != nil {
			return err
		}
		var u registration.OTPUsage
		var oldest, last, oldestClient sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM otp_txns WHERE rate_key = ? AND created_at > ?`,
			txn.RateKey, micros(since)).Scan(&u.ByKey, &oldest); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT max(created_at) FROM otp_txns WHERE rate_key = ?`, txn.RateKey).Scan(&last); err != nil {
			return err
		}
		if txn.ClientKey != "" {
			if err := tx.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM otp_txns WHERE client_key = ? AND created_at > ?`,
				txn.ClientKey, micros(since)).Scan(&u.ByClient, &oldestClient); err != nil {
				return err
			}
		}
		if oldest.Valid {
			u.OldestByKey = fromMicros(oldest.Int64)
		}
		if last.Valid {
			u.LastByKey = fromMicros(last.Int64)
		}
		if oldestClient.Valid {
			u.OldestClient = fromMicros(oldestClient.Int64)
		}
		if err := decide(u); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO otp_txns
			(id, purpose, mobile, rate_key, client_key, subject, mac, created_at, expires_at, attempts)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			txn.ID, string(txn.Purpose), txn.Mobile, txn.RateKey, txn.ClientKey, txn.Subject, txn.MAC,
			micros(txn.CreatedAt), micros(txn.ExpiresAt))
		return err
	})
}

// UseOTP runs fn on the transaction and saves its attempts and use.
func (s *Store) UseOTP(ctx context.Context, id string, fn func(*registration.OTPTxn) error) error {
	var fnErr error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var t registration.OTPTxn
		var purpose string
		var created, expires int64
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT id, purpose, mobile, rate_key, client_key, subject, mac,
			created_at, expires_at, attempts, used_at FROM otp_txns WHERE id = ?`, id).
			Scan(&t.ID, &purpose, &t.Mobile, &t.RateKey, &t.ClientKey, &t.Subject, &t.MAC, &created, &expires, &t.Attempts, &used)
		if errors.Is(err, sql.ErrNoRows) {
			fnErr = registration.ErrOTPUnknown
			return nil
		}
		if err != nil {
			return err
		}
		t.Purpose = registration.OTPPurpose(purpose)
		t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
		if used.Valid {
			t.UsedAt = fromMicros(used.Int64)
		}
		fnErr = fn(&t)
		var usedAt any
		if !t.UsedAt.IsZero() {
			usedAt = micros(t.UsedAt)
		}
		_, err = tx.ExecContext(ctx, `UPDATE otp_txns SET attempts = ?, used_at = ? WHERE id = ?`, t.Attempts, usedAt, id)
		return err
	})
	if err != nil {
		return err
	}
	return fnErr
}

const beneficiaryColumns = `ref_id, account_id, name, gender, birth_date, id_type, id_masked, id_sealed, corrections, created_at`

func scanBeneficiary(row interface{ Scan(...any) error }) (registration.Beneficiary, error) {
	var b registration.Beneficiary
	var birth, idType string
	var created int64
	if err := row.Scan(&b.RefID, &b.AccountID, &b.Name, &b.Gender, &birth, &idType, &b.IDMasked, &b.IDSealed, &b.Corrections, &created); err != nil {
		return b, err
	}
	d, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return b, err
	}
	b.BirthDate, b.IDType, b.CreatedAt = d, registration.IDType(idType), fromMicros(created)
	return b, nil
}

// AddBeneficiary inserts b within the per-account limit.
func (s *Store) AddBeneficiary(ctx context.Context, b registration.Beneficiary, idHash string, max int) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM beneficiaries WHERE account_id = ?`, b.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return registration.ErrTooManyBeneficiaries
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO beneficiaries (`+beneficiaryColumns+`, id_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			b.RefID, b.AccountID, b.Name, b.Gender, b.BirthDate.Format(time.DateOnly), string(b.IDType),
			b.IDMasked, b.IDSealed, micros(b.CreatedAt), idHash)
		switch {
		case uniqueViolation(err, "beneficiaries.id_hash"):
			return registration.ErrDuplicateID
		case uniqueViolation(err, "beneficiaries.ref_id"):
			return registration.ErrRefIDTaken
		case foreignKeyViolation(err):
			return registration.ErrAccountNotFound
		}
		return err
	})
}

// Beneficiaries lists an account's beneficiaries, oldest first.
func (s *Store) Beneficiaries(ctx context.Context, accountID string) ([]registration.Beneficiary, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+beneficiaryColumns+` FROM beneficiaries
		WHERE account_id = ? ORDER BY created_at, ref_id`, accountID)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []registration.Beneficiary{}
	for rows.Next() {
		b, err := scanBeneficiary(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Beneficiary returns one beneficiary.
func (s *Store) Beneficiary(ctx context.Context, refID string) (registration.Beneficiary, error) {
	b, err := scanBeneficiary(s.read.QueryRowContext(ctx, `SELECT `+beneficiaryColumns+` FROM beneficiaries WHERE ref_id = ?`, refID))
	if errors.Is(err, sql.ErrNoRows) {
		return b, registration.ErrBeneficiaryNotFound
	}
	return b, err
}

// hasDoses is true when the issuer has recorded a dose for ref.
func hasDoses(ctx context.Context, tx *sql.Tx, ref string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM doses WHERE beneficiary_ref = ?`, ref).Scan(&n)
	return n > 0, err
}

// UpdateBeneficiary replaces details of a beneficiary without doses.
func (s *Store) UpdateBeneficiary(ctx context.Context, b registration.Beneficiary, idHash string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		dosed, err := hasDoses(ctx, tx, b.RefID)
		if err != nil {
			return err
		}
		if dosed {
			return registration.ErrHasDoses
		}
		res, err := tx.ExecContext(ctx, `UPDATE beneficiaries SET name = ?, gender = ?, birth_date = ?, id_type = ?,
			id_hash = ?, id_masked = ?, id_sealed = ? WHERE ref_id = ? AND account_id = ?`,
			b.Name, b.Gender, b.BirthDate.Format(time.DateOnly), string(b.IDType), idHash, b.IDMasked, b.IDSealed, b.RefID, b.AccountID)
		if uniqueViolation(err, "beneficiaries.id_hash") {
			return registration.ErrDuplicateID
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return registration.ErrBeneficiaryNotFound
		}
		return nil
	})
}

// DeleteBeneficiary removes a beneficiary without doses, with its
// appointments, giving an open appointment's place back.
func (s *Store) DeleteBeneficiary(ctx context.Context, accountID, refID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT account_id FROM beneficiaries WHERE ref_id = ?`, refID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != accountID) {
			return registration.ErrBeneficiaryNotFound
		}
		if err != nil {
			return err
		}
		dosed, err := hasDoses(ctx, tx, refID)
		if err != nil {
			return err
		}
		if dosed {
			return registration.ErrHasDoses
		}
		var sessionID, bucket string
		err = tx.QueryRowContext(ctx, `SELECT session_id, bucket FROM appointments WHERE beneficiary_ref = ? AND status = 'booked'`, refID).
			Scan(&sessionID, &bucket)
		switch {
		case err == nil:
			if err := giveBack(ctx, tx, sessionID, bucket); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM appointments WHERE beneficiary_ref = ?`, refID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM beneficiaries WHERE ref_id = ?`, refID)
		return err
	})
}

// BeneficiaryMobile is the mobile of the account owning refID.
func (s *Store) BeneficiaryMobile(ctx context.Context, refID string) (string, error) {
	var m string
	err := s.read.QueryRowContext(ctx, `SELECT a.mobile FROM beneficiaries b JOIN accounts a ON a.id = b.account_id
		WHERE b.ref_id = ?`, refID).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return "", registration.ErrBeneficiaryNotFound
	}
	return m, err
}
