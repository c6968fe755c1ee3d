package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/booking"
)

// publicCache lets browsers and CDNs keep public search answers briefly, as
// Co-WIN's did; availability changes, so not for long.
const publicCache = "public, max-age=30"

func (c *citizenAPI) states(w http.ResponseWriter, r *http.Request) {
	states, err := c.book.States(r.Context())
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	c.cacheable(w, r, map[string]any{"states": states}, "public, max-age=3600")
}

func (c *citizenAPI) districts(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(chi.URLParam(r, "state_id"))
	if err != nil || id <= 0 {
		c.s.writeError(w, r, booking.ErrStateNotFound)
		return
	}
	ds, err := c.book.Districts(r.Context(), id)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	c.cacheable(w, r, map[string]any{"districts": ds}, "public, max-age=3600")
}

func (c *citizenAPI) centre(w http.ResponseWriter, r *http.Request) {
	ct, err := c.book.Centre(r.Context(), chi.URLParam(r, "centre_id"))
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	c.cacheable(w, r, ct, "public, max-age=300")
}

func (c *citizenAPI) session(w http.ResponseWriter, r *http.Request) {
	sa, err := c.book.Session(r.Context(), chi.URLParam(r, "session_id"))
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	v := viewSession(sa.Session)
	v.Centre = &sa.Centre
	c.cacheable(w, r, v, publicCache)
}

// searchQuery reads pincode | district_id | center_id, date (YYYY-MM-DD,
// default today in India) and vaccine.
func (c *citizenAPI) searchQuery(r *http.Request, days int) (booking.SessionQuery, error) {
	v := r.URL.Query()
	q := booking.SessionQuery{Pincode: v.Get("pincode"), CentreID: v.Get("center_id"), Vaccine: strings.ToUpper(v.Get("vaccine"))}
	if d := v.Get("district_id"); d != "" {
		id, err := strconv.Atoi(d)
		if err != nil || id <= 0 {
			return q, badParam("district-invalid", "district_id must be a positive number.")
		}
		q.DistrictID = id
	}
	q.From = c.book.Today()
	if d := v.Get("date"); d != "" {
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return q, badParam("date-invalid", "date must be written YYYY-MM-DD.")
		}
		q.From = day
	}
	q.To = q.From.AddDate(0, 0, days-1)
	return q, nil
}

// findSessions: GET /api/v1/sessions?pincode=…|district_id=…|center_id=…&date=YYYY-MM-DD
func (c *citizenAPI) findSessions(w http.ResponseWriter, r *http.Request) {
	q, err := c.searchQuery(r, 1)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	found, err := c.book.Search(r.Context(), q)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	out := make([]sessionView, 0, len(found))
	for _, sa := range found {
		v := viewSession(sa.Session)
		v.Centre = &sa.Centre
		out = append(out, v)
	}
	c.cacheable(w, r, map[string]any{"sessions": out}, publicCache)
}

type calendarCentre struct {
	booking.Centre
	Sessions []sessionView `json:"sessions"`
}

// calendar: GET /api/v1/sessions/calendar?…&date=YYYY-MM-DD → seven days,
// grouped by centre.
func (c *citizenAPI) calendar(w http.ResponseWriter, r *http.Request) {
	q, err := c.searchQuery(r, booking.MaxSearchDays)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	found, err := c.book.Search(r.Context(), q)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	out := []calendarCentre{}
	for _, sa := range found {
		if len(out) == 0 || out[len(out)-1].ID != sa.Centre.ID {
			out = append(out, calendarCentre{Centre: sa.Centre, Sessions: []sessionView{}})
		}
		last := &out[len(out)-1]
		last.Sessions = append(last.Sessions, viewSession(sa.Session))
	}
	c.cacheable(w, r, map[string]any{"centers": out, "from": q.From.Format(time.DateOnly), "to": q.To.Format(time.DateOnly)}, publicCache)
}

// cacheable writes v as JSON with an ETag and a Cache-Control.
func (c *citizenAPI) cacheable(w http.ResponseWriter, r *http.Request, v any, cacheControl string) {
	body, err := json.Marshal(v)
	if err != nil {
		c.s.writeError(w, r, err)
		return
	}
	serveCacheable(w, r, "application/json", append(body, '\n'), cacheControl)
}
