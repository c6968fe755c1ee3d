package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/store/sqlite"
	"github.com/vaxcert/vaxcert/store/storetest"
)

// citizenEnv is a server with registration and booking over a fresh SQLite
// store, with a fake clock and the dev SMS outbox.
type citizenEnv struct {
	srv      *Server
	c        *storetest.Citizens
	st       *sqlite.Store
	sessions map[string]booking.SessionAt
}

func newCitizenEnv(t *testing.T, limits RateLimits) *citizenEnv {
	t.Helper()
	st, ks := openStoreAndKeys(t)
	c := storetest.NewCitizens(t, st, registration.Limits{OTPCooldown: -1})
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Keys: fileKeys{ks}, Store: st,
		Auth: c.Reg, Registration: c.Reg, Booking: c.Book, RateLimits: limits})
	return &citizenEnv{srv: srv, c: c, st: st, sessions: map[string]booking.SessionAt{}}
}

// places loads the test centres with a session tomorrow at the free centre
// (10 first doses, 5 second) and one today at the paid one.
func (e *citizenEnv) places(t *testing.T) {
	t.Helper()
	e.c.Places(t)
	e.sessions["free"] = e.c.Session(t, storetest.TestCentre.ID, "COVISHIELD", 1, booking.Capacity{Dose1: 10, Dose2: 5})
	s, err := e.c.Book.AddSession(context.Background(), "test", booking.NewSession{CentreID: storetest.TestCentre2.ID,
		Date: e.c.Book.Today().Format(time.DateOnly), Vaccine: "COVAXIN", MinAge: 18, Fee: 780, Capacity: booking.Capacity{Dose1: 2}})
	if err != nil {
		t.Fatal(err)
	}
	e.sessions["paid"] = s
}

func (e *citizenEnv) call(t *testing.T, method, path, body, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.10:5555"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// login runs the v1 OTP login over HTTP and returns the token.
func (e *citizenEnv) login(t *testing.T, mobile string) string {
	t.Helper()
	rec := e.call(t, http.MethodPost, "/api/v1/auth/otp", `{"mobile":"`+mobile+`"}`, "")
	if rec.Code != 200 {
		t.Fatalf("otp: %d %s", rec.Code, rec.Body)
	}
	var txn struct {
		TxnID string `json:"txn_id"`
	}
	json.Unmarshal(rec.Body.Bytes(), &txn)
	rec = e.call(t, http.MethodPost, "/api/v1/auth/otp/confirm", fmt.Sprintf(`{"txn_id":%q,"otp":%q}`, txn.TxnID, e.c.LastOTP(t, mobile)), "")
	if rec.Code != 200 {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	var tok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	json.Unmarshal(rec.Body.Bytes(), &tok)
	if tok.Token == "" || tok.ExpiresAt == "" {
		t.Fatalf("confirm answer: %s", rec.Body)
	}
	return tok.Token
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wantStatus checks the status and, for errors, the problem document.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int, slug string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if slug == "" {
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q for a %d", ct, status)
	}
	var p problemDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != problemTypeBase+slug || p.Status != status || p.Detail == "" {
		t.Fatalf("problem %+v, want slug %s", p, slug)
	}
}

// TestCitizenJourney walks the v1 API as a citizen: log in, register, search,
// book, download the slip, reschedule, cancel; every answer is checked
// against openapi.yaml.
func TestCitizenJourney(t *testing.T) {
	env := newCitizenEnv(t, RateLimits{})
	env.places(t)
	spec := loadOpenAPI(t)
	token := env.login(t, "9876543210")
	check := func(method, path string, rec *httptest.ResponseRecorder, status int) map[string]any {
		t.Helper()
		if rec.Code != status {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		spec.checkShape(t, method, path, status, rec.Body.Bytes())
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}

	b := check("POST", "/api/v1/beneficiaries", env.call(t, "POST", "/api/v1/beneficiaries",
		`{"name":"Asha Rao","gender":"female","birth_date":"1984-02-29","photo_id_type":"aadhaar","photo_id_number":"`+storetest.Aadhaar(7)+`"}`, token), 201)
	ref := b["beneficiary_reference_id"].(string)
	if b["photo_id_number"] != "XXXX XXXX "+storetest.Aadhaar(7)[8:] || b["vaccination_status"] != "Not Vaccinated" {
		t.Fatalf("beneficiary: %v", b)
	}
	check("GET", "/api/v1/beneficiaries", env.call(t, "GET", "/api/v1/beneficiaries", "", token), 200)
	check("GET", "/api/v1/states", env.call(t, "GET", "/api/v1/states", "", ""), 200)
	check("GET", "/api/v1/states/{state_id}/districts", env.call(t, "GET", "/api/v1/states/21/districts", "", ""), 200)
	check("GET", "/api/v1/centres/{centre_id}", env.call(t, "GET", "/api/v1/centres/600001", "", ""), 200)
	tomorrow := env.c.Book.Today().AddDate(0, 0, 1).Format(time.DateOnly)
	found := check("GET", "/api/v1/sessions", env.call(t, "GET", "/api/v1/sessions?pincode=411011&date="+tomorrow, "", ""), 200)
	if n := len(found["sessions"].([]any)); n != 1 {
		t.Fatalf("search found %d", n)
	}
	check("GET", "/api/v1/sessions/calendar", env.call(t, "GET", "/api/v1/sessions/calendar?district_id=363", "", ""), 200)
	sid := env.sessions["free"].ID
	check("GET", "/api/v1/sessions/{session_id}", env.call(t, "GET", "/api/v1/sessions/"+sid, "", ""), 200)

	a := check("POST", "/api/v1/appointments", env.call(t, "POST", "/api/v1/appointments",
		fmt.Sprintf(`{"beneficiary_reference_id":%q,"session_id":%q,"slot":"FORENOON"}`, ref, sid), token), 201)
	id := a["appointment_id"].(string)
	check("GET", "/api/v1/appointments/{id}", env.call(t, "GET", "/api/v1/appointments/"+id, "", token), 200)
	check("GET", "/api/v1/appointments", env.call(t, "GET", "/api/v1/appointments", "", token), 200)
	got := check("GET", "/api/v1/beneficiaries/{ref}", env.call(t, "GET", "/api/v1/beneficiaries/"+ref, "", token), 200)
	if len(got["appointments"].([]any)) != 1 {
		t.Fatalf("beneficiary's open appointments: %v", got["appointments"])
	}

	slip := env.call(t, "GET", "/api/v1/appointments/"+id+"/slip", "", token)
	if slip.Code != 200 || slip.Header().Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(slip.Body.Bytes(), []byte("%PDF-")) {
		t.Fatalf("slip: %d %q %.20q", slip.Code, slip.Header().Get("Content-Type"), slip.Body.Bytes())
	}

	moved := check("POST", "/api/v1/appointments/{id}/reschedule", env.call(t, "POST", "/api/v1/appointments/"+id+"/reschedule",
		fmt.Sprintf(`{"session_id":%q,"slot":"AFTERNOON"}`, sid), token), 200)
	if moved["slot"] != "AFTERNOON" {
		t.Fatalf("reschedule: %v", moved)
	}
	cancelled := check("POST", "/api/v1/appointments/{id}/cancel", env.call(t, "POST", "/api/v1/appointments/"+id+"/cancel", "", token), 200)
	if cancelled["status"] != "cancelled" {
		t.Fatalf("cancel: %v", cancelled)
	}
	check("PUT", "/api/v1/beneficiaries/{ref}", env.call(t, "PUT", "/api/v1/beneficiaries/"+ref,
		`{"name":"Asha R Rao","gender":"female","birth_date":"1984-02-29","photo_id_type":"passport","photo_id_number":"J8369854"}`, token), 200)
	wantStatus(t, env.call(t, "DELETE", "/api/v1/beneficiaries/"+ref, "", token), 204, "")
	wantStatus(t, env.call(t, "GET", "/api/v1/beneficiaries/"+ref, "", token), 404, "beneficiary-not-found")
}

// TestAuthRejections: every bad credential is a problem document with the
// right status.
func TestAuthRejections(t *testing.T) {
	env := newCitizenEnv(t, RateLimits{})
	env.places(t)
	citizen := env.login(t, "9876500001")

	// Citizen token on staff routes: 403.
	wantStatus(t, env.call(t, "PUT", "/api/v1/admin/centres/600001", `{"name":"X"}`, citizen), 403, "role-forbidden")
	wantStatus(t, env.call(t, "POST", "/api/v1/admin/sessions", `{}`, citizen), 403, "role-forbidden")
	wantStatus(t, env.call(t, "GET", "/api/v1/centres/600001/appointments", "", citizen), 403, "role-forbidden")
	// No token, garbage, another key, expired: 401.
	wantStatus(t, env.call(t, "GET", "/api/v1/beneficiaries", "", ""), 401, "token-missing")
	wantStatus(t, env.call(t, "GET", "/api/v1/beneficiaries", "", "not.a.jwt"), 401, "token-invalid")
	other := storetest.NewCitizens(t, env.st, registration.Limits{})
	foreign, _, err := other.Tokens.Issue(registration.Principal{AccountID: "x", Role: registration.Admin})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, env.call(t, "POST", "/api/v1/admin/sessions", `{}`, foreign), 401, "token-invalid")
	env.c.Clock.Advance(16 * time.Minute)
	wantStatus(t, env.call(t, "GET", "/api/v1/beneficiaries", "", citizen), 401, "token-expired")

	// OTP failures.
	wantStatus(t, env.call(t, "POST", "/api/v1/auth/otp", `{"mobile":"12345"}`, ""), 400, "mobile-invalid")
	wantStatus(t, env.call(t, "POST", "/api/v1/auth/otp/confirm", `{"txn_id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","otp":"123456"}`, ""), 401, "otp-txn-unknown")
	rec := env.call(t, "POST", "/api/v1/auth/otp", `{"mobile":"9876500002"}`, "")
	var txn struct {
		TxnID string `json:"txn_id"`
	}
	json.Unmarshal(rec.Body.Bytes(), &txn)
	otp := env.c.LastOTP(t, "9876500002")
	wrong := fmt.Sprintf("%06d", (atoi(otp)+1)%1000000)
	body := func(o string) string { return fmt.Sprintf(`{"txn_id":%q,"otp":%q}`, txn.TxnID, o) }
	wantStatus(t, env.call(t, "POST", "/api/v1/auth/otp/confirm", body(wrong), ""), 401, "otp-wrong")
	wantStatus(t, env.call(t, "POST", "/api/v1/auth/otp/confirm", body(wrong), ""), 401, "otp-wrong")
	wantStatus(t, env.call(t, "POST", "/api/v1/auth/otp/confirm", body(wrong), ""), 429, "otp-attempts-exceeded")
	wantStatus(t, env.call(t, "POST", "/api/v1/auth/otp/confirm", body(otp), ""), 429, "otp-attempts-exceeded")
	wantStatus(t, env.call(t, "POST", "/api/v1/auth/otp/confirm", `{"txn_id":1}`, ""), 400, "malformed-json")
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestBadInputHTTP: refusals are 4xx problems with a clear message, and
// nothing is half-written.
func TestBadInputHTTP(t *testing.T) {
	env := newCitizenEnv(t, RateLimits{BookingPerMinute: 1000, BookingBurst: 1000})
	env.places(t)
	token := env.login(t, "9876500003")
	add := func(i int, extra string) *httptest.ResponseRecorder {
		id := storetest.Aadhaar(i)
		if extra != "" {
			id = extra
		}
		return env.call(t, "POST", "/api/v1/beneficiaries", fmt.Sprintf(
			`{"name":"Person %c","gender":"male","birth_date":"1990-01-01","photo_id_type":"aadhaar","photo_id_number":%q}`, 'A'+i%26, id), token)
	}
	bad := storetest.Aadhaar(50)
	bad = bad[:11] + string('0'+(bad[11]-'0'+3)%10)
	wantStatus(t, add(50, bad), 400, "id-number-invalid")
	var refs []string
	for i := range 4 {
		rec := add(i, "")
		wantStatus(t, rec, 201, "")
		var b struct {
			Ref string `json:"beneficiary_reference_id"`
		}
		json.Unmarshal(rec.Body.Bytes(), &b)
		refs = append(refs, b.Ref)
	}
	wantStatus(t, add(5, ""), 409, "beneficiary-limit")
	rec := env.call(t, "GET", "/api/v1/beneficiaries", "", token)
	var list struct {
		Beneficiaries []any `json:"beneficiaries"`
	}
	json.Unmarshal(rec.Body.Bytes(), &list)
	if len(list.Beneficiaries) != 4 {
		t.Fatalf("%d beneficiaries after refusals", len(list.Beneficiaries))
	}

	book := func(ref, session string) *httptest.ResponseRecorder {
		return env.call(t, "POST", "/api/v1/appointments", fmt.Sprintf(`{"beneficiary_reference_id":%q,"session_id":%q,"slot":"FORENOON"}`, ref, session), token)
	}
	wantStatus(t, book(refs[0], booking.NewID()), 404, "session-not-found")
	wantStatus(t, book("12345678901234", env.sessions["free"].ID), 404, "beneficiary-not-found")
	paid := env.sessions["paid"].ID
	wantStatus(t, env.call(t, "POST", "/api/v1/appointments", fmt.Sprintf(`{"beneficiary_reference_id":%q,"session_id":%q,"slot":"FORENOON"}`, refs[0], paid), token), 400, "slot-invalid")
	slot := env.sessions["paid"].Slots[0]
	b2 := func(ref string) *httptest.ResponseRecorder {
		return env.call(t, "POST", "/api/v1/appointments", fmt.Sprintf(`{"beneficiary_reference_id":%q,"session_id":%q,"slot":%q}`, ref, paid, slot), token)
	}
	wantStatus(t, b2(refs[0]), 201, "")
	wantStatus(t, b2(refs[1]), 201, "")
	wantStatus(t, b2(refs[2]), 409, "session-full")
	wantStatus(t, book(refs[0], env.sessions["free"].ID), 409, "appointment-exists")
	// The paid session is today: tomorrow it is in the past.
	env.c.Clock.Advance(24 * time.Hour)
	token = env.login(t, "9876500003")
	wantStatus(t, b2(refs[3]), 400, "session-past")
	// Search input.
	wantStatus(t, env.call(t, "GET", "/api/v1/sessions?pincode=4110", "", ""), 400, "pincode-invalid")
	wantStatus(t, env.call(t, "GET", "/api/v1/sessions?pincode=411011&date=01-03-2026", "", ""), 400, "date-invalid")
	wantStatus(t, env.call(t, "GET", "/api/v1/sessions", "", ""), 400, "search-invalid")
}

// TestRateLimitHTTP: a client over its budget gets 429 with Retry-After;
// other clients are unaffected.
func TestRateLimitHTTP(t *testing.T) {
	env := newCitizenEnv(t, RateLimits{SearchPerMinute: 60, SearchBurst: 3})
	env.places(t)
	for i := range 3 {
		if rec := env.call(t, "GET", "/api/v1/states", "", ""); rec.Code != 200 {
			t.Fatalf("request %d: %d", i+1, rec.Code)
		}
	}
	rec := env.call(t, "GET", "/api/v2/admin/location/states", "", "")
	wantStatus(t, rec, 429, "rate-limited")
	if ra := rec.Header().Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1", ra)
	}
	var p map[string]any
	json.Unmarshal(rec.Body.Bytes(), &p)
	if p["errorCode"] == nil {
		t.Errorf("Co-WIN 429 without errorCode: %v", p)
	}
	req := httptest.NewRequest("GET", "/api/v1/states", nil)
	req.RemoteAddr = "198.51.100.20:1234"
	other := httptest.NewRecorder()
	env.srv.ServeHTTP(other, req)
	if other.Code != 200 {
		t.Fatalf("another client: %d", other.Code)
	}
}

// TestStaffRoutesHTTP: admins plan places and sessions; vaccinators list
// their centre's day.
func TestStaffRoutesHTTP(t *testing.T) {
	env := newCitizenEnv(t, RateLimits{})
	env.places(t)
	ctx := context.Background()
	if _, err := env.c.Reg.PutStaff(ctx, "9000000099", registration.Admin, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.Reg.PutStaff(ctx, "9000000098", registration.Vaccinator, []string{"600001"}); err != nil {
		t.Fatal(err)
	}
	admin := env.login(t, "9000000099")
	vacc := env.login(t, "9000000098")
	spec := loadOpenAPI(t)

	rec := env.call(t, "PUT", "/api/v1/admin/centres/600003", `{"name":"UPHC Kasba Peth","pincode":"411011","district_id":363,"lat":18.52,"long":73.86}`, admin)
	wantStatus(t, rec, 200, "")
	spec.checkShape(t, "PUT", "/api/v1/admin/centres/{centre_id}", 200, rec.Body.Bytes())
	rec = env.call(t, "POST", "/api/v1/admin/sessions", fmt.Sprintf(`{"center_id":"600003","date":%q,"vaccine":"CORBEVAX","min_age_limit":12,"max_age_limit":14,"capacity":{"dose1":30,"dose2":0,"precaution":0}}`,
		env.c.Book.Today().Format(time.DateOnly)), admin)
	wantStatus(t, rec, 201, "")
	spec.checkShape(t, "POST", "/api/v1/admin/sessions", 201, rec.Body.Bytes())
	csv := "center_id,name,pincode,state_id,state_name,district_id,district_name,fee_type\n" +
		"700001,PHC Mulshi,412108,21,Maharashtra,364,Mulshi,Free\n"
	req := httptest.NewRequest("POST", "/api/v1/admin/centres/import", strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "text/csv")
	rr := httptest.NewRecorder()
	env.srv.ServeHTTP(rr, req)
	wantStatus(t, rr, 200, "")
	spec.checkShape(t, "POST", "/api/v1/admin/centres/import", 200, rr.Body.Bytes())
	rr = httptest.NewRecorder()
	req = httptest.NewRequest("POST", "/api/v1/admin/centres/import", strings.NewReader("name\nx\n"))
	req.Header.Set("Authorization", "Bearer "+admin)
	env.srv.ServeHTTP(rr, req)
	wantStatus(t, rr, 400, "csv-invalid")

	rec = env.call(t, "GET", "/api/v1/centres/600001/appointments", "", vacc)
	wantStatus(t, rec, 200, "")
	spec.checkShape(t, "GET", "/api/v1/centres/{centre_id}/appointments", 200, rec.Body.Bytes())
	wantStatus(t, env.call(t, "GET", "/api/v1/centres/600002/appointments", "", vacc), 403, "centre-forbidden")
	wantStatus(t, env.call(t, "PUT", "/api/v1/admin/centres/600004", `{}`, vacc), 403, "role-forbidden")
}
