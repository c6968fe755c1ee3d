package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/vaccine"
)

var (
	_ booking.Store       = (*Store)(nil)
	_ booking.DoseHistory = (*Store)(nil)
)

// bucketColumn maps a capacity bucket to its column suffix; the fixed set is
// what makes building the column name safe.
func bucketColumn(b string) (string, error) {
	switch booking.Bucket(b) {
	case booking.BucketDose1, booking.BucketDose2, booking.BucketPrecaution:
		return b, nil
	}
	return "", fmt.Errorf("postgres: unknown capacity bucket %q", b)
}

// PutState creates or renames a state.
func (s *Store) PutState(ctx context.Context, st booking.State) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return putState(ctx, tx, st) })
}

func putState(ctx context.Context, tx pgx.Tx, st booking.State) error {
	_, err := tx.Exec(ctx, `INSERT INTO states (id, name) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, st.ID, st.Name)
	return err
}

// PutDistrict creates or renames a district.
func (s *Store) PutDistrict(ctx context.Context, d booking.District) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return putDistrict(ctx, tx, d) })
}

func putDistrict(ctx context.Context, tx pgx.Tx, d booking.District) error {
	_, err := tx.Exec(ctx, `INSERT INTO districts (id, state_id, name) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET state_id = excluded.state_id, name = excluded.name`, d.ID, d.StateID, d.Name)
	if violation(err, foreignKeyViolation, "") {
		return booking.ErrStateNotFound
	}
	return err
}

// States lists states by name.
func (s *Store) States(ctx context.Context) ([]booking.State, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name FROM states ORDER BY name`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (booking.State, error) {
		var st booking.State
		return st, row.Scan(&st.ID, &st.Name)
	})
	if out == nil {
		out = []booking.State{}
	}
	return out, classify(err)
}

// Districts lists a state's districts by name.
func (s *Store) Districts(ctx context.Context, stateID int) ([]booking.District, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM states WHERE id = $1)`, stateID).Scan(&exists); err != nil {
		return nil, classify(err)
	}
	if !exists {
		return nil, booking.ErrStateNotFound
	}
	rows, err := s.pool.Query(ctx, `SELECT id, state_id, name FROM districts WHERE state_id = $1 ORDER BY name`, stateID)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (booking.District, error) {
		var d booking.District
		return d, row.Scan(&d.ID, &d.StateID, &d.Name)
	})
	if out == nil {
		out = []booking.District{}
	}
	return out, classify(err)
}

// PutCentre creates or updates a centre.
func (s *Store) PutCentre(ctx context.Context, c booking.Centre) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return putCentre(ctx, tx, c) })
}

func putCentre(ctx context.Context, tx pgx.Tx, c booking.Centre) error {
	_, err := tx.Exec(ctx, `INSERT INTO centres (id, name, address, block, pincode, district_id, lat, lng, fee_type, open_from, open_to)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, block = excluded.block,
			pincode = excluded.pincode, district_id = excluded.district_id, lat = excluded.lat, lng = excluded.lng,
			fee_type = excluded.fee_type, open_from = excluded.open_from, open_to = excluded.open_to`,
		c.ID, c.Name, c.Address, c.Block, c.Pincode, c.DistrictID, c.Lat, c.Long, c.FeeType, c.From, c.To)
	if violation(err, foreignKeyViolation, "") {
		return booking.ErrDistrictNotFound
	}
	return err
}

const centreColumns = `c.id, c.name, c.address, c.block, c.pincode, c.district_id, d.name, d.state_id, st.name,
	c.lat, c.lng, c.fee_type, c.open_from, c.open_to`

const centreJoins = `JOIN districts d ON d.id = c.district_id JOIN states st ON st.id = d.state_id`

func centreDest(c *booking.Centre) []any {
	return []any{&c.ID, &c.Name, &c.Address, &c.Block, &c.Pincode, &c.DistrictID, &c.District, &c.StateID, &c.State,
		&c.Lat, &c.Long, &c.FeeType, &c.From, &c.To}
}

// Centre returns one centre with its district and state names.
func (s *Store) Centre(ctx context.Context, id string) (booking.Centre, error) {
	var c booking.Centre
	err := s.pool.QueryRow(ctx, `SELECT `+centreColumns+` FROM centres c `+centreJoins+` WHERE c.id = $1`, id).Scan(centreDest(&c)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, booking.ErrCentreNotFound
	}
	return c, classify(err)
}

// AddSession creates a session with all its capacity available.
func (s *Store) AddSession(ctx context.Context, sess booking.Session) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return addSession(ctx, tx, sess, false) })
}

func addSession(ctx context.Context, tx pgx.Tx, sess booking.Session, ignoreExisting bool) error {
	conflict := ""
	if ignoreExisting {
		conflict = " ON CONFLICT (id) DO NOTHING"
	}
	c := sess.Capacity
	_, err := tx.Exec(ctx, `INSERT INTO sessions (id, centre_id, date, vaccine, min_age, max_age, fee, slots,
		cap_dose1, cap_dose2, cap_precaution, avail_dose1, avail_dose2, avail_precaution)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $9, $10, $11)`+conflict,
		sess.ID, sess.CentreID, sess.Date.Format(time.DateOnly), sess.Vaccine, sess.MinAge, sess.MaxAge, sess.Fee, nonNil(sess.Slots),
		c.Dose1, c.Dose2, c.Precaution)
	if violation(err, foreignKeyViolation, "") {
		return booking.ErrCentreNotFound
	}
	return err
}

const sessionColumns = `s.id, s.centre_id, s.date, s.vaccine, s.min_age, s.max_age, s.fee, s.slots,
	s.cap_dose1, s.cap_dose2, s.cap_precaution, s.avail_dose1, s.avail_dose2, s.avail_precaution, ` + centreColumns

const sessionJoins = `FROM sessions s JOIN centres c ON c.id = s.centre_id ` + centreJoins

func scanSession(row pgx.Row) (booking.SessionAt, error) {
	var sa booking.SessionAt
	dest := []any{&sa.ID, &sa.CentreID, &sa.Date, &sa.Vaccine, &sa.MinAge, &sa.MaxAge, &sa.Fee, &sa.Slots,
		&sa.Capacity.Dose1, &sa.Capacity.Dose2, &sa.Capacity.Precaution,
		&sa.Available.Dose1, &sa.Available.Dose2, &sa.Available.Precaution}
	err := row.Scan(append(dest, centreDest(&sa.Centre)...)...)
	sa.Date = dayUTC(sa.Date)
	return sa, err
}

// Session returns one session with its centre.
func (s *Store) Session(ctx context.Context, id string) (booking.SessionAt, error) {
	sa, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` `+sessionJoins+` WHERE s.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sa, booking.ErrSessionNotFound
	}
	return sa, classify(err)
}

// FindSessions lists sessions by pincode, district or centre over days.
func (s *Store) FindSessions(ctx context.Context, q booking.SessionQuery) ([]booking.SessionAt, error) {
	where := []string{`s.date BETWEEN $1 AND $2`}
	args := []any{q.From.Format(time.DateOnly), q.To.Format(time.DateOnly)}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	switch {
	case q.Pincode != "":
		add(`c.pincode =`, q.Pincode)
	case q.DistrictID != 0:
		add(`c.district_id =`, q.DistrictID)
	case q.CentreID != "":
		add(`c.id =`, q.CentreID)
	default:
		return nil, errors.New("postgres: FindSessions needs a pincode, district or centre")
	}
	if q.Vaccine != "" {
		add(`s.vaccine =`, q.Vaccine)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` `+sessionJoins+`
		WHERE `+strings.Join(where, " AND ")+` ORDER BY c.name, c.id, s.date, s.vaccine, s.id`, args...)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (booking.SessionAt, error) { return scanSession(row) })
	if out == nil {
		out = []booking.SessionAt{}
	}
	return out, classify(err)
}

// Import writes places and sessions in one transaction.
func (s *Store) Import(ctx context.Context, states []booking.State, districts []booking.District, centres []booking.Centre, sessions []booking.Session) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for _, st := range states {
			if err := putState(ctx, tx, st); err != nil {
				return fmt.Errorf("state %d: %w", st.ID, err)
			}
		}
		for _, d := range districts {
			if err := putDistrict(ctx, tx, d); err != nil {
				return fmt.Errorf("district %d: %w", d.ID, err)
			}
		}
		for _, c := range centres {
			if err := putCentre(ctx, tx, c); err != nil {
				return fmt.Errorf("centre %s: %w", c.ID, err)
			}
		}
		for _, sess := range sessions {
			if err := addSession(ctx, tx, sess, true); err != nil {
				return fmt.Errorf("session %s: %w", sess.ID, err)
			}
		}
		return nil
	})
}

// HasPlaces reports whether any state exists.
func (s *Store) HasPlaces(ctx context.Context) (bool, error) {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM states)`).Scan(&exists)
	return exists, classify(err)
}

// takePlace decrements one bucket of a session if a place is left. The
// UPDATE locks the row; a concurrent booking waits and then re-checks the
// condition against the committed value, so the count never goes below 0.
func takePlace(ctx context.Context, tx pgx.Tx, sessionID, bucket string) error {
	col, err := bucketColumn(bucket)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE sessions SET avail_`+col+` = avail_`+col+` - 1
		WHERE id = $1 AND avail_`+col+` > 0`, sessionID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1)`, sessionID).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return booking.ErrSessionNotFound
	}
	return booking.ErrSessionFull
}

// giveBack returns one place of a bucket to a session.
func giveBack(ctx context.Context, tx pgx.Tx, sessionID, bucket string) error {
	col, err := bucketColumn(bucket)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE sessions SET avail_`+col+` = avail_`+col+` + 1 WHERE id = $1`, sessionID)
	return err
}

// Book books a batch in one statement, so one commit (one wait for the
// disk) serves the whole batch: it locks the session row, inserts the first
// appointments up to the places left, skipping beneficiaries who already
// have an open appointment (appointments_one_open), and takes as many
// places as it inserted. When a skipped beneficiary leaves a place that a
// later appointment of the batch can use, the rest go round again. A
// concurrent batch, from another process, waits for the row lock and then
// sees the committed count; the CHECK on avail_* is the last word.
func (s *Store) Book(ctx context.Context, batch []booking.Appointment) ([]error, error) {
	outcomes := make([]error, len(batch))
	if len(batch) == 0 {
		return outcomes, nil
	}
	col, err := bucketColumn(string(batch[0].Bucket))
	if err != nil {
		return nil, err
	}
	rest := batch
	for offset := 0; len(rest) > 0; {
		n := len(rest)
		ids, refs, slots := make([]string, n), make([]string, n), make([]string, n)
		doses, created, updated := make([]int32, n), make([]time.Time, n), make([]time.Time, n)
		for i, a := range rest {
			if a.SessionID != batch[0].SessionID || a.Bucket != batch[0].Bucket {
				return nil, fmt.Errorf("postgres: a booking batch mixes sessions or buckets")
			}
			ids[i], refs[i], slots[i], doses[i], created[i], updated[i] = a.ID, a.BeneficiaryRef, a.Slot, int32(a.DoseNumber), a.CreatedAt, a.UpdatedAt
		}
		var avail *int32
		var inserted []string
		err := s.pool.QueryRow(ctx, `WITH s AS (SELECT avail_`+col+` AS avail FROM sessions WHERE id = $1 FOR UPDATE),
			ins AS (
				INSERT INTO appointments (id, beneficiary_ref, session_id, dose_number, bucket, slot, status, created_at, updated_at)
				SELECT u.id, u.ref, $1, u.dose, $2, u.slot, 'booked', u.created, u.updated
				FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::timestamptz[], $8::timestamptz[])
					WITH ORDINALITY AS u(id, ref, dose, slot, created, updated, n), s
				WHERE u.n <= s.avail
				ON CONFLICT (beneficiary_ref) WHERE status = 'booked' DO NOTHING
				RETURNING id),
			taken AS (UPDATE sessions SET avail_`+col+` = avail_`+col+` - (SELECT count(*) FROM ins)
				WHERE id = $1 AND EXISTS (SELECT 1 FROM ins) RETURNING 1)
			SELECT (SELECT avail FROM s), ARRAY(SELECT id FROM ins), (SELECT count(*) FROM taken)`,
			batch[0].SessionID, string(batch[0].Bucket), ids, refs, doses, slots, created, updated).Scan(&avail, &inserted, new(int64))
		if err != nil {
			return nil, classify(err)
		}
		if avail == nil {
			for i := range rest {
				outcomes[offset+i] = booking.ErrSessionNotFound
			}
			return outcomes, nil
		}
		booked := make(map[string]bool, len(inserted))
		for _, id := range inserted {
			booked[id] = true
		}
		considered := min(int(*avail), n)
		for i := range considered {
			if !booked[ids[i]] {
				outcomes[offset+i] = booking.ErrAlreadyBooked
			}
		}
		if len(inserted) == int(*avail) { // full: the rest find no place
			for i := considered; i < n; i++ {
				outcomes[offset+i] = booking.ErrSessionFull
			}
			return outcomes, nil
		}
		rest, offset = rest[considered:], offset+considered
	}
	return outcomes, nil
}

// openAppointment locks an appointment row and returns its session and
// bucket if it is booked.
func openAppointment(ctx context.Context, tx pgx.Tx, id string) (sessionID, bucket string, err error) {
	var status string
	err = tx.QueryRow(ctx, `SELECT session_id, bucket, status FROM appointments WHERE id = $1 FOR UPDATE`, id).Scan(&sessionID, &bucket, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", booking.ErrAppointmentNotFound
	}
	if err == nil && status != booking.StatusBooked {
		err = booking.ErrNotBooked
	}
	return sessionID, bucket, err
}

// MoveAppointment moves an open appointment to another session or slot.
func (s *Store) MoveAppointment(ctx context.Context, id, sessionID, slot string, now time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		oldSession, bucket, err := openAppointment(ctx, tx, id)
		if err != nil {
			return err
		}
		if oldSession != sessionID {
			if err := takePlace(ctx, tx, sessionID, bucket); err != nil {
				return err
			}
			if err := giveBack(ctx, tx, oldSession, bucket); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE appointments SET session_id = $1, slot = $2, updated_at = $3 WHERE id = $4`, sessionID, slot, now, id)
		return err
	})
}

// CancelAppointment closes an open appointment and gives its place back.
func (s *Store) CancelAppointment(ctx context.Context, id string, now time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		sessionID, bucket, err := openAppointment(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE appointments SET status = 'cancelled', updated_at = $1 WHERE id = $2`, now, id); err != nil {
			return err
		}
		return giveBack(ctx, tx, sessionID, bucket)
	})
}

const appointmentColumns = `a.id, a.beneficiary_ref, a.session_id, a.dose_number, a.bucket, a.slot, a.status,
	a.created_at, a.updated_at, b.name, s.date, s.vaccine, ` + centreColumns

const appointmentJoins = `FROM appointments a JOIN beneficiaries b ON b.ref_id = a.beneficiary_ref
	JOIN sessions s ON s.id = a.session_id JOIN centres c ON c.id = s.centre_id ` + centreJoins

func scanAppointment(row pgx.Row) (booking.AppointmentDetail, error) {
	var a booking.AppointmentDetail
	var bucket string
	dest := []any{&a.ID, &a.BeneficiaryRef, &a.SessionID, &a.DoseNumber, &bucket, &a.Slot, &a.Status,
		&a.CreatedAt, &a.UpdatedAt, &a.BeneficiaryName, &a.Date, &a.Vaccine}
	err := row.Scan(append(dest, centreDest(&a.Centre)...)...)
	a.Bucket = booking.Bucket(bucket)
	a.CreatedAt, a.UpdatedAt, a.Date = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), dayUTC(a.Date)
	return a, err
}

func (s *Store) appointments(ctx context.Context, query string, args ...any) ([]booking.AppointmentDetail, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (booking.AppointmentDetail, error) { return scanAppointment(row) })
	if out == nil {
		out = []booking.AppointmentDetail{}
	}
	return out, classify(err)
}

// Appointment returns one appointment with its details.
func (s *Store) Appointment(ctx context.Context, id string) (booking.AppointmentDetail, error) {
	a, err := scanAppointment(s.pool.QueryRow(ctx, `SELECT `+appointmentColumns+` `+appointmentJoins+` WHERE a.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, booking.ErrAppointmentNotFound
	}
	return a, classify(err)
}

// AppointmentsOf lists an account's appointments, newest first.
func (s *Store) AppointmentsOf(ctx context.Context, accountID string) ([]booking.AppointmentDetail, error) {
	return s.appointments(ctx, `SELECT `+appointmentColumns+` `+appointmentJoins+`
		WHERE b.account_id = $1 ORDER BY a.created_at DESC, a.id`, accountID)
}

// CentreAppointments lists a day's open and completed appointments at a centre.
func (s *Store) CentreAppointments(ctx context.Context, centreID string, day time.Time) ([]booking.AppointmentDetail, error) {
	return s.appointments(ctx, `SELECT `+appointmentColumns+` `+appointmentJoins+`
		WHERE c.id = $1 AND s.date = $2 AND a.status IN ('booked', 'completed') ORDER BY a.slot, b.name, a.id`,
		centreID, day.Format(time.DateOnly))
}

// DoseHistory reads the issuer's doses table, ordered by dose number.
func (s *Store) DoseHistory(ctx context.Context, refID string) ([]vaccine.Dose, error) {
	rows, err := s.pool.Query(ctx, `SELECT number, vaccine, date FROM doses WHERE beneficiary_ref = $1 ORDER BY number`, refID)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (vaccine.Dose, error) {
		var d vaccine.Dose
		err := row.Scan(&d.Number, &d.Vaccine, &d.Date)
		d.Date = dayUTC(d.Date)
		return d, err
	})
	return out, classify(err)
}
