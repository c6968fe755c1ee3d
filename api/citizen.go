package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/vaccine"
)

// citizenAPI serves registration, places, search, booking and the Co-WIN
// compatible endpoints (issue 3).
type citizenAPI struct {
	s        *Server
	reg      *registration.Service
	book     *booking.Service
	ipHeader string
	search   *limiter                        // public reads, per IP
	answers  func(http.Handler) http.Handler // the public reads' answer cache
	writes   *limiter                        // OTP requests per IP, bookings and changes per account
	now      func() time.Time
}

// mountCitizen adds the citizen routes when registration and booking are
// configured.
func (s *Server) mountCitizen(r chi.Router, cfg Config) {
	if cfg.Registration == nil || cfg.Booking == nil {
		return
	}
	lim := cfg.RateLimits.withDefaults()
	c := &citizenAPI{s: s, reg: cfg.Registration, book: cfg.Booking, ipHeader: cfg.ClientIPHeader, now: time.Now}
	c.search = newLimiter("searches", lim.SearchPerMinute, lim.SearchBurst, c.now)
	c.writes = newLimiter("bookings and OTPs", lim.BookingPerMinute, lim.BookingBurst, c.now)
	c.answers = func(next http.Handler) http.Handler { return next }
	if cfg.SearchCacheTTL > 0 {
		c.answers = newAnswerCache(cfg.SearchCacheTTL, c.now).middleware
	}

	byIP := func(r *http.Request) string { return "ip:" + clientIP(r, c.ipHeader) }
	byAccount := func(r *http.Request) string { return "acct:" + principal(r.Context()).AccountID }

	r.Group(func(r chi.Router) {
		r.Use(c.withClient)

		// Public reads: places and session search, per-IP rate limited.
		r.Group(func(r chi.Router) {
			r.Use(c.search.middleware(byIP, s.writeError), c.answers)
			r.Get("/api/v1/states", c.states)
			r.Get("/api/v1/states/{state_id}/districts", c.districts)
			r.Get("/api/v1/centres/{centre_id}", c.centre)
			r.Get("/api/v1/sessions", c.findSessions)
			r.Get("/api/v1/sessions/calendar", c.calendar)
			r.Get("/api/v1/sessions/{session_id}", c.session)
		})
		// OTP login, per-IP rate limited here and capped per mobile and per
		// IP per hour in registration.
		r.Group(func(r chi.Router) {
			r.Use(c.writes.middleware(byIP, s.writeError))
			r.Post("/api/v1/auth/otp", c.startOTP)
			r.Post("/api/v1/auth/otp/confirm", c.confirmOTP)
		})

		// A citizen's own beneficiaries and appointments.
		r.Group(func(r chi.Router) {
			r.Use(s.require(registration.Citizen))
			r.Get("/api/v1/beneficiaries", c.listBeneficiaries)
			r.Get("/api/v1/beneficiaries/{ref}", c.getBeneficiary)
			r.Get("/api/v1/appointments", c.listAppointments)
			r.Group(func(r chi.Router) {
				r.Use(c.writes.middleware(byAccount, s.writeError))
				r.Post("/api/v1/beneficiaries", c.addBeneficiary)
				r.Put("/api/v1/beneficiaries/{ref}", c.updateBeneficiary)
				r.Delete("/api/v1/beneficiaries/{ref}", c.deleteBeneficiary)
				r.Post("/api/v1/appointments", c.schedule)
				r.Post("/api/v1/appointments/{id}/reschedule", c.reschedule)
				r.Post("/api/v1/appointments/{id}/cancel", c.cancel)
			})
		})
		// An appointment and its slip: the owner, the centre's vaccinators, admins.
		r.Group(func(r chi.Router) {
			r.Use(s.require(registration.Citizen, registration.Vaccinator, registration.Admin))
			r.Get("/api/v1/appointments/{id}", c.getAppointment)
			r.Get("/api/v1/appointments/{id}/slip", c.slip)
		})
		// The day's list at a centre.
		r.Group(func(r chi.Router) {
			r.Use(s.require(registration.Vaccinator, registration.Admin))
			r.Get("/api/v1/centres/{centre_id}/appointments", c.centreAppointments)
		})
		// Administration of places and sessions.
		r.Group(func(r chi.Router) {
			r.Use(s.require(registration.Admin))
			r.Put("/api/v1/admin/centres/{centre_id}", c.putCentre)
			r.Post("/api/v1/admin/centres/import", c.importCentres)
			r.Post("/api/v1/admin/sessions", c.addSession)
		})

		c.mountCoWIN(r, byIP)
	})
}

// withClient records the client IP for the OTP caps.
func (c *citizenAPI) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(registration.WithClientIP(r.Context(), clientIP(r, c.ipHeader))))
	})
}

// Views: the JSON the v1 API speaks. Dates are YYYY-MM-DD.

type beneficiaryView struct {
	RefID        string            `json:"beneficiary_reference_id"`
	Name         string            `json:"name"`
	Gender       string            `json:"gender"`
	BirthDate    string            `json:"birth_date"`
	IDType       string            `json:"photo_id_type"`
	IDMasked     string            `json:"photo_id_number"`
	Status       string            `json:"vaccination_status"`
	Doses        []doseView        `json:"doses"`
	Appointments []appointmentView `json:"appointments"`
	CreatedAt    time.Time         `json:"created_at"`
}

type doseView struct {
	Dose    int    `json:"dose"`
	Vaccine string `json:"vaccine"`
	Date    string `json:"date"`
}

type appointmentView struct {
	ID              string         `json:"appointment_id"`
	BeneficiaryRef  string         `json:"beneficiary_reference_id"`
	BeneficiaryName string         `json:"beneficiary_name"`
	SessionID       string         `json:"session_id"`
	Dose            int            `json:"dose"`
	Date            string         `json:"date"`
	Slot            string         `json:"slot"`
	Vaccine         string         `json:"vaccine"`
	Status          string         `json:"status"`
	Centre          booking.Centre `json:"center"`
	SlipURL         string         `json:"slip_url"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
}

type sessionView struct {
	ID                string           `json:"session_id"`
	CentreID          string           `json:"center_id"`
	Date              string           `json:"date"`
	Vaccine           string           `json:"vaccine"`
	MinAge            int              `json:"min_age_limit"`
	MaxAge            *int             `json:"max_age_limit,omitempty"`
	Fee               int              `json:"fee"`
	Slots             []string         `json:"slots"`
	Capacity          booking.Capacity `json:"capacity"`
	Available         booking.Capacity `json:"available"`
	AvailableCapacity int              `json:"available_capacity"`
	Centre            *booking.Centre  `json:"center,omitempty"`
}

func viewSession(s booking.Session) sessionView {
	v := sessionView{ID: s.ID, CentreID: s.CentreID, Date: s.Date.Format(time.DateOnly), Vaccine: s.Vaccine,
		MinAge: s.MinAge, Fee: s.Fee, Slots: s.Slots, Capacity: s.Capacity, Available: s.Available,
		AvailableCapacity: s.Available.Total()}
	if s.MaxAge > 0 {
		v.MaxAge = &s.MaxAge
	}
	return v
}

func viewAppointment(a booking.AppointmentDetail) appointmentView {
	return appointmentView{ID: a.ID, BeneficiaryRef: a.BeneficiaryRef, BeneficiaryName: a.BeneficiaryName,
		SessionID: a.SessionID, Dose: a.DoseNumber, Date: a.Date.Format(time.DateOnly), Slot: a.Slot,
		Vaccine: a.Vaccine, Status: a.Status, Centre: a.Centre, SlipURL: "/api/v1/appointments/" + a.ID + "/slip",
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// statusLabel is Co-WIN's vaccination_status wording.
func statusLabel(st vaccine.Status) string {
	switch st {
	case vaccine.Provisional:
		return "Partially Vaccinated"
	case vaccine.Final:
		return "Vaccinated"
	case vaccine.Precaution:
		return "Vaccinated (precaution dose)"
	}
	return "Not Vaccinated"
}

func (c *citizenAPI) viewBeneficiary(ctx context.Context, b registration.Beneficiary, appts []booking.AppointmentDetail) (beneficiaryView, error) {
	v := beneficiaryView{RefID: b.RefID, Name: b.Name, Gender: b.Gender, BirthDate: b.BirthDate.Format(time.DateOnly),
		IDType: string(b.IDType), IDMasked: b.IDMasked, CreatedAt: b.CreatedAt, Doses: []doseView{}, Appointments: []appointmentView{}}
	history, err := c.book.DoseHistory(ctx, b.RefID)
	if err != nil {
		return v, err
	}
	for _, d := range history {
		v.Doses = append(v.Doses, doseView{Dose: d.Number, Vaccine: d.Vaccine, Date: d.Date.Format(time.DateOnly)})
	}
	v.Status = statusLabel(c.book.Catalog().CourseStatus(history))
	for _, a := range appts {
		if a.BeneficiaryRef == b.RefID && a.Status == booking.StatusBooked {
			v.Appointments = append(v.Appointments, viewAppointment(a))
		}
	}
	return v, nil
}

// badParam is an Invalid problem about a query or path parameter.
func badParam(slug, format string, args ...any) error {
	return problem.Invalidf(slug, format, args...)
}
