// Package booking owns places (states, districts, centres), vaccination
// sessions and appointments: search, eligibility against the vaccine
// catalog, and scheduling that never overbooks (capacity is taken by one
// conditional UPDATE in the database, never read-then-written in Go).
package booking

import (
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// IST is India Standard Time; session dates are days in India, and "today"
// is today there. India has no daylight saving, so a fixed zone is exact.
var IST = time.FixedZone("IST", 5*3600+1800)

// State is a state or union territory.
type State struct {
	ID   int    `json:"state_id"`
	Name string `json:"state_name"`
}

// District belongs to a state.
type District struct {
	ID      int    `json:"district_id"`
	StateID int    `json:"state_id"`
	Name    string `json:"district_name"`
}

// Fee types, spelled as Co-WIN does.
const (
	Free = "Free"
	Paid = "Paid"
)

// Centre is a vaccination centre. ID is a decimal number (as Co-WIN's
// center_id) kept as a string; District and State are names, filled in when
// read.
type Centre struct {
	ID         string  `json:"center_id"`
	Name       string  `json:"name"`
	Address    string  `json:"address"`
	Block      string  `json:"block_name"`
	Pincode    string  `json:"pincode"`
	DistrictID int     `json:"district_id"`
	District   string  `json:"district_name"`
	StateID    int     `json:"state_id"`
	State      string  `json:"state_name"`
	Lat        float64 `json:"lat"`
	Long       float64 `json:"long"`
	FeeType    string  `json:"fee_type"` // Free or Paid
	From       string  `json:"from"`     // opening time "09:00"
	To         string  `json:"to"`       // closing time "17:00"
}

// Capacity counts doses by kind: a session sets aside places for first
// doses, later primary doses and precaution doses separately.
type Capacity struct {
	Dose1      int `json:"dose1"`
	Dose2      int `json:"dose2"`
	Precaution int `json:"precaution"`
}

// Total is the sum over kinds.
func (c Capacity) Total() int { return c.Dose1 + c.Dose2 + c.Precaution }

// Bucket names which capacity a dose takes.
type Bucket string

const (
	BucketDose1      Bucket = "dose1"
	BucketDose2      Bucket = "dose2" // every primary dose after the first
	BucketPrecaution Bucket = "precaution"
)

// Of returns the count in bucket b.
func (c Capacity) Of(b Bucket) int {
	switch b {
	case BucketDose1:
		return c.Dose1
	case BucketDose2:
		return c.Dose2
	case BucketPrecaution:
		return c.Precaution
	}
	return 0
}

// Session is a day of vaccination with one vaccine at one centre.
type Session struct {
	ID        string    `json:"session_id"` // a UUID
	CentreID  string    `json:"center_id"`
	Date      time.Time `json:"date"` // the day, at 00:00 UTC
	Vaccine   string    `json:"vaccine"`
	MinAge    int       `json:"min_age_limit"`
	MaxAge    int       `json:"max_age_limit,omitempty"` // 0: no upper limit
	Fee       int       `json:"fee"`                     // rupees; 0 at free centres
	Slots     []string  `json:"slots"`
	Capacity  Capacity  `json:"capacity"`  // as planned
	Available Capacity  `json:"available"` // left to book
}

// SessionAt is a session with its centre, as search returns it.
type SessionAt struct {
	Session
	Centre Centre `json:"center"`
}

// Appointment statuses.
const (
	StatusBooked    = "booked"
	StatusCancelled = "cancelled"
	StatusCompleted = "completed" // set by the issuer when the dose is recorded
)

// Appointment is one beneficiary's place in a session.
type Appointment struct {
	ID             string    `json:"appointment_id"` // a UUID
	BeneficiaryRef string    `json:"beneficiary_reference_id"`
	SessionID      string    `json:"session_id"`
	DoseNumber     int       `json:"dose"`
	Bucket         Bucket    `json:"-"`
	Slot           string    `json:"slot"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// AppointmentDetail is an appointment with what a slip prints.
type AppointmentDetail struct {
	Appointment
	BeneficiaryName string    `json:"beneficiary_name"`
	Date            time.Time `json:"date"`
	Vaccine         string    `json:"vaccine"`
	Centre          Centre    `json:"center"`
}

// Errors the store and the service return.
var (
	ErrSessionNotFound     = problem.New(problem.NotFound, "session-not-found", "No such session.")
	ErrCentreNotFound      = problem.New(problem.NotFound, "centre-not-found", "No such centre.")
	ErrDistrictNotFound    = problem.New(problem.NotFound, "district-not-found", "No such district.")
	ErrAppointmentNotFound = problem.New(problem.NotFound, "appointment-not-found", "No such appointment under this account.")
	ErrSessionFull         = problem.New(problem.Conflict, "session-full", "This session has no place left for this dose; choose another session.")
	ErrAlreadyBooked       = problem.New(problem.Conflict, "appointment-exists", "This beneficiary already has an open appointment; reschedule or cancel it first.")
	ErrNotBooked           = problem.New(problem.Conflict, "appointment-closed", "This appointment is no longer open (it was cancelled or the dose was given).")
)

// ErrStateNotFound: no such state.
var ErrStateNotFound = problem.New(problem.NotFound, "state-not-found", "No such state.")
