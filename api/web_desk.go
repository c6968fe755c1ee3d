package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/vaccine"
)

// deskLookup serves the vaccinator desk's one read: GET
// /web/desk/beneficiaries/{ref} → who the person is (to check against the
// photo ID), the doses on record, the open appointment, and what the next
// dose is by the vaccine catalog. Recording the dose then goes through the
// API (POST /api/v1/vaccinations). The answer composes the domain services;
// every rule in it (who may see a beneficiary, the next dose) is theirs.
type deskLookup struct {
	s    *Server
	reg  *registration.Service
	book *booking.Service
}

type deskView struct {
	Beneficiary struct {
		RefID     string `json:"beneficiary_reference_id"`
		Name      string `json:"name"`
		Gender    string `json:"gender"`
		BirthDate string `json:"birth_date"`
		Age       int    `json:"age"`
		IDType    string `json:"photo_id_type"`
		IDMasked  string `json:"photo_id_number"`
	} `json:"beneficiary"`
	Doses       []doseView       `json:"doses"`
	Status      string           `json:"vaccination_status"`
	Appointment *appointmentView `json:"appointment"` // the open one, or null
	Next        struct {
		Dose     int    `json:"dose"`
		Vaccine  string `json:"vaccine,omitempty"`  // required vaccine (the primary course's), if any
		Earliest string `json:"earliest,omitempty"` // YYYY-MM-DD
	} `json:"next"`
	Today    string       `json:"today"`
	Centres  []deskCentre `json:"centres"`  // where the caller records doses
	Vaccines []deskOption `json:"vaccines"` // the catalog
}

type deskCentre struct {
	ID   string `json:"center_id"`
	Name string `json:"name"`
}

type deskOption struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func (d *deskLookup) beneficiary(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principal(ctx)
	b, err := d.reg.Beneficiary(ctx, p, chi.URLParam(r, "ref"))
	if err != nil {
		d.s.writeError(w, r, err)
		return
	}
	history, err := d.book.DoseHistory(ctx, b.RefID)
	if err != nil {
		d.s.writeError(w, r, err)
		return
	}
	// The open appointment is the owner's: read the owner's list, as
	// the owner would see it.
	appts, err := d.book.Appointments(ctx, registration.Principal{AccountID: b.AccountID, Role: registration.Citizen})
	if err != nil {
		d.s.writeError(w, r, err)
		return
	}
	today := d.book.Today()
	var v deskView
	v.Beneficiary.RefID, v.Beneficiary.Name, v.Beneficiary.Gender = b.RefID, b.Name, b.Gender
	v.Beneficiary.BirthDate = b.BirthDate.Format(time.DateOnly)
	v.Beneficiary.Age = vaccine.AgeOn(b.BirthDate, today)
	v.Beneficiary.IDType, v.Beneficiary.IDMasked = string(b.IDType), b.IDMasked
	v.Doses = []doseView{}
	for _, h := range history {
		v.Doses = append(v.Doses, doseView{Dose: h.Number, Vaccine: h.Vaccine, Date: h.Date.Format(time.DateOnly)})
	}
	catalog := d.book.Catalog()
	v.Status = statusLabel(catalog.CourseStatus(history))
	for _, a := range appts {
		if a.BeneficiaryRef == b.RefID && a.Status == booking.StatusBooked {
			av := viewAppointment(a)
			v.Appointment = &av
			break
		}
	}
	if n, code, earliest, err := catalog.NextDose(history); err == nil {
		v.Next.Dose, v.Next.Vaccine = n, code
		if !earliest.IsZero() {
			v.Next.Earliest = earliest.Format(time.DateOnly)
		}
	}
	v.Today = today.Format(time.DateOnly)
	v.Centres = []deskCentre{}
	for _, id := range p.Centres {
		c := deskCentre{ID: id, Name: id}
		if centre, err := d.book.Centre(ctx, id); err == nil {
			c.Name = centre.Name
		}
		v.Centres = append(v.Centres, c)
	}
	for _, code := range catalog.Codes() {
		vac, _ := catalog.Lookup(code)
		v.Vaccines = append(v.Vaccines, deskOption{Code: vac.Code, Name: vac.Name})
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, v)
}
