package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/vaccine"
)

var _ issuer.Store = (*Store)(nil)

// Write runs a batch in one write transaction. SQLite has one writer, so
// nothing can change between the reads and the writes.
func (s *Store) Write(ctx context.Context, wb *issuer.WriteBatch) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		entries, err := markIssued(ctx, tx, wb.Issued)
		if err != nil {
			return err
		}
		more, err := recordDoses(ctx, tx, wb.Doses, wb.Decide)
		if err != nil {
			return err
		}
		return appendAudits(ctx, tx, append(entries, more...))
	})
}

// recordDoses reads what decide needs, calls it and writes the plans; it
// returns their audit entries.
func recordDoses(ctx context.Context, tx *sql.Tx, jobs []*issuer.DoseJob, decide func(*issuer.DoseBatch)) ([]audit.Entry, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	var entries []audit.Entry
	err := func() error {
		b := &issuer.DoseBatch{Jobs: jobs, Subjects: map[string]*issuer.Subject{}, Centres: map[string]issuer.Centre{},
			Used: map[issuer.IdempotencyID]issuer.IdempotencyRecord{}}
		for _, j := range jobs {
			ref := j.Req.BeneficiaryRef
			if _, ok := b.Subjects[ref]; !ok {
				subj, err := loadSubject(ctx, tx, ref)
				switch {
				case errors.Is(err, issuer.ErrBeneficiaryNotFound):
				case err != nil:
					return err
				default:
					b.Subjects[ref] = subj
				}
			}
			if _, ok := b.Centres[j.Req.CentreID]; !ok {
				var c issuer.Centre
				err := tx.QueryRowContext(ctx, `SELECT c.id, c.name, d.name, st.name FROM centres c `+centreJoins+` WHERE c.id = ?`,
					j.Req.CentreID).Scan(&c.ID, &c.Name, &c.District, &c.State)
				switch {
				case errors.Is(err, sql.ErrNoRows):
				case err != nil:
					return err
				default:
					b.Centres[c.ID] = c
				}
			}
			if id := j.Req.Idempotency; id.Key != "" {
				var rec issuer.IdempotencyRecord
				err := tx.QueryRowContext(ctx, `SELECT request_hash, dose_id, certificate_id FROM idempotency_keys WHERE scope = ? AND key = ?`,
					id.Scope, id.Key).Scan(&rec.RequestHash, &rec.DoseID, &rec.CertificateID)
				switch {
				case errors.Is(err, sql.ErrNoRows):
				case err != nil:
					return err
				default:
					b.Used[id] = rec
				}
			}
		}
		decide(b)
		for _, j := range jobs {
			if j.Plan == nil {
				continue
			}
			if err := insertDose(ctx, tx, j.Plan.Dose); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE appointments SET status = 'completed', updated_at = ?
				WHERE beneficiary_ref = ? AND dose_number = ? AND status = 'booked'`,
				micros(j.Now), j.Plan.Dose.BeneficiaryRef, j.Plan.Dose.Number); err != nil {
				return err
			}
			if err := insertCertificate(ctx, tx, &j.Plan.Certificate); err != nil {
				return err
			}
			if id := j.Req.Idempotency; id.Key != "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, dose_id, certificate_id, created_at)
					VALUES (?, ?, ?, ?, ?, ?)`, id.Scope, id.Key, j.Hash, j.DoseID, j.CertID, micros(j.Now)); err != nil {
					return err
				}
			}
			entries = append(entries, j.Plan.Audit...)
		}
		for _, j := range jobs {
			if j.Replay == nil {
				continue
			}
			d, err := scanDose(tx.QueryRowContext(ctx, `SELECT `+doseColumns+` FROM doses WHERE id = ?`, j.Replay.DoseID))
			if err != nil {
				return err
			}
			c, err := scanCertificate(tx.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM certificates c
				LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref WHERE c.id = ?`, j.Replay.CertificateID))
			if err != nil {
				return err
			}
			j.Loaded = &issuer.Recorded{Dose: d, Certificate: c}
		}
		return nil
	}()
	return entries, err
}

// appendAudits appends entries to the chain in order, in tx.
func appendAudits(ctx context.Context, tx *sql.Tx, entries []audit.Entry) error {
	for _, e := range entries {
		if _, err := appendAudit(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

const doseColumns = `id, beneficiary_ref, number, vaccine, date, lot, centre_id, performer, district, state, recorded_by, recorded_at`

func scanDose(row interface{ Scan(...any) error }) (issuer.Dose, error) {
	var d issuer.Dose
	var day string
	var at int64
	if err := row.Scan(&d.ID, &d.BeneficiaryRef, &d.Number, &d.Vaccine, &day, &d.Lot, &d.CentreID, &d.Performer,
		&d.District, &d.State, &d.RecordedBy, &at); err != nil {
		return d, err
	}
	var err error
	d.Date, err = parseDate(day)
	d.RecordedAt = fromMicros(at)
	return d, err
}

func insertDose(ctx context.Context, tx *sql.Tx, d issuer.Dose) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO doses (`+doseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.BeneficiaryRef, d.Number, d.Vaccine, date(d.Date), d.Lot, d.CentreID, d.Performer, d.District, d.State,
		d.RecordedBy, micros(d.RecordedAt))
	return err
}

// loadSubject reads a beneficiary, its doses and its newest nbf.
func loadSubject(ctx context.Context, tx *sql.Tx, ref string) (*issuer.Subject, error) {
	b, err := scanBeneficiary(tx.QueryRowContext(ctx, `SELECT `+beneficiaryColumns+` FROM beneficiaries WHERE ref_id = ?`, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, issuer.ErrBeneficiaryNotFound
	}
	if err != nil {
		return nil, err
	}
	subj := &issuer.Subject{Beneficiary: b}
	rows, err := tx.QueryContext(ctx, `SELECT `+doseColumns+` FROM doses WHERE beneficiary_ref = ? ORDER BY number`, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDose(rows)
		if err != nil {
			return nil, err
		}
		subj.Doses = append(subj.Doses, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(nbf), 0) FROM certificates WHERE beneficiary_ref = ?`, ref).Scan(&subj.LastNBF); err != nil {
		return nil, err
	}
	return subj, nil
}

const certificateColumns = `c.id, c.beneficiary_ref, coalesce(b.account_id, ''), c.status, c.course, c.dose_count, c.reason,
	c.dose_id, c.payload, c.details, c.nbf, c.kid, c.rid, c.jws, c.created_at, c.issued_at, c.revoked_at, c.revoke_reason`

func scanCertificate(row interface{ Scan(...any) error }) (issuer.Certificate, error) {
	var c issuer.Certificate
	var status, course, payload, details string
	var created int64
	var issued, revoked sql.NullInt64
	if err := row.Scan(&c.ID, &c.BeneficiaryRef, &c.AccountID, &status, &course, &c.DoseCount, &c.Reason,
		&c.DoseID, &payload, &details, &c.NBF, &c.KID, &c.RID, &c.JWS, &created, &issued, &revoked, &c.RevokeReason); err != nil {
		return c, err
	}
	c.Status, c.Course, c.Payload = issuer.Status(status), vaccine.Status(course), []byte(payload)
	c.CreatedAt = fromMicros(created)
	if issued.Valid {
		c.IssuedAt = fromMicros(issued.Int64)
	}
	if revoked.Valid {
		c.RevokedAt = fromMicros(revoked.Int64)
	}
	return c, json.Unmarshal([]byte(details), &c.Details)
}

func insertCertificate(ctx context.Context, tx *sql.Tx, c *issuer.Certificate) error {
	details, err := json.Marshal(c.Details)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO certificates (id, beneficiary_ref, status, course, dose_count, reason, dose_id,
		payload, details, nbf, created_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.BeneficiaryRef, string(c.Course), c.DoseCount, c.Reason, c.DoseID, string(c.Payload), string(details),
		c.NBF, micros(c.CreatedAt))
	return err
}

// markIssued sets pending certificates issued, compare-and-set, and
// returns the audit entries of the jobs that won.
func markIssued(ctx context.Context, tx *sql.Tx, jobs []*issuer.IssueJob) ([]audit.Entry, error) {
	var entries []audit.Entry
	for _, j := range jobs {
		res, err := tx.ExecContext(ctx, `UPDATE certificates SET status = 'issued', kid = ?, rid = ?, jws = ?, issued_at = ?
			WHERE id = ? AND status = 'pending'`, j.KID, j.RID, j.JWS, micros(j.IssuedAt), j.CertID)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		if j.Won = n == 1; j.Won {
			entries = append(entries, j.Audit)
		}
	}
	return entries, nil
}

// ChangeBeneficiary applies a correction, revocation or re-issue.
func (s *Store) ChangeBeneficiary(ctx context.Context, ref string, decide func(*issuer.BeneficiaryView) (*issuer.Change, error)) (*issuer.Change, error) {
	var ch *issuer.Change
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		subj, err := loadSubject(ctx, tx, ref)
		if err != nil {
			return err
		}
		view := &issuer.BeneficiaryView{Subject: *subj}
		if view.Certificates, err = queryCertificates(ctx, tx, `SELECT `+certificateColumns+` FROM certificates c
			LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref WHERE c.beneficiary_ref = ? ORDER BY c.nbf DESC`, ref); err != nil {
			return err
		}
		if ch, err = decide(view); err != nil {
			return err
		}
		if b := ch.Beneficiary; b != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE beneficiaries SET name = ?, gender = ?, birth_date = ?, corrections = ? WHERE ref_id = ?`,
				b.Name, b.Gender, date(b.BirthDate), b.Corrections, ref); err != nil {
				return err
			}
		}
		if ch.Certificate != nil {
			if err := insertCertificate(ctx, tx, ch.Certificate); err != nil {
				return err
			}
		}
		bumped := map[string]bool{}
		for _, r := range ch.Revocations {
			if _, err := tx.ExecContext(ctx, `INSERT INTO revocations (kid, rid, cutoff, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (kid, rid) DO UPDATE SET cutoff = max(cutoff, excluded.cutoff), updated_at = excluded.updated_at`,
				r.KID, r.RID, r.Cutoff, micros(ch.RevokedAt)); err != nil {
				return err
			}
			if !bumped[r.KID] {
				bumped[r.KID] = true
				if _, err := tx.ExecContext(ctx, `INSERT INTO crl_versions (kid, ctr) VALUES (?, 2)
					ON CONFLICT (kid) DO UPDATE SET ctr = ctr + 1`, r.KID); err != nil {
					return err
				}
			}
		}
		for _, id := range ch.Revoked {
			if _, err := tx.ExecContext(ctx, `UPDATE certificates SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`,
				micros(ch.RevokedAt), ch.RevokeReason, id); err != nil {
				return err
			}
		}
		return appendAudits(ctx, tx, ch.Audit)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryCertificates(ctx context.Context, q querier, query string, args ...any) ([]issuer.Certificate, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []issuer.Certificate{}
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Certificate returns one certificate.
func (s *Store) Certificate(ctx context.Context, id string) (issuer.Certificate, error) {
	c, err := scanCertificate(s.read.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM certificates c
		LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, issuer.ErrCertificateNotFound
	}
	return c, err
}

// Certificates lists certificates, newest first.
func (s *Store) Certificates(ctx context.Context, f issuer.CertificateFilter) ([]issuer.Certificate, error) {
	var where []string
	var args []any
	if f.BeneficiaryRef != "" {
		where, args = append(where, "c.beneficiary_ref = ?"), append(args, f.BeneficiaryRef)
	}
	if f.Status != "" {
		where, args = append(where, "c.status = ?"), append(args, string(f.Status))
	}
	q := `SELECT ` + certificateColumns + ` FROM certificates c LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY c.created_at DESC, c.nbf DESC LIMIT ?`
	certs, err := queryCertificates(ctx, s.read, q, append(args, limit)...)
	if err != nil {
		return nil, unavailable(err)
	}
	return certs, nil
}

// PendingCertificates lists certificates pending since before a time.
func (s *Store) PendingCertificates(ctx context.Context, before time.Time, limit int) ([]issuer.Certificate, error) {
	certs, err := queryCertificates(ctx, s.read, `SELECT `+certificateColumns+` FROM certificates c
		LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref
		WHERE c.status = 'pending' AND c.created_at <= ? ORDER BY c.created_at LIMIT ?`, micros(before), limit)
	if err != nil {
		return nil, unavailable(err)
	}
	return certs, nil
}

// CRLVersions returns every key's CRL counter.
func (s *Store) CRLVersions(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT kid, ctr FROM crl_versions`)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var kid string
		var ctr int
		if err := rows.Scan(&kid, &ctr); err != nil {
			return nil, err
		}
		out[kid] = ctr
	}
	return out, rows.Err()
}

// CRL returns one key's revocation entries and counter. The counter is read
// first: both change in one transaction, so the entries are never older than
// the counter returned with them.
func (s *Store) CRL(ctx context.Context, kid string) (int, []issuer.Revocation, error) {
	ctr := 1
	err := s.read.QueryRowContext(ctx, `SELECT ctr FROM crl_versions WHERE kid = ?`, kid).Scan(&ctr)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, unavailable(err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT kid, rid, cutoff FROM revocations WHERE kid = ? ORDER BY rid`, kid)
	if err != nil {
		return 0, nil, unavailable(err)
	}
	defer rows.Close()
	var out []issuer.Revocation
	for rows.Next() {
		var r issuer.Revocation
		if err := rows.Scan(&r.KID, &r.RID, &r.Cutoff); err != nil {
			return 0, nil, err
		}
		out = append(out, r)
	}
	return ctr, out, rows.Err()
}

// DeleteIdempotencyKeys forgets keys used before a time.
func (s *Store) DeleteIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
