package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/internal/problem"
)

type scheduleRequest struct {
	BeneficiaryRef string `json:"beneficiary_reference_id"`
	SessionID      string `json:"session_id"`
	Slot           string `json:"slot"`
}

type rescheduleRequest struct {
	SessionID string `json:"session_id"`
	Slot      string `json:"slot"`
}

func (c *citizenAPI) listAppointments(w http.ResponseWriter, r *http.Request) {
	as, err := c.book.Appointments(r.Context(), principal(r.Context()))
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	out := make([]appointmentView, 0, len(as))
	for _, a := range as {
		out = append(out, viewAppointment(a))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"appointments": out})
}

// schedule: POST /api/v1/appointments → 201 with the appointment.
func (c *citizenAPI) schedule(w http.ResponseWriter, r *http.Request) {
	var in scheduleRequest
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	if in.BeneficiaryRef == "" || in.SessionID == "" {
		c.s.writeError(w, r, problem.Invalidf("booking-invalid", "Send beneficiary_reference_id, session_id and slot."))
		return
	}
	a, err := c.book.Schedule(r.Context(), principal(r.Context()), in.BeneficiaryRef, in.SessionID, in.Slot)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/appointments/"+a.ID)
	writeJSON(w, http.StatusCreated, viewAppointment(a))
}

func (c *citizenAPI) reschedule(w http.ResponseWriter, r *http.Request) {
	var in rescheduleRequest
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	a, err := c.book.Reschedule(r.Context(), principal(r.Context()), chi.URLParam(r, "id"), in.SessionID, in.Slot)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAppointment(a))
}

func (c *citizenAPI) cancel(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	id := chi.URLParam(r, "id")
	if err := c.book.Cancel(r.Context(), p, id); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	a, err := c.book.Appointment(r.Context(), p, id)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAppointment(a))
}

func (c *citizenAPI) getAppointment(w http.ResponseWriter, r *http.Request) {
	a, err := c.book.Appointment(r.Context(), principal(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, viewAppointment(a))
}

// slip: GET /api/v1/appointments/{id}/slip → the appointment slip as a PDF.
func (c *citizenAPI) slip(w http.ResponseWriter, r *http.Request) {
	a, err := c.book.Appointment(r.Context(), principal(r.Context()), chi.URLParam(r, "id"))
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	pdf, err := booking.Slip(a)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="appointment-`+a.ID[:8]+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pdf)
}

// centreAppointments: GET /api/v1/centres/{centre_id}/appointments?date=…
func (c *citizenAPI) centreAppointments(w http.ResponseWriter, r *http.Request) {
	day := c.book.Today()
	if d := r.URL.Query().Get("date"); d != "" {
		var err error
		if day, err = time.Parse(time.DateOnly, d); err != nil {
			c.s.writeError(w, r, badParam("date-invalid", "date must be written YYYY-MM-DD."))
			return
		}
	}
	as, err := c.book.CentreAppointments(r.Context(), principal(r.Context()), chi.URLParam(r, "centre_id"), day)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	out := make([]appointmentView, 0, len(as))
	for _, a := range as {
		out = append(out, viewAppointment(a))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"date": day.Format(time.DateOnly), "appointments": out})
}
