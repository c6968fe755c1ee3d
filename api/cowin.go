package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/internal/problem"
)

// The Co-WIN public API v2 (cowin-public-v2 1.1.0 and the fields added to it
// later), so that Co-WIN client programs work by changing their base URL:
// the same paths, parameters (dates DD-MM-YYYY) and JSON shapes. Errors are
// problem documents that also carry Co-WIN's {"errorCode","error"}.

const cowinDate = "02-01-2006"

// cowinTTL is the metadata cache lifetime Co-WIN announces, in hours.
const cowinTTL = 24

func (c *citizenAPI) mountCoWIN(r chi.Router, byIP func(*http.Request) string) {
	r.Group(func(r chi.Router) {
		r.Use(c.search.middleware(byIP, c.cowinError), c.answers)
		r.Get("/api/v2/admin/location/states", c.cowinStates)
		r.Get("/api/v2/admin/location/districts/{state_id}", c.cowinDistricts)
		r.Get("/api/v2/appointment/sessions/public/findByPin", c.cowinFind)
		r.Get("/api/v2/appointment/sessions/public/findByDistrict", c.cowinFind)
		r.Get("/api/v2/appointment/sessions/public/calendarByPin", c.cowinCalendar)
		r.Get("/api/v2/appointment/sessions/public/calendarByDistrict", c.cowinCalendar)
		r.Get("/api/v2/appointment/sessions/public/calendarByCenter", c.cowinCalendar)
	})
	r.Group(func(r chi.Router) {
		r.Use(c.writes.middleware(byIP, c.cowinError))
		r.Post("/api/v2/auth/public/generateOTP", c.cowinGenerateOTP)
		r.Post("/api/v2/auth/public/confirmOTP", c.cowinConfirmOTP)
	})
}

// cowinProblem is a problem document with Co-WIN's error members.
type cowinProblem struct {
	problemDoc
	ErrorCode string `json:"errorCode"`
	Error     string `json:"error"`
}

// cowinError answers like writeError, adding errorCode and error.
func (c *citizenAPI) cowinError(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := problem.As(err)
	if !ok {
		c.s.writeError(w, r, err) // internal: logged, generic answer
		return
	}
	status := statusOf[p.Kind]
	code := "USRRES0002" // invalid input
	switch {
	case p.Slug == "param-missing":
		code = "USRRES0001" // Co-WIN's "Input parameter missing"
	case p.Kind == problem.Unauthorized:
		code = "USRAUT0001"
	case p.Kind == problem.TooMany:
		code = "USRAUT0018"
	case p.Kind == problem.NotFound:
		code = "USRRES0404"
	case status >= 500:
		c.s.writeError(w, r, err)
		return
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(p.RetryAfter.Seconds()+0.999)))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(cowinProblem{
		problemDoc: problemDoc{Type: problemTypeBase + p.Slug, Title: http.StatusText(status), Status: status,
			Detail: p.Detail, Instance: r.URL.Path, RequestID: middleware.GetReqID(r.Context())},
		ErrorCode: code, Error: p.Detail,
	})
}

func missing(name string) error {
	return problem.Invalidf("param-missing", "Input parameter missing: %s.", name)
}

type cowinState struct {
	StateID   int    `json:"state_id"`
	StateName string `json:"state_name"`
	StateL    string `json:"state_name_l"`
}

type cowinDistrict struct {
	StateID      int    `json:"state_id"`
	DistrictID   int    `json:"district_id"`
	DistrictName string `json:"district_name"`
	DistrictL    string `json:"district_name_l"`
}

func (c *citizenAPI) cowinStates(w http.ResponseWriter, r *http.Request) {
	states, err := c.book.States(r.Context())
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	out := make([]cowinState, 0, len(states))
	for _, s := range states {
		out = append(out, cowinState{StateID: s.ID, StateName: s.Name})
	}
	c.cacheable(w, r, map[string]any{"states": out, "ttl": cowinTTL}, "public, max-age=3600")
}

func (c *citizenAPI) cowinDistricts(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(chi.URLParam(r, "state_id"))
	if err != nil || id <= 0 {
		c.cowinError(w, r, problem.Invalidf("state-invalid", "state_id must be a number."))
		return
	}
	ds, err := c.book.Districts(r.Context(), id)
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	out := make([]cowinDistrict, 0, len(ds))
	for _, d := range ds {
		out = append(out, cowinDistrict{StateID: d.StateID, DistrictID: d.ID, DistrictName: d.Name})
	}
	c.cacheable(w, r, map[string]any{"districts": out, "ttl": cowinTTL}, "public, max-age=3600")
}

// cowinCentre is CenterResponseSchema: the centre fields shared by the
// session list and the calendar.
type cowinCentre struct {
	CenterID     int64    `json:"center_id"`
	Name         string   `json:"name"`
	NameL        string   `json:"name_l"`
	Address      string   `json:"address"`
	AddressL     string   `json:"address_l"`
	StateName    string   `json:"state_name"`
	StateNameL   string   `json:"state_name_l"`
	DistrictName string   `json:"district_name"`
	DistrictL    string   `json:"district_name_l"`
	BlockName    string   `json:"block_name"`
	BlockNameL   string   `json:"block_name_l"`
	Pincode      string   `json:"pincode"`
	Lat          *float64 `json:"lat,omitempty"`
	Long         *float64 `json:"long,omitempty"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	FeeType      string   `json:"fee_type"`
}

// cowinSessionFields are the per-session fields.
type cowinSessionFields struct {
	SessionID         string   `json:"session_id"`
	Date              string   `json:"date"`
	AvailableCapacity int      `json:"available_capacity"`
	AvailableDose1    int      `json:"available_capacity_dose1"`
	AvailableDose2    int      `json:"available_capacity_dose2"`
	AvailablePrecaut  int      `json:"available_capacity_precaution"`
	MinAgeLimit       int      `json:"min_age_limit"`
	MaxAgeLimit       *int     `json:"max_age_limit,omitempty"`
	AllowAllAge       bool     `json:"allow_all_age"`
	Vaccine           string   `json:"vaccine"`
	Fee               string   `json:"fee"`
	Slots             []string `json:"slots"`
}

// cowinSession is SessionResponseSchema (findByPin, findByDistrict).
type cowinSession struct {
	cowinCentre
	cowinSessionFields
}

// cowinCalendarSession is one session of a calendar centre. Co-WIN's schema
// lists fee, fee_type, from and to as required here too.
type cowinCalendarSession struct {
	cowinSessionFields
	FeeType string `json:"fee_type"`
	From    string `json:"from"`
	To      string `json:"to"`
}

type cowinVaccineFee struct {
	Vaccine string `json:"vaccine"`
	Fee     string `json:"fee"`
}

// cowinCalendarCentre is SessionCalendarEntrySchema.
type cowinCalendarCentre struct {
	cowinCentre
	VaccineFees []cowinVaccineFee      `json:"vaccine_fees,omitempty"`
	Sessions    []cowinCalendarSession `json:"sessions"`
}

func toCowinCentre(c booking.Centre) cowinCentre {
	out := cowinCentre{CenterID: booking.CentreNumber(c.ID), Name: c.Name, Address: c.Address, StateName: c.State,
		DistrictName: c.District, BlockName: c.Block, Pincode: c.Pincode, From: c.From + ":00", To: c.To + ":00", FeeType: c.FeeType}
	if out.BlockName == "" {
		out.BlockName = "Not Applicable"
	}
	if c.Lat != 0 || c.Long != 0 {
		lat, long := c.Lat, c.Long
		out.Lat, out.Long = &lat, &long
	}
	return out
}

func toCowinSession(s booking.Session) cowinSessionFields {
	out := cowinSessionFields{SessionID: s.ID, Date: s.Date.Format(cowinDate), AvailableCapacity: s.Available.Total(),
		AvailableDose1: s.Available.Dose1, AvailableDose2: s.Available.Dose2, AvailablePrecaut: s.Available.Precaution,
		MinAgeLimit: s.MinAge, AllowAllAge: s.MinAge == 0 && s.MaxAge == 0, Vaccine: s.Vaccine, Fee: strconv.Itoa(s.Fee), Slots: s.Slots}
	if s.MaxAge > 0 {
		m := s.MaxAge
		out.MaxAgeLimit = &m
	}
	return out
}

// cowinQuery reads pincode / district_id / center_id and date (DD-MM-YYYY).
func (c *citizenAPI) cowinQuery(r *http.Request, days int) (booking.SessionQuery, error) {
	v := r.URL.Query()
	var q booking.SessionQuery
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "ByPin"):
		if q.Pincode = strings.TrimSpace(v.Get("pincode")); q.Pincode == "" {
			return q, missing("pincode")
		}
	case strings.HasSuffix(path, "ByDistrict"):
		d := strings.TrimSpace(v.Get("district_id"))
		if d == "" {
			return q, missing("district_id")
		}
		id, err := strconv.Atoi(d)
		if err != nil || id <= 0 {
			return q, problem.Invalidf("district-invalid", "district_id must be a number.")
		}
		q.DistrictID = id
	default: // ByCenter
		if q.CentreID = strings.TrimSpace(v.Get("center_id")); q.CentreID == "" {
			return q, missing("center_id")
		}
	}
	d := strings.TrimSpace(v.Get("date"))
	if d == "" {
		return q, missing("date")
	}
	day, err := time.Parse(cowinDate, d)
	if err != nil {
		return q, problem.Invalidf("date-invalid", "Invalid date %q: write it DD-MM-YYYY.", d)
	}
	q.From, q.To = day, day.AddDate(0, 0, days-1)
	if vac := v.Get("vaccine"); vac != "" {
		q.Vaccine = strings.ToUpper(vac)
	}
	return q, nil
}

// cowinFind: findByPin and findByDistrict → {"sessions":[Session]} for one day.
func (c *citizenAPI) cowinFind(w http.ResponseWriter, r *http.Request) {
	q, err := c.cowinQuery(r, 1)
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	found, err := c.book.Search(r.Context(), q)
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	out := make([]cowinSession, 0, len(found))
	for _, sa := range found {
		out = append(out, cowinSession{cowinCentre: toCowinCentre(sa.Centre), cowinSessionFields: toCowinSession(sa.Session)})
	}
	c.cacheable(w, r, map[string]any{"sessions": out}, publicCache)
}

// cowinCalendar: calendarByPin, calendarByDistrict → {"centers":[Center]}
// for seven days; calendarByCenter → {"centers":Center} (one object, {} when
// the centre has no sessions), as Co-WIN answers it.
func (c *citizenAPI) cowinCalendar(w http.ResponseWriter, r *http.Request) {
	q, err := c.cowinQuery(r, booking.MaxSearchDays)
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	found, err := c.book.Search(r.Context(), q)
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	centres := []cowinCalendarCentre{}
	fees := map[string]bool{}
	for _, sa := range found {
		if len(centres) == 0 || centres[len(centres)-1].CenterID != booking.CentreNumber(sa.Centre.ID) {
			centres = append(centres, cowinCalendarCentre{cowinCentre: toCowinCentre(sa.Centre), Sessions: []cowinCalendarSession{}})
			clear(fees)
		}
		cc := &centres[len(centres)-1]
		cc.Sessions = append(cc.Sessions, cowinCalendarSession{cowinSessionFields: toCowinSession(sa.Session),
			FeeType: cc.FeeType, From: cc.From, To: cc.To})
		if sa.Centre.FeeType == booking.Paid && !fees[sa.Vaccine] {
			fees[sa.Vaccine] = true
			cc.VaccineFees = append(cc.VaccineFees, cowinVaccineFee{Vaccine: sa.Vaccine, Fee: strconv.Itoa(sa.Fee)})
		}
	}
	if q.CentreID != "" {
		var one any = struct{}{}
		if len(centres) > 0 {
			one = centres[0]
		}
		c.cacheable(w, r, map[string]any{"centers": one}, publicCache)
		return
	}
	c.cacheable(w, r, map[string]any{"centers": centres}, publicCache)
}

// cowinGenerateOTP: POST /api/v2/auth/public/generateOTP {"mobile"} → {"txnId"}.
func (c *citizenAPI) cowinGenerateOTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mobile string `json:"mobile"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		c.cowinError(w, r, problem.Invalidf("malformed-json", "The body must be {\"mobile\":\"9876543210\"}."))
		return
	}
	if in.Mobile == "" {
		c.cowinError(w, r, missing("mobile"))
		return
	}
	txn, err := c.reg.StartLogin(r.Context(), in.Mobile)
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"txnId": txn})
}

// cowinConfirmOTP: POST /api/v2/auth/public/confirmOTP {"otp":"<sha256 hex>","txnId"} → {"token"}.
func (c *citizenAPI) cowinConfirmOTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OTP   string `json:"otp"`
		TxnID string `json:"txnId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		c.cowinError(w, r, problem.Invalidf("malformed-json", "The body must be {\"otp\":\"<SHA-256 of the OTP>\",\"txnId\":\"…\"}."))
		return
	}
	switch {
	case in.TxnID == "":
		c.cowinError(w, r, missing("txnId"))
		return
	case in.OTP == "":
		c.cowinError(w, r, missing("otp"))
		return
	}
	token, _, err := c.reg.ConfirmLoginDigest(r.Context(), in.TxnID, in.OTP)
	if err != nil {
		c.cowinError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}
