package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/internal/problem"
)

// maxImportBytes bounds a CSV import (about 50 000 centres).
const maxImportBytes = 16 << 20

// putCentre: PUT /api/v1/admin/centres/{centre_id} creates or updates a centre.
func (c *citizenAPI) putCentre(w http.ResponseWriter, r *http.Request) {
	var in booking.Centre
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "centre_id")
	if in.ID != "" && in.ID != id {
		c.s.writeError(w, r, problem.Invalidf("centre-invalid", "center_id in the body differs from the path."))
		return
	}
	in.ID = id
	out, err := c.book.PutCentre(r.Context(), actor(r), in)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// importCentres: POST /api/v1/admin/centres/import with a CSV body (the
// format of `vaxcert centres import`); all rows or none.
func (c *citizenAPI) importCentres(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes)
	res, err := c.book.ImportCSV(r.Context(), actor(r), r.Body)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// addSession: POST /api/v1/admin/sessions → 201 with the session.
func (c *citizenAPI) addSession(w http.ResponseWriter, r *http.Request) {
	var in booking.NewSession
	if err := decodeJSON(r, &in); err != nil {
		c.s.writeError(w, r, err)
		return
	}
	sa, err := c.book.AddSession(r.Context(), actor(r), in)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	v := viewSession(sa.Session)
	v.Centre = &sa.Centre
	w.Header().Set("Location", "/api/v1/sessions/"+sa.ID)
	writeJSON(w, http.StatusCreated, v)
}

// actor names the caller in the audit log.
func actor(r *http.Request) string { return "user:" + principal(r.Context()).AccountID }
