package booking

import (
	"context"
	"time"

	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/vaccine"
)

// Store is what booking needs persisted.
type Store interface {
	// PutState and PutDistrict create or rename.
	PutState(ctx context.Context, s State) error
	PutDistrict(ctx context.Context, d District) error // ErrStateNotFound
	States(ctx context.Context) ([]State, error)
	// Districts of a state, by name; ErrStateNotFound if it does not exist.
	Districts(ctx context.Context, stateID int) ([]District, error)
	// PutCentre creates or updates a centre; ErrDistrictNotFound.
	PutCentre(ctx context.Context, c Centre) error
	Centre(ctx context.Context, id string) (Centre, error) // ErrCentreNotFound
	// AddSession creates a session with Available = Capacity; ErrCentreNotFound.
	AddSession(ctx context.Context, s Session) error
	Session(ctx context.Context, id string) (SessionAt, error) // ErrSessionNotFound
	// FindSessions lists the sessions matching q, by centre then date.
	FindSessions(ctx context.Context, q SessionQuery) ([]SessionAt, error)
	// Import writes places and sessions in one transaction (the demo data
	// set and CSV imports). Sessions whose ID exists are left alone.
	Import(ctx context.Context, states []State, districts []District, centres []Centre, sessions []Session) error
	// HasPlaces reports whether any state exists (serve --demo loads only
	// into an empty store).
	HasPlaces(ctx context.Context) (bool, error)

	// Book books a batch of appointments, all in one session and bucket,
	// first come first served, taking a place of the bucket for each and
	// committing once. outcomes[i] is a[i]'s: nil (booked), ErrSessionFull
	// when no place is left for it, ErrAlreadyBooked when the beneficiary
	// has an open appointment (then it takes no place), ErrSessionNotFound.
	// err fails the whole batch, and nothing of it is written.
	Book(ctx context.Context, batch []Appointment) (outcomes []error, err error)
	// MoveAppointment moves an open appointment to another session (or slot),
	// taking a place there and giving the old one back, in one transaction:
	// ErrNotBooked, ErrSessionFull, ErrSessionNotFound, ErrAppointmentNotFound.
	MoveAppointment(ctx context.Context, id, sessionID, slot string, now time.Time) error
	// CancelAppointment closes an open appointment and gives its place back:
	// ErrNotBooked, ErrAppointmentNotFound.
	CancelAppointment(ctx context.Context, id string, now time.Time) error
	// Appointment with its session and centre; ErrAppointmentNotFound.
	Appointment(ctx context.Context, id string) (AppointmentDetail, error)
	// AppointmentsOf lists the appointments of an account's beneficiaries,
	// newest first.
	AppointmentsOf(ctx context.Context, accountID string) ([]AppointmentDetail, error)
	// CentreAppointments lists the open and completed appointments at a
	// centre on a day, for the vaccinators there.
	CentreAppointments(ctx context.Context, centreID string, day time.Time) ([]AppointmentDetail, error)
}

// SessionQuery selects sessions: by pincode, district or centre (exactly
// one), on the days [From, To], optionally of one vaccine.
type SessionQuery struct {
	Pincode    string
	DistrictID int
	CentreID   string
	From, To   time.Time // days at 00:00 UTC, inclusive
	Vaccine    string
}

// Beneficiaries finds the beneficiary an appointment is for; the
// registration store implements it.
type Beneficiaries interface {
	Beneficiary(ctx context.Context, refID string) (registration.Beneficiary, error)
}

// DoseHistory is the doses already given to a beneficiary, ordered by
// number. The store implements it over the issuer's doses table.
type DoseHistory interface {
	DoseHistory(ctx context.Context, refID string) ([]vaccine.Dose, error)
}
