package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/registration"
)

// listBeneficiaries: GET /api/v1/beneficiaries → {"beneficiaries":[…]},
// each with its doses, status and open appointment.
func (c *citizenAPI) listBeneficiaries(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	bs, err := c.reg.Beneficiaries(r.Context(), p)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	appts, err := c.book.Appointments(r.Context(), p)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	out := []beneficiaryView{}
	for _, b := range bs {
		v, err := c.viewBeneficiary(r.Context(), b, appts)
		if err != nil {
			c.s.writeError(w, r, err)
			return
		}
		out = append(out, v)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"beneficiaries": out, "max_beneficiaries": c.reg.Limits().MaxBeneficiaries})
}

func (c *citizenAPI) getBeneficiary(w http.ResponseWriter, r *http.Request) {
	c.beneficiaryResponse(w, r, http.StatusOK, chi.URLParam(r, "ref"))
}

func (c *citizenAPI) beneficiaryResponse(w http.ResponseWriter, r *http.Request, status int, ref string) {
	p := principal(r.Context())
	b, err := c.reg.Beneficiary(r.Context(), p, ref)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	var appts []booking.AppointmentDetail
	if b.AccountID == p.AccountID {
		if appts, err = c.book.Appointments(r.Context(), p); err != nil {
			c.s.writeError(w, r, err)
			return
		}
	}
	v, err := c.viewBeneficiary(r.Context(), b, appts)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, v)
}

// addBeneficiary: POST /api/v1/beneficiaries → 201 with the beneficiary.
func (c *citizenAPI) addBeneficiary(w http.ResponseWriter, r *http.Request) {
	var in registration.BeneficiaryInput
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	b, err := c.reg.AddBeneficiary(r.Context(), principal(r.Context()), in)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/beneficiaries/"+b.RefID)
	c.beneficiaryResponse(w, r, http.StatusCreated, b.RefID)
}

// updateBeneficiary: PUT /api/v1/beneficiaries/{ref}, before the first dose.
func (c *citizenAPI) updateBeneficiary(w http.ResponseWriter, r *http.Request) {
	var in registration.BeneficiaryInput
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	b, err := c.reg.UpdateBeneficiary(r.Context(), principal(r.Context()), chi.URLParam(r, "ref"), in)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	c.beneficiaryResponse(w, r, http.StatusOK, b.RefID)
}

// deleteBeneficiary: DELETE /api/v1/beneficiaries/{ref}, only without doses.
func (c *citizenAPI) deleteBeneficiary(w http.ResponseWriter, r *http.Request) {
	if err := c.reg.DeleteBeneficiary(r.Context(), principal(r.Context()), chi.URLParam(r, "ref")); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
