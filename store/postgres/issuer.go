package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/vaccine"
)

var _ issuer.Store = (*Store)(nil)

// SQLSTATEs a batch answers by running again.
const (
	deadlockDetected     = "40P01"
	serializationFailure = "40001"
)

// Write runs a batch in one transaction, with a handful of round trips
// whatever its size: one UPDATE marks the signed certificates issued; the
// beneficiaries of the dose requests are locked (in ref order, so concurrent
// batches cannot deadlock), everything decide needs is read in one pipeline,
// and every write is one statement over arrays; then one lock, one read and
// one INSERT extend the audit chain.
func (s *Store) Write(ctx context.Context, wb *issuer.WriteBatch) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Plan every statement for its actual arrays: a generic plan cached
		// while the tables were small (a new deployment, a test) would scan
		// them sequentially for good.
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return err
		}
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
	if violation(err, deadlockDetected, "") || violation(err, serializationFailure, "") {
		return issuer.ErrRetry
	}
	return err
}

// recordDoses reads what decide needs, calls it, writes the plans and loads
// the replays; it returns the plans' audit entries.
func recordDoses(ctx context.Context, tx pgx.Tx, jobs []*issuer.DoseJob, decide func(*issuer.DoseBatch)) ([]audit.Entry, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	b := &issuer.DoseBatch{Jobs: jobs, Subjects: map[string]*issuer.Subject{}, Centres: map[string]issuer.Centre{},
		Used: map[issuer.IdempotencyID]issuer.IdempotencyRecord{}}
	var refs, centreIDs, scopes, keys []string
	for _, j := range jobs {
		refs = append(refs, j.Req.BeneficiaryRef)
		centreIDs = append(centreIDs, j.Req.CentreID)
		if id := j.Req.Idempotency; id.Key != "" {
			scopes, keys = append(scopes, id.Scope), append(keys, id.Key)
		}
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	if err := lockSubjects(ctx, tx, refs, b.Subjects); err != nil {
		return nil, err
	}

	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+doseColumns+` FROM doses WHERE beneficiary_ref = ANY($1) ORDER BY beneficiary_ref, number`, refs)
	batch.Queue(`SELECT beneficiary_ref, max(nbf) FROM certificates WHERE beneficiary_ref = ANY($1) GROUP BY beneficiary_ref`, refs)
	batch.Queue(`SELECT c.id, c.name, d.name, st.name FROM centres c `+centreJoins+` WHERE c.id = ANY($1)`, centreIDs)
	batch.Queue(`SELECT i.scope, i.key, i.request_hash, i.dose_id, i.certificate_id FROM idempotency_keys i
		JOIN unnest($1::text[], $2::text[]) AS u(scope, key) ON i.scope = u.scope AND i.key = u.key`, nonNil(scopes), nonNil(keys))
	br := tx.SendBatch(ctx, batch)
	err := readSubjectDetails(br, b)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}

	decide(b)

	var w doseWrites
	for _, j := range jobs {
		if j.Plan != nil {
			w.add(j)
		}
	}
	if err := w.exec(ctx, tx); err != nil {
		return nil, err
	}
	return w.entries, loadReplays(ctx, tx, jobs)
}

// lockSubjects locks and reads the beneficiaries among refs (sorted).
func lockSubjects(ctx context.Context, tx pgx.Tx, refs []string, into map[string]*issuer.Subject) error {
	rows, err := tx.Query(ctx, `SELECT `+beneficiaryColumns+` FROM beneficiaries WHERE ref_id = ANY($1) ORDER BY ref_id FOR UPDATE`, refs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		ben, err := scanBeneficiary(rows)
		if err != nil {
			return err
		}
		into[ben.RefID] = &issuer.Subject{Beneficiary: ben}
	}
	return rows.Err()
}

// readSubjectDetails reads the results of the pipeline RecordDoses sends.
func readSubjectDetails(br pgx.BatchResults, b *issuer.DoseBatch) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		d, err := scanDose(rows)
		if err != nil {
			rows.Close()
			return err
		}
		if subj := b.Subjects[d.BeneficiaryRef]; subj != nil {
			subj.Doses = append(subj.Doses, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var ref string
		var nbf int64
		if err := rows.Scan(&ref, &nbf); err != nil {
			rows.Close()
			return err
		}
		if subj := b.Subjects[ref]; subj != nil {
			subj.LastNBF = nbf
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var c issuer.Centre
		if err := rows.Scan(&c.ID, &c.Name, &c.District, &c.State); err != nil {
			rows.Close()
			return err
		}
		b.Centres[c.ID] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = br.Query()
	if err != nil {
		return err
	}
	for rows.Next() {
		var id issuer.IdempotencyID
		var rec issuer.IdempotencyRecord
		if err := rows.Scan(&id.Scope, &id.Key, &rec.RequestHash, &rec.DoseID, &rec.CertificateID); err != nil {
			rows.Close()
			return err
		}
		b.Used[id] = rec
	}
	rows.Close()
	return rows.Err()
}

// doseWrites gathers a batch's inserts as columns, one array per column.
type doseWrites struct {
	// doses
	dID, dRef, dVaccine, dLot, dCentre, dPerformer, dDistrict, dState, dBy []string
	dNumber                                                                []int64
	dDate, dAt                                                             []time.Time
	// certificates
	cID, cRef, cCourse, cReason, cDose, cPayload, cDetails []string
	cCount, cNBF                                           []int64
	cAt                                                    []time.Time
	// idempotency keys
	kScope, kKey, kHash, kDose, kCert []string
	kAt                               []time.Time
	// audit
	entries []audit.Entry
	now     time.Time
}

func (w *doseWrites) add(j *issuer.DoseJob) {
	d, c := j.Plan.Dose, &j.Plan.Certificate
	w.dID, w.dRef, w.dNumber = append(w.dID, d.ID), append(w.dRef, d.BeneficiaryRef), append(w.dNumber, int64(d.Number))
	w.dVaccine, w.dDate, w.dLot = append(w.dVaccine, d.Vaccine), append(w.dDate, d.Date), append(w.dLot, d.Lot)
	w.dCentre, w.dPerformer = append(w.dCentre, d.CentreID), append(w.dPerformer, d.Performer)
	w.dDistrict, w.dState = append(w.dDistrict, d.District), append(w.dState, d.State)
	w.dBy, w.dAt = append(w.dBy, d.RecordedBy), append(w.dAt, d.RecordedAt)

	details, _ := json.Marshal(c.Details) // plain strings and ints: cannot fail
	w.cID, w.cRef, w.cCourse = append(w.cID, c.ID), append(w.cRef, c.BeneficiaryRef), append(w.cCourse, string(c.Course))
	w.cCount, w.cReason, w.cDose = append(w.cCount, int64(c.DoseCount)), append(w.cReason, c.Reason), append(w.cDose, c.DoseID)
	w.cPayload, w.cDetails = append(w.cPayload, string(c.Payload)), append(w.cDetails, string(details))
	w.cNBF, w.cAt = append(w.cNBF, c.NBF), append(w.cAt, c.CreatedAt)

	if id := j.Req.Idempotency; id.Key != "" {
		w.kScope, w.kKey, w.kHash = append(w.kScope, id.Scope), append(w.kKey, id.Key), append(w.kHash, j.Hash)
		w.kDose, w.kCert, w.kAt = append(w.kDose, j.DoseID), append(w.kCert, j.CertID), append(w.kAt, j.Now)
	}
	w.entries = append(w.entries, j.Plan.Audit...)
	w.now = j.Now
}

// exec writes everything in one pipeline. A key that another transaction
// took since it was read means decide saw a stale view: ErrRetry.
func (w *doseWrites) exec(ctx context.Context, tx pgx.Tx) error {
	if len(w.dID) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO idempotency_keys (scope, key, request_hash, dose_id, certificate_id, created_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
		ON CONFLICT DO NOTHING`, nonNil(w.kScope), nonNil(w.kKey), nonNil(w.kHash), nonNil(w.kDose), nonNil(w.kCert), nonNilTimes(w.kAt))
	batch.Queue(`INSERT INTO doses (`+doseColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::timestamptz[])`,
		w.dID, w.dRef, w.dNumber, w.dVaccine, w.dDate, w.dLot, w.dCentre, w.dPerformer, w.dDistrict, w.dState, w.dBy, w.dAt)
	batch.Queue(`UPDATE appointments a SET status = 'completed', updated_at = $3
		FROM unnest($1::text[], $2::bigint[]) AS u(ref, number)
		WHERE a.beneficiary_ref = u.ref AND a.dose_number = u.number AND a.status = 'booked'`, w.dRef, w.dNumber, w.now)
	batch.Queue(`INSERT INTO certificates (id, beneficiary_ref, status, course, dose_count, reason, dose_id, payload, details, nbf, created_at)
		SELECT u.id, u.ref, 'pending', u.course, u.count, u.reason, u.dose, u.payload, u.details, u.nbf, u.at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::timestamptz[])
			AS u(id, ref, course, count, reason, dose, payload, details, nbf, at)`,
		w.cID, w.cRef, w.cCourse, w.cCount, w.cReason, w.cDose, w.cPayload, w.cDetails, w.cNBF, w.cAt)
	br := tx.SendBatch(ctx, batch)
	tag, err := br.Exec()
	if err == nil && tag.RowsAffected() != int64(len(w.kKey)) {
		err = issuer.ErrRetry
	}
	for i := 0; i < 3 && err == nil; i++ {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

func nonNilTimes(v []time.Time) []time.Time {
	if v == nil {
		return []time.Time{}
	}
	return v
}

// appendAudits appends entries to the chain in order with one lock, one
// read of the chain's head and one insert.
func appendAudits(ctx context.Context, tx pgx.Tx, entries []audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	// The lock and the read of the chain's head go in one round trip: the
	// lock is held until commit, so every round trip under it counts.
	batch := &pgx.Batch{}
	batch.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey))
	batch.Queue(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`)
	br := tx.SendBatch(ctx, batch)
	var prev *audit.Entry
	var head audit.Entry
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&head.Seq, &head.Hash)
	}
	if cerr := br.Close(); cerr != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		err = cerr
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return err
	default:
		prev = &head
	}
	n := len(entries)
	seq, at := make([]int64, n), make([]time.Time, n)
	actor, action, subject, detail, prevHash, hash := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range entries {
		sealed := audit.Seal(e, prev)
		seq[i], at[i], actor[i], action[i], subject[i] = sealed.Seq, sealed.At, sealed.Actor, sealed.Action, sealed.Subject
		detail[i], prevHash[i], hash[i] = sealed.Detail, sealed.PrevHash, sealed.Hash
		prev = &sealed
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
		seq, at, actor, action, subject, detail, prevHash, hash)
	return err
}

// loadReplays loads the dose and certificate each replayed job points at.
func loadReplays(ctx context.Context, tx pgx.Tx, jobs []*issuer.DoseJob) error {
	var doseIDs, certIDs []string
	for _, j := range jobs {
		if j.Replay != nil {
			doseIDs, certIDs = append(doseIDs, j.Replay.DoseID), append(certIDs, j.Replay.CertificateID)
		}
	}
	if len(doseIDs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT `+doseColumns+` FROM doses WHERE id = ANY($1)`, doseIDs)
	if err != nil {
		return err
	}
	doses, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (issuer.Dose, error) { return scanDose(row) })
	if err != nil {
		return err
	}
	certs, err := queryCertificates(ctx, tx, `SELECT `+certificateColumns+` FROM certificates c
		LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref WHERE c.id = ANY($1)`, certIDs)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Replay == nil {
			continue
		}
		i := slices.IndexFunc(doses, func(d issuer.Dose) bool { return d.ID == j.Replay.DoseID })
		k := slices.IndexFunc(certs, func(c issuer.Certificate) bool { return c.ID == j.Replay.CertificateID })
		if i < 0 || k < 0 {
			return errors.New("postgres: an idempotency key points at a missing dose or certificate")
		}
		j.Loaded = &issuer.Recorded{Dose: doses[i], Certificate: certs[k]}
	}
	return nil
}

const doseColumns = `id, beneficiary_ref, number, vaccine, date, lot, centre_id, performer, district, state, recorded_by, recorded_at`

func scanDose(row pgx.Row) (issuer.Dose, error) {
	var d issuer.Dose
	err := row.Scan(&d.ID, &d.BeneficiaryRef, &d.Number, &d.Vaccine, &d.Date, &d.Lot, &d.CentreID, &d.Performer,
		&d.District, &d.State, &d.RecordedBy, &d.RecordedAt)
	d.Date, d.RecordedAt = dayUTC(d.Date), d.RecordedAt.UTC()
	return d, err
}

const certificateColumns = `c.id, c.beneficiary_ref, coalesce(b.account_id, ''), c.status, c.course, c.dose_count, c.reason,
	c.dose_id, c.payload, c.details, c.nbf, c.kid, c.rid, c.jws, c.created_at, c.issued_at, c.revoked_at, c.revoke_reason`

func scanCertificate(row pgx.Row) (issuer.Certificate, error) {
	var c issuer.Certificate
	var status, course, payload, details string
	var issued, revoked *time.Time
	if err := row.Scan(&c.ID, &c.BeneficiaryRef, &c.AccountID, &status, &course, &c.DoseCount, &c.Reason,
		&c.DoseID, &payload, &details, &c.NBF, &c.KID, &c.RID, &c.JWS, &c.CreatedAt, &issued, &revoked, &c.RevokeReason); err != nil {
		return c, err
	}
	c.Status, c.Course, c.Payload = issuer.Status(status), vaccine.Status(course), []byte(payload)
	c.CreatedAt = c.CreatedAt.UTC()
	if issued != nil {
		c.IssuedAt = issued.UTC()
	}
	if revoked != nil {
		c.RevokedAt = revoked.UTC()
	}
	return c, json.Unmarshal([]byte(details), &c.Details)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryCertificates(ctx context.Context, q querier, query string, args ...any) ([]issuer.Certificate, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	certs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (issuer.Certificate, error) { return scanCertificate(row) })
	if certs == nil {
		certs = []issuer.Certificate{}
	}
	return certs, err
}

// markIssued sets pending certificates issued, compare-and-set, in one
// statement, and returns the audit entries of the jobs that won.
func markIssued(ctx context.Context, tx pgx.Tx, jobs []*issuer.IssueJob) ([]audit.Entry, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	// In ID order, so that two batches finishing the same certificates lock
	// their rows in the same order.
	jobs = slices.SortedFunc(slices.Values(jobs), func(a, b *issuer.IssueJob) int { return strings.Compare(a.CertID, b.CertID) })
	// Two finishers of one certificate can share a batch. Only the first of
	// them goes into the statement: with both, PostgreSQL would store either
	// one's JWS, and the winner must be the one whose JWS is stored.
	var ids, kids, rids, jwss []string
	var ats []time.Time
	byID := make(map[string]*issuer.IssueJob, len(jobs))
	for _, j := range jobs {
		j.Won = false
		if byID[j.CertID] != nil {
			continue
		}
		byID[j.CertID] = j
		ids, kids, rids, jwss, ats = append(ids, j.CertID), append(kids, j.KID), append(rids, j.RID), append(jwss, j.JWS), append(ats, j.IssuedAt)
	}
	rows, err := tx.Query(ctx, `UPDATE certificates c SET status = 'issued', kid = u.kid, rid = u.rid, jws = u.jws, issued_at = u.at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(id, kid, rid, jws, at)
		WHERE c.id = u.id AND c.status = 'pending' RETURNING c.id`, ids, kids, rids, jwss, ats)
	if err != nil {
		return nil, err
	}
	won, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var entries []audit.Entry
	for _, id := range won {
		if j := byID[id]; j != nil {
			j.Won = true
			entries = append(entries, j.Audit)
		}
	}
	return entries, nil
}

// ChangeBeneficiary applies a correction, revocation or re-issue.
func (s *Store) ChangeBeneficiary(ctx context.Context, ref string, decide func(*issuer.BeneficiaryView) (*issuer.Change, error)) (*issuer.Change, error) {
	var ch *issuer.Change
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		subjects := map[string]*issuer.Subject{}
		if err := lockSubjects(ctx, tx, []string{ref}, subjects); err != nil {
			return err
		}
		subj := subjects[ref]
		if subj == nil {
			return issuer.ErrBeneficiaryNotFound
		}
		rows, err := tx.Query(ctx, `SELECT `+doseColumns+` FROM doses WHERE beneficiary_ref = $1 ORDER BY number`, ref)
		if err != nil {
			return err
		}
		if subj.Doses, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (issuer.Dose, error) { return scanDose(row) }); err != nil {
			return err
		}
		view := &issuer.BeneficiaryView{Subject: *subj}
		if view.Certificates, err = queryCertificates(ctx, tx, `SELECT `+certificateColumns+` FROM certificates c
			LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref WHERE c.beneficiary_ref = $1 ORDER BY c.nbf DESC`, ref); err != nil {
			return err
		}
		if len(view.Certificates) > 0 {
			view.LastNBF = view.Certificates[0].NBF
		}
		if ch, err = decide(view); err != nil {
			return err
		}
		if b := ch.Beneficiary; b != nil {
			if _, err := tx.Exec(ctx, `UPDATE beneficiaries SET name = $1, gender = $2, birth_date = $3, corrections = $4 WHERE ref_id = $5`,
				b.Name, b.Gender, b.BirthDate, b.Corrections, ref); err != nil {
				return err
			}
		}
		if c := ch.Certificate; c != nil {
			details, err := json.Marshal(c.Details)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO certificates (id, beneficiary_ref, status, course, dose_count, reason, dose_id,
				payload, details, nbf, created_at) VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10)`,
				c.ID, c.BeneficiaryRef, string(c.Course), c.DoseCount, c.Reason, c.DoseID, string(c.Payload), string(details),
				c.NBF, c.CreatedAt); err != nil {
				return err
			}
		}
		bumped := map[string]bool{}
		for _, r := range ch.Revocations {
			if _, err := tx.Exec(ctx, `INSERT INTO revocations (kid, rid, cutoff, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (kid, rid) DO UPDATE SET cutoff = greatest(revocations.cutoff, excluded.cutoff), updated_at = excluded.updated_at`,
				r.KID, r.RID, r.Cutoff, ch.RevokedAt); err != nil {
				return err
			}
			if !bumped[r.KID] {
				bumped[r.KID] = true
				if _, err := tx.Exec(ctx, `INSERT INTO crl_versions (kid, ctr) VALUES ($1, 2)
					ON CONFLICT (kid) DO UPDATE SET ctr = crl_versions.ctr + 1`, r.KID); err != nil {
					return err
				}
			}
		}
		if len(ch.Revoked) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE certificates SET revoked_at = $1, revoke_reason = $2 WHERE id = ANY($3) AND revoked_at IS NULL`,
				ch.RevokedAt, ch.RevokeReason, ch.Revoked); err != nil {
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

// Certificate returns one certificate.
func (s *Store) Certificate(ctx context.Context, id string) (issuer.Certificate, error) {
	c, err := scanCertificate(s.pool.QueryRow(ctx, `SELECT `+certificateColumns+` FROM certificates c
		LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, issuer.ErrCertificateNotFound
	}
	return c, classify(err)
}

// Certificates lists certificates, newest first.
func (s *Store) Certificates(ctx context.Context, f issuer.CertificateFilter) ([]issuer.Certificate, error) {
	var where []string
	var args []any
	if f.BeneficiaryRef != "" {
		args = append(args, f.BeneficiaryRef)
		where = append(where, "c.beneficiary_ref = $"+strconv.Itoa(len(args)))
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		where = append(where, "c.status = $"+strconv.Itoa(len(args)))
	}
	q := `SELECT ` + certificateColumns + ` FROM certificates c LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	q += ` ORDER BY c.created_at DESC, c.nbf DESC LIMIT $` + strconv.Itoa(len(args))
	certs, err := queryCertificates(ctx, s.pool, q, args...)
	return certs, classify(err)
}

// PendingCertificates lists certificates pending since before a time.
func (s *Store) PendingCertificates(ctx context.Context, before time.Time, limit int) ([]issuer.Certificate, error) {
	certs, err := queryCertificates(ctx, s.pool, `SELECT `+certificateColumns+` FROM certificates c
		LEFT JOIN beneficiaries b ON b.ref_id = c.beneficiary_ref
		WHERE c.status = 'pending' AND c.created_at <= $1 ORDER BY c.created_at LIMIT $2`, before, limit)
	return certs, classify(err)
}

// CRLVersions returns every key's CRL counter.
func (s *Store) CRLVersions(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT kid, ctr FROM crl_versions`)
	if err != nil {
		return nil, classify(err)
	}
	out := map[string]int{}
	var kid string
	var ctr int
	_, err = pgx.ForEachRow(rows, []any{&kid, &ctr}, func() error {
		out[kid] = ctr
		return nil
	})
	return out, classify(err)
}

// CRL returns one key's revocation entries and counter. The counter is read
// first: both change in one transaction, so the entries are never older than
// the counter returned with them.
func (s *Store) CRL(ctx context.Context, kid string) (int, []issuer.Revocation, error) {
	ctr := 1
	err := s.pool.QueryRow(ctx, `SELECT ctr FROM crl_versions WHERE kid = $1`, kid).Scan(&ctr)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, classify(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT kid, rid, cutoff FROM revocations WHERE kid = $1 ORDER BY rid`, kid)
	if err != nil {
		return 0, nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (issuer.Revocation, error) {
		var r issuer.Revocation
		err := row.Scan(&r.KID, &r.RID, &r.Cutoff)
		return r, err
	})
	return ctr, out, classify(err)
}

// DeleteIdempotencyKeys forgets keys used before a time.
func (s *Store) DeleteIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	return tag.RowsAffected(), classify(err)
}
