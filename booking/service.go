package booking

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/metrics"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/vaccine"
)

// Config builds a Service.
type Config struct {
	Store         Store
	Beneficiaries Beneficiaries
	Doses         DoseHistory
	Catalog       *vaccine.Catalog // nil: vaccine.Default
	Now           func() time.Time // nil: time.Now
	Audit         audit.Store      // records changes to places and sessions; nil: none
}

// Service is booking.
type Service struct {
	store   Store
	benes   Beneficiaries
	doses   DoseHistory
	catalog *vaccine.Catalog
	now     func() time.Time
	audit   audit.Store
	// bookings batches concurrent bookings of one session into one
	// transaction (see queue.go).
	bookings *bookingQueues
	full     fullSessions
}

// NewService builds the service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Beneficiaries == nil || cfg.Doses == nil {
		return nil, errors.New("booking: Store, Beneficiaries and Doses are required")
	}
	s := &Service{store: cfg.Store, benes: cfg.Beneficiaries, doses: cfg.Doses, catalog: cfg.Catalog, now: cfg.Now, audit: cfg.Audit,
		bookings: newBookingQueues(cfg.Store.Book)}
	if s.catalog == nil {
		s.catalog = vaccine.Default
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Catalog is the vaccine catalog in use.
func (s *Service) Catalog() *vaccine.Catalog { return s.catalog }

// Today is the current day in India.
func (s *Service) Today() time.Time { return Today(s.now()) }

// States lists the states and union territories.
func (s *Service) States(ctx context.Context) ([]State, error) { return s.store.States(ctx) }

// Districts lists a state's districts.
func (s *Service) Districts(ctx context.Context, stateID int) ([]District, error) {
	return s.store.Districts(ctx, stateID)
}

// Centre returns one centre.
func (s *Service) Centre(ctx context.Context, id string) (Centre, error) {
	if !centreIDPattern.MatchString(id) {
		return Centre{}, ErrCentreNotFound
	}
	return s.store.Centre(ctx, id)
}

// Session returns one session with its centre.
func (s *Service) Session(ctx context.Context, id string) (SessionAt, error) {
	if !uuidPattern.MatchString(id) {
		return SessionAt{}, ErrSessionNotFound
	}
	return s.store.Session(ctx, id)
}

// MaxSearchDays bounds one search.
const MaxSearchDays = 7

// Search finds sessions by pincode, district or centre from day for days
// days (1 to 7).
func (s *Service) Search(ctx context.Context, q SessionQuery) ([]SessionAt, error) {
	n := 0
	if q.Pincode != "" {
		n++
		if !pincodePattern.MatchString(q.Pincode) {
			return nil, problem.Invalidf("pincode-invalid", "A pincode has six digits and does not start with 0.")
		}
	}
	if q.DistrictID != 0 {
		n++
	}
	if q.CentreID != "" {
		n++
		if !centreIDPattern.MatchString(q.CentreID) {
			return nil, problem.Invalidf("centre-invalid", "A centre ID is a number.")
		}
	}
	if n != 1 {
		return nil, problem.Invalidf("search-invalid", "Search by exactly one of pincode, district_id or center_id.")
	}
	if q.From.IsZero() {
		return nil, problem.Invalidf("date-missing", "Give the date to search from.")
	}
	if q.To.Before(q.From) || q.To.Sub(q.From) >= MaxSearchDays*24*time.Hour {
		return nil, problem.Invalidf("date-range-invalid", "Search at most %d days at once.", MaxSearchDays)
	}
	return s.store.FindSessions(ctx, q)
}

var (
	centreIDPattern = regexp.MustCompile(`^[1-9][0-9]{0,11}$`)
	pincodePattern  = regexp.MustCompile(`^[1-9][0-9]{5}$`)
	uuidPattern     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	clockPattern    = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// ValidPincode reports whether s is a six-digit Indian pincode.
func ValidPincode(s string) bool { return pincodePattern.MatchString(s) }

// ValidateCentre checks a centre before it is stored and normalises it.
func ValidateCentre(c Centre) (Centre, error) {
	c.ID = strings.TrimSpace(c.ID)
	c.Name = strings.Join(strings.Fields(c.Name), " ")
	c.Address = strings.Join(strings.Fields(c.Address), " ")
	c.Block = strings.Join(strings.Fields(c.Block), " ")
	c.Pincode = strings.TrimSpace(c.Pincode)
	switch {
	case !centreIDPattern.MatchString(c.ID):
		return c, problem.Invalidf("centre-invalid", "Centre ID %q: use a number of up to 12 digits (Co-WIN clients read center_id as a number).", c.ID)
	case c.Name == "" || len(c.Name) > 200:
		return c, problem.Invalidf("centre-invalid", "Centre %s: the name is required (at most 200 characters).", c.ID)
	case len(c.Address) > 400 || len(c.Block) > 100:
		return c, problem.Invalidf("centre-invalid", "Centre %s: the address or block name is too long.", c.ID)
	case !pincodePattern.MatchString(c.Pincode):
		return c, problem.Invalidf("centre-invalid", "Centre %s: the pincode must have six digits.", c.ID)
	case c.DistrictID <= 0:
		return c, problem.Invalidf("centre-invalid", "Centre %s: the district ID is required.", c.ID)
	case c.Lat != 0 && (c.Lat < 6 || c.Lat > 38 || math.IsNaN(c.Lat)),
		c.Long != 0 && (c.Long < 68 || c.Long > 98 || math.IsNaN(c.Long)):
		return c, problem.Invalidf("centre-invalid", "Centre %s: latitude and longitude must lie in India.", c.ID)
	}
	switch strings.ToLower(c.FeeType) {
	case "", "free":
		c.FeeType = Free
	case "paid":
		c.FeeType = Paid
	default:
		return c, problem.Invalidf("centre-invalid", "Centre %s: the fee type is Free or Paid.", c.ID)
	}
	if c.From == "" {
		c.From = "09:00"
	}
	if c.To == "" {
		c.To = "17:00"
	}
	if !clockPattern.MatchString(c.From) || !clockPattern.MatchString(c.To) || c.From >= c.To {
		return c, problem.Invalidf("centre-invalid", "Centre %s: opening hours are HH:MM, from before to.", c.ID)
	}
	return c, nil
}

// PutCentre creates or updates a centre; actor is recorded in the audit log
// ("user:<account>", "cli:<os user>").
func (s *Service) PutCentre(ctx context.Context, actor string, c Centre) (Centre, error) {
	c, err := ValidateCentre(c)
	if err != nil {
		return Centre{}, err
	}
	if err := s.store.PutCentre(ctx, c); err != nil {
		return Centre{}, err
	}
	if err := s.record(ctx, actor, "centre.put", c.ID, c.Name); err != nil {
		return Centre{}, err
	}
	return s.store.Centre(ctx, c.ID)
}

// record appends to the audit log, if one is configured.
func (s *Service) record(ctx context.Context, actor, action, subject, detail string) error {
	if s.audit == nil {
		return nil
	}
	_, err := s.audit.AppendAudit(ctx, audit.Entry{At: s.now(), Actor: actor, Action: action, Subject: subject, Detail: detail})
	return err
}

// Default slots when a session names none.
var DefaultSlots = []string{"09:00AM-11:00AM", "11:00AM-01:00PM", "01:00PM-03:00PM", "03:00PM-05:00PM"}

// NewSession is a session to plan.
type NewSession struct {
	CentreID string   `json:"center_id"`
	Date     string   `json:"date"` // YYYY-MM-DD
	Vaccine  string   `json:"vaccine"`
	MinAge   int      `json:"min_age_limit"`
	MaxAge   int      `json:"max_age_limit"`
	Fee      int      `json:"fee"`
	Slots    []string `json:"slots"`
	Capacity Capacity `json:"capacity"`
}

// ValidateSession checks a planned session against the catalog and today.
func (s *Service) ValidateSession(in NewSession) (Session, error) {
	day, err := time.Parse(time.DateOnly, in.Date)
	if err != nil {
		return Session{}, problem.Invalidf("date-invalid", "The session date must be written YYYY-MM-DD.")
	}
	if day.Before(s.Today()) {
		return Session{}, problem.Invalidf("date-past", "The session date %s is in the past.", in.Date)
	}
	v, ok := s.catalog.Lookup(strings.ToUpper(strings.TrimSpace(in.Vaccine)))
	if !ok {
		return Session{}, problem.Invalidf("vaccine-unknown", "Unknown vaccine %q; the catalog has %s.", in.Vaccine, strings.Join(s.catalog.Codes(), ", "))
	}
	c := in.Capacity
	switch {
	case !centreIDPattern.MatchString(in.CentreID):
		return Session{}, problem.Invalidf("centre-invalid", "A centre ID is a number.")
	case in.MinAge < 0 || in.MinAge > 120 || in.MaxAge < 0 || in.MaxAge > 120 || (in.MaxAge != 0 && in.MaxAge < in.MinAge):
		return Session{}, problem.Invalidf("age-limits-invalid", "Age limits must lie between 0 and 120, the minimum not above the maximum.")
	case c.Dose1 < 0 || c.Dose2 < 0 || c.Precaution < 0 || c.Total() == 0 || c.Total() > 100000:
		return Session{}, problem.Invalidf("capacity-invalid", "Capacities must not be negative, and at least one must be positive.")
	case in.Fee < 0 || in.Fee > 100000:
		return Session{}, problem.Invalidf("fee-invalid", "The fee must be between 0 and 100000 rupees.")
	}
	slots := in.Slots
	if len(slots) == 0 {
		slots = DefaultSlots
	}
	seen := map[string]bool{}
	for _, sl := range slots {
		if sl == "" || len(sl) > 40 || seen[sl] {
			return Session{}, problem.Invalidf("slots-invalid", "Slot names must be distinct, non-empty and short.")
		}
		seen[sl] = true
	}
	return Session{ID: NewID(), CentreID: in.CentreID, Date: day, Vaccine: v.Code, MinAge: max(in.MinAge, 0),
		MaxAge: in.MaxAge, Fee: in.Fee, Slots: slots, Capacity: c, Available: c}, nil
}

// AddSession plans a session.
func (s *Service) AddSession(ctx context.Context, actor string, in NewSession) (SessionAt, error) {
	sess, err := s.ValidateSession(in)
	if err != nil {
		return SessionAt{}, err
	}
	if err := s.store.AddSession(ctx, sess); err != nil {
		return SessionAt{}, err
	}
	detail := fmt.Sprintf("centre %s, %s, %s, capacity %d/%d/%d", sess.CentreID, sess.Date.Format(time.DateOnly), sess.Vaccine,
		sess.Capacity.Dose1, sess.Capacity.Dose2, sess.Capacity.Precaution)
	if err := s.record(ctx, actor, "session.added", sess.ID, detail); err != nil {
		return SessionAt{}, err
	}
	return s.store.Session(ctx, sess.ID)
}

// Schedule books a session for one of the caller's beneficiaries.
func (s *Service) Schedule(ctx context.Context, p registration.Principal, refID, sessionID, slot string) (_ AppointmentDetail, err error) {
	defer func() { countBooking(err) }()
	// The session first: whether it is open is public, and a full one is
	// answered without a query (the beneficiary is not read at all then).
	sess, err := s.openSession(ctx, sessionID, slot)
	if err != nil {
		return AppointmentDetail{}, err
	}
	b, err := s.ownBeneficiary(ctx, p, refID)
	if err != nil {
		return AppointmentDetail{}, err
	}
	elig, err := s.eligibility(ctx, b, sess)
	if err != nil {
		return AppointmentDetail{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	a := Appointment{ID: NewID(), BeneficiaryRef: b.RefID, SessionID: sess.ID, DoseNumber: elig.Dose,
		Bucket: elig.Bucket, Slot: slot, Status: StatusBooked, CreatedAt: now, UpdatedAt: now}
	if err := s.bookings.Book(ctx, a); err != nil {
		return AppointmentDetail{}, err
	}
	return s.store.Appointment(ctx, a.ID)
}

// Reschedule moves one of the caller's open appointments to another session
// or slot.
func (s *Service) Reschedule(ctx context.Context, p registration.Principal, appointmentID, sessionID, slot string) (AppointmentDetail, error) {
	a, err := s.Appointment(ctx, p, appointmentID)
	if err != nil {
		return AppointmentDetail{}, err
	}
	if a.Status != StatusBooked {
		return AppointmentDetail{}, ErrNotBooked
	}
	b, err := s.ownBeneficiary(ctx, p, a.BeneficiaryRef)
	if err != nil {
		return AppointmentDetail{}, err
	}
	sess, err := s.openSession(ctx, sessionID, slot)
	if err != nil {
		return AppointmentDetail{}, err
	}
	elig, err := s.eligibility(ctx, b, sess)
	if err != nil {
		return AppointmentDetail{}, err
	}
	if elig.Bucket != a.Bucket || elig.Dose != a.DoseNumber {
		return AppointmentDetail{}, problem.New(problem.Conflict, "appointment-stale", "The dose history changed since this appointment was booked; cancel it and book again.")
	}
	if err := s.store.MoveAppointment(ctx, a.ID, sess.ID, slot, s.now().UTC()); err != nil {
		return AppointmentDetail{}, err
	}
	s.full.forget(a.SessionID)
	return s.store.Appointment(ctx, a.ID)
}

// Cancel closes one of the caller's open appointments before its day and
// gives the place back.
func (s *Service) Cancel(ctx context.Context, p registration.Principal, appointmentID string) error {
	a, err := s.Appointment(ctx, p, appointmentID)
	if err != nil {
		return err
	}
	if a.Status != StatusBooked {
		return ErrNotBooked
	}
	if a.Date.Before(s.Today()) {
		return problem.New(problem.Conflict, "appointment-past", "This appointment's day has passed; it cannot be cancelled.")
	}
	if err := s.store.CancelAppointment(ctx, a.ID, s.now().UTC()); err != nil {
		return err
	}
	s.full.forget(a.SessionID)
	metrics.Bookings.WithLabelValues("cancelled").Inc()
	return nil
}

func isSlug(err error, slug string) bool {
	p, ok := problem.As(err)
	return ok && p.Slug == slug
}

// countBooking counts a booking attempt's outcome; failures of our own
// (the database down) are not outcomes of the attempt and are not counted.
func countBooking(err error) {
	switch {
	case err == nil:
		metrics.Bookings.WithLabelValues("booked").Inc()
	case isSlug(err, ErrSessionFull.Slug):
		metrics.Bookings.WithLabelValues("full").Inc()
	case problem.Is(err, problem.Invalid), problem.Is(err, problem.Conflict), problem.Is(err, problem.NotFound),
		problem.Is(err, problem.Forbidden):
		metrics.Bookings.WithLabelValues("rejected").Inc()
	}
}

// Appointment returns an appointment the caller may see: a citizen their
// own beneficiaries', a vaccinator those at their centres, an admin any.
func (s *Service) Appointment(ctx context.Context, p registration.Principal, id string) (AppointmentDetail, error) {
	if !uuidPattern.MatchString(id) {
		return AppointmentDetail{}, ErrAppointmentNotFound
	}
	a, err := s.store.Appointment(ctx, id)
	if err != nil {
		return AppointmentDetail{}, err
	}
	switch p.Role {
	case registration.Admin:
		return a, nil
	case registration.Vaccinator:
		if p.AtCentre(a.Centre.ID) {
			return a, nil
		}
	}
	b, err := s.benes.Beneficiary(ctx, a.BeneficiaryRef)
	if err != nil || b.AccountID != p.AccountID {
		return AppointmentDetail{}, ErrAppointmentNotFound
	}
	return a, nil
}

// Appointments lists the caller's appointments.
func (s *Service) Appointments(ctx context.Context, p registration.Principal) ([]AppointmentDetail, error) {
	return s.store.AppointmentsOf(ctx, p.AccountID)
}

// CentreAppointments lists a day's appointments at a centre, for its
// vaccinators and for admins.
func (s *Service) CentreAppointments(ctx context.Context, p registration.Principal, centreID string, day time.Time) ([]AppointmentDetail, error) {
	if p.Role != registration.Admin && !(p.Role == registration.Vaccinator && p.AtCentre(centreID)) {
		return nil, problem.New(problem.Forbidden, "centre-forbidden", "You do not work at centre %s.", centreID)
	}
	return s.store.CentreAppointments(ctx, centreID, day)
}

// ownBeneficiary loads refID if the caller owns it; anything else looks like
// a reference that does not exist.
func (s *Service) ownBeneficiary(ctx context.Context, p registration.Principal, refID string) (registration.Beneficiary, error) {
	if !registration.ValidRefID(refID) {
		return registration.Beneficiary{}, registration.ErrBeneficiaryNotFound
	}
	b, err := s.benes.Beneficiary(ctx, refID)
	if err != nil {
		return registration.Beneficiary{}, err
	}
	if b.AccountID != p.AccountID {
		return registration.Beneficiary{}, registration.ErrBeneficiaryNotFound
	}
	return b, nil
}

// openSession loads the session and checks its day, the slot and that it
// has a place left in some bucket. A session seen full a moment ago is
// answered from memory: in a rush, the thousands who lose cost no query.
func (s *Service) openSession(ctx context.Context, sessionID, slot string) (SessionAt, error) {
	// Real time, not s.now: the memory is about elapsed time.
	sess, remembered := s.full.get(sessionID, time.Now())
	if !remembered {
		var err error
		if sess, err = s.Session(ctx, sessionID); err != nil {
			return SessionAt{}, err
		}
	}
	if sess.Date.Before(s.Today()) {
		return SessionAt{}, problem.Invalidf("session-past", "This session was on %s, which has passed.", sess.Date.Format("2 January 2006"))
	}
	if !slices.Contains(sess.Slots, slot) {
		return SessionAt{}, problem.Invalidf("slot-invalid", "Choose one of the session's slots: %s.", strings.Join(sess.Slots, ", "))
	}
	if sess.Available.Total() == 0 {
		if !remembered {
			s.full.put(sess, time.Now())
		}
		return SessionAt{}, ErrSessionFull
	}
	return sess, nil
}

// eligibility checks the beneficiary's dose history against the session.
func (s *Service) eligibility(ctx context.Context, b registration.Beneficiary, sess SessionAt) (Eligibility, error) {
	history, err := s.doses.DoseHistory(ctx, b.RefID)
	if err != nil {
		return Eligibility{}, err
	}
	elig, err := CheckEligibility(s.catalog, b.BirthDate, history, sess.Session)
	if err != nil {
		return Eligibility{}, err
	}
	if sess.Available.Of(elig.Bucket) <= 0 {
		return Eligibility{}, ErrSessionFull // a fast answer; Book checks again atomically
	}
	return elig, nil
}

// NewID is a random (version 4) UUID, the form of session and appointment IDs.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CentreNumber is the centre ID as the number Co-WIN clients expect.
func CentreNumber(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// DoseHistory is a beneficiary's doses, ordered by number.
func (s *Service) DoseHistory(ctx context.Context, refID string) ([]vaccine.Dose, error) {
	return s.doses.DoseHistory(ctx, refID)
}
