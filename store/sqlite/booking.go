package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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
	return "", fmt.Errorf("sqlite: unknown capacity bucket %q", b)
}

func date(t time.Time) string { return t.Format(time.DateOnly) }

func parseDate(s string) (time.Time, error) {
	if len(s) > 10 {
		s = s[:10]
	}
	return time.Parse(time.DateOnly, s)
}

// PutState creates or renames a state.
func (s *Store) PutState(ctx context.Context, st booking.State) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return putState(ctx, tx, st) })
}

func putState(ctx context.Context, tx *sql.Tx, st booking.State) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO states (id, name) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name`, st.ID, st.Name)
	return err
}

// PutDistrict creates or renames a district.
func (s *Store) PutDistrict(ctx context.Context, d booking.District) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return putDistrict(ctx, tx, d) })
}

func putDistrict(ctx context.Context, tx *sql.Tx, d booking.District) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO districts (id, state_id, name) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state_id = excluded.state_id, name = excluded.name`, d.ID, d.StateID, d.Name)
	if foreignKeyViolation(err) {
		return booking.ErrStateNotFound
	}
	return err
}

// States lists states by name.
func (s *Store) States(ctx context.Context) ([]booking.State, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name FROM states ORDER BY name`)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []booking.State{}
	for rows.Next() {
		var st booking.State
		if err := rows.Scan(&st.ID, &st.Name); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Districts lists a state's districts by name.
func (s *Store) Districts(ctx context.Context, stateID int) ([]booking.District, error) {
	var one int
	if err := s.read.QueryRowContext(ctx, `SELECT 1 FROM states WHERE id = ?`, stateID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil, booking.ErrStateNotFound
	} else if err != nil {
		return nil, unavailable(err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, state_id, name FROM districts WHERE state_id = ? ORDER BY name`, stateID)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []booking.District{}
	for rows.Next() {
		var d booking.District
		if err := rows.Scan(&d.ID, &d.StateID, &d.Name); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PutCentre creates or updates a centre.
func (s *Store) PutCentre(ctx context.Context, c booking.Centre) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return putCentre(ctx, tx, c) })
}

func putCentre(ctx context.Context, tx *sql.Tx, c booking.Centre) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO centres (id, name, address, block, pincode, district_id, lat, lng, fee_type, open_from, open_to)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, block = excluded.block,
			pincode = excluded.pincode, district_id = excluded.district_id, lat = excluded.lat, lng = excluded.lng,
			fee_type = excluded.fee_type, open_from = excluded.open_from, open_to = excluded.open_to`,
		c.ID, c.Name, c.Address, c.Block, c.Pincode, c.DistrictID, c.Lat, c.Long, c.FeeType, c.From, c.To)
	if foreignKeyViolation(err) {
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
	err := s.read.QueryRowContext(ctx, `SELECT `+centreColumns+` FROM centres c `+centreJoins+` WHERE c.id = ?`, id).Scan(centreDest(&c)...)
	if errors.Is(err, sql.ErrNoRows) {
		return c, booking.ErrCentreNotFound
	}
	return c, err
}

// AddSession creates a session with all its capacity available.
func (s *Store) AddSession(ctx context.Context, sess booking.Session) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return addSession(ctx, tx, sess, false) })
}

func addSession(ctx context.Context, tx *sql.Tx, sess booking.Session, ignoreExisting bool) error {
	conflict := ""
	if ignoreExisting {
		conflict = " ON CONFLICT (id) DO NOTHING"
	}
	c := sess.Capacity
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, centre_id, date, vaccine, min_age, max_age, fee, slots,
		cap_dose1, cap_dose2, cap_precaution, avail_dose1, avail_dose2, avail_precaution)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+conflict,
		sess.ID, sess.CentreID, date(sess.Date), sess.Vaccine, sess.MinAge, sess.MaxAge, sess.Fee, jsonText(sess.Slots),
		c.Dose1, c.Dose2, c.Precaution, c.Dose1, c.Dose2, c.Precaution)
	if foreignKeyViolation(err) {
		return booking.ErrCentreNotFound
	}
	return err
}

const sessionColumns = `s.id, s.centre_id, s.date, s.vaccine, s.min_age, s.max_age, s.fee, s.slots,
	s.cap_dose1, s.cap_dose2, s.cap_precaution, s.avail_dose1, s.avail_dose2, s.avail_precaution, ` + centreColumns

const sessionJoins = `FROM sessions s JOIN centres c ON c.id = s.centre_id ` + centreJoins

func scanSession(row interface{ Scan(...any) error }) (booking.SessionAt, error) {
	var sa booking.SessionAt
	var day, slots string
	dest := []any{&sa.ID, &sa.CentreID, &day, &sa.Vaccine, &sa.MinAge, &sa.MaxAge, &sa.Fee, &slots,
		&sa.Capacity.Dose1, &sa.Capacity.Dose2, &sa.Capacity.Precaution,
		&sa.Available.Dose1, &sa.Available.Dose2, &sa.Available.Precaution}
	if err := row.Scan(append(dest, centreDest(&sa.Centre)...)...); err != nil {
		return sa, err
	}
	var err error
	if sa.Date, err = parseDate(day); err != nil {
		return sa, err
	}
	return sa, json.Unmarshal([]byte(slots), &sa.Slots)
}

// Session returns one session with its centre.
func (s *Store) Session(ctx context.Context, id string) (booking.SessionAt, error) {
	sa, err := scanSession(s.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` `+sessionJoins+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sa, booking.ErrSessionNotFound
	}
	return sa, err
}

// FindSessions lists sessions by pincode, district or centre over days.
func (s *Store) FindSessions(ctx context.Context, q booking.SessionQuery) ([]booking.SessionAt, error) {
	where := []string{`s.date BETWEEN ? AND ?`}
	args := []any{date(q.From), date(q.To)}
	switch {
	case q.Pincode != "":
		where, args = append(where, `c.pincode = ?`), append(args, q.Pincode)
	case q.DistrictID != 0:
		where, args = append(where, `c.district_id = ?`), append(args, q.DistrictID)
	case q.CentreID != "":
		where, args = append(where, `c.id = ?`), append(args, q.CentreID)
	default:
		return nil, errors.New("sqlite: FindSessions needs a pincode, district or centre")
	}
	if q.Vaccine != "" {
		where, args = append(where, `s.vaccine = ?`), append(args, q.Vaccine)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+sessionColumns+` `+sessionJoins+`
		WHERE `+strings.Join(where, " AND ")+` ORDER BY c.name, c.id, s.date, s.vaccine, s.id`, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []booking.SessionAt{}
	for rows.Next() {
		sa, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sa)
	}
	return out, rows.Err()
}

// Import writes places and sessions in one transaction.
func (s *Store) Import(ctx context.Context, states []booking.State, districts []booking.District, centres []booking.Centre, sessions []booking.Session) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
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
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM states LIMIT 1)`).Scan(&n)
	return n > 0, err
}

// takePlace decrements one bucket of a session if a place is left.
func takePlace(ctx context.Context, tx *sql.Tx, sessionID, bucket string) error {
	col, err := bucketColumn(bucket)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET avail_`+col+` = avail_`+col+` - 1
		WHERE id = ? AND avail_`+col+` > 0`, sessionID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE id = ?`, sessionID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return booking.ErrSessionNotFound
	} else if err != nil {
		return err
	}
	return booking.ErrSessionFull
}

// giveBack returns one place of a bucket to a session.
func giveBack(ctx context.Context, tx *sql.Tx, sessionID, bucket string) error {
	col, err := bucketColumn(bucket)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE sessions SET avail_`+col+` = avail_`+col+` + 1 WHERE id = ?`, sessionID)
	return err
}

// Book books a batch in one transaction, in order: a place taken for each
// appointment, given back when its beneficiary already has one open.
func (s *Store) Book(ctx context.Context, batch []booking.Appointment) ([]error, error) {
	outcomes := make([]error, len(batch))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, a := range batch {
			if a.SessionID != batch[0].SessionID || a.Bucket != batch[0].Bucket {
				return fmt.Errorf("sqlite: a booking batch mixes sessions or buckets")
			}
			switch err := takePlace(ctx, tx, a.SessionID, string(a.Bucket)); {
			case errors.Is(err, booking.ErrSessionFull) || errors.Is(err, booking.ErrSessionNotFound):
				for j := i; j < len(batch); j++ {
					outcomes[j] = err
				}
				return nil
			case err != nil:
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO appointments (id, beneficiary_ref, session_id, dose_number, bucket, slot, status, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, 'booked', ?, ?)`,
				a.ID, a.BeneficiaryRef, a.SessionID, a.DoseNumber, string(a.Bucket), a.Slot, micros(a.CreatedAt), micros(a.UpdatedAt))
			if uniqueViolation(err, "appointments.beneficiary_ref") {
				// The statement failed alone; the transaction goes on.
				outcomes[i] = booking.ErrAlreadyBooked
				err = giveBack(ctx, tx, a.SessionID, string(a.Bucket))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outcomes, nil
}

// openAppointment locks (by the write transaction) an appointment and
// returns its session and bucket if it is booked.
func openAppointment(ctx context.Context, tx *sql.Tx, id string) (sessionID, bucket string, err error) {
	var status string
	err = tx.QueryRowContext(ctx, `SELECT session_id, bucket, status FROM appointments WHERE id = ?`, id).Scan(&sessionID, &bucket, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", booking.ErrAppointmentNotFound
	}
	if err == nil && status != booking.StatusBooked {
		err = booking.ErrNotBooked
	}
	return sessionID, bucket, err
}

// MoveAppointment moves an open appointment to another session or slot.
func (s *Store) MoveAppointment(ctx context.Context, id, sessionID, slot string, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
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
		_, err = tx.ExecContext(ctx, `UPDATE appointments SET session_id = ?, slot = ?, updated_at = ? WHERE id = ?`,
			sessionID, slot, micros(now), id)
		return err
	})
}

// CancelAppointment closes an open appointment and gives its place back.
func (s *Store) CancelAppointment(ctx context.Context, id string, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		sessionID, bucket, err := openAppointment(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE appointments SET status = 'cancelled', updated_at = ? WHERE id = ?`, micros(now), id); err != nil {
			return err
		}
		return giveBack(ctx, tx, sessionID, bucket)
	})
}

const appointmentColumns = `a.id, a.beneficiary_ref, a.session_id, a.dose_number, a.bucket, a.slot, a.status,
	a.created_at, a.updated_at, b.name, s.date, s.vaccine, ` + centreColumns

const appointmentJoins = `FROM appointments a JOIN beneficiaries b ON b.ref_id = a.beneficiary_ref
	JOIN sessions s ON s.id = a.session_id JOIN centres c ON c.id = s.centre_id ` + centreJoins

func scanAppointment(row interface{ Scan(...any) error }) (booking.AppointmentDetail, error) {
	var a booking.AppointmentDetail
	var bucket, day string
	var created, updated int64
	dest := []any{&a.ID, &a.BeneficiaryRef, &a.SessionID, &a.DoseNumber, &bucket, &a.Slot, &a.Status,
		&created, &updated, &a.BeneficiaryName, &day, &a.Vaccine}
	if err := row.Scan(append(dest, centreDest(&a.Centre)...)...); err != nil {
		return a, err
	}
	a.Bucket = booking.Bucket(bucket)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	var err error
	a.Date, err = parseDate(day)
	return a, err
}

func (s *Store) appointments(ctx context.Context, query string, args ...any) ([]booking.AppointmentDetail, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []booking.AppointmentDetail{}
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Appointment returns one appointment with its details.
func (s *Store) Appointment(ctx context.Context, id string) (booking.AppointmentDetail, error) {
	a, err := scanAppointment(s.read.QueryRowContext(ctx, `SELECT `+appointmentColumns+` `+appointmentJoins+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, booking.ErrAppointmentNotFound
	}
	return a, err
}

// AppointmentsOf lists an account's appointments, newest first.
func (s *Store) AppointmentsOf(ctx context.Context, accountID string) ([]booking.AppointmentDetail, error) {
	return s.appointments(ctx, `SELECT `+appointmentColumns+` `+appointmentJoins+`
		WHERE b.account_id = ? ORDER BY a.created_at DESC, a.id`, accountID)
}

// CentreAppointments lists a day's open and completed appointments at a centre.
func (s *Store) CentreAppointments(ctx context.Context, centreID string, day time.Time) ([]booking.AppointmentDetail, error) {
	return s.appointments(ctx, `SELECT `+appointmentColumns+` `+appointmentJoins+`
		WHERE c.id = ? AND s.date = ? AND a.status IN ('booked', 'completed') ORDER BY a.slot, b.name, a.id`, centreID, date(day))
}

// DoseHistory reads the issuer's doses table, ordered by dose number.
func (s *Store) DoseHistory(ctx context.Context, refID string) ([]vaccine.Dose, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT number, vaccine, date FROM doses WHERE beneficiary_ref = ? ORDER BY number`, refID)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []vaccine.Dose
	for rows.Next() {
		var d vaccine.Dose
		var day string
		if err := rows.Scan(&d.Number, &d.Vaccine, &day); err != nil {
			return nil, err
		}
		if d.Date, err = parseDate(day); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
