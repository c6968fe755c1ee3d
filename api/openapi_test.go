package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.yaml.in/yaml/v3"
)

// openAPI is the parsed api/openapi.yaml.
type openAPI struct {
	doc map[string]any
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	data, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return &openAPI{doc: doc}
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// webRoutes lists x-web-routes: the HTML pages and static files of the web
// UI, which the router serves but which are not API operations.
func (o *openAPI) webRoutes() []string {
	var out []string
	list, _ := o.doc["x-web-routes"].([]any)
	for _, r := range list {
		out = append(out, fmt.Sprint(r))
	}
	return out
}

// operations lists "METHOD /path" for every operation in the file.
func (o *openAPI) operations() []string {
	var ops []string
	paths, _ := o.doc["paths"].(map[string]any)
	for path, item := range paths {
		m, _ := item.(map[string]any)
		for _, method := range httpMethods {
			if _, ok := m[method]; ok {
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// responseSchema is the JSON schema of an operation's answer.
func (o *openAPI) responseSchema(t *testing.T, method, path string, status int) any {
	t.Helper()
	item, ok := o.doc["paths"].(map[string]any)[path].(map[string]any)
	if !ok {
		t.Fatalf("openapi.yaml has no path %s", path)
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		t.Fatalf("openapi.yaml has no %s %s", method, path)
	}
	resp, ok := op["responses"].(map[string]any)[fmt.Sprint(status)].(map[string]any)
	if !ok {
		t.Fatalf("openapi.yaml: %s %s documents no %d answer", method, path, status)
	}
	resp = o.resolve(resp).(map[string]any)
	content, _ := resp["content"].(map[string]any)
	for _, ct := range []string{"application/json", "application/problem+json"} {
		if media, ok := content[ct].(map[string]any); ok {
			return media["schema"]
		}
	}
	t.Fatalf("openapi.yaml: %s %s %d has no JSON schema", method, path, status)
	return nil
}

// resolve follows a local $ref.
func (o *openAPI) resolve(node any) any {
	for {
		m, ok := node.(map[string]any)
		if !ok {
			return node
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return node
		}
		var cur any = o.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		node = cur
	}
}

var formatCheck = map[string]*regexp.Regexp{
	"uuid":      regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`),
	"date":      regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`),
	"date-time": regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T`),
}

// validate checks a decoded JSON value against the OpenAPI subset we use:
// $ref, allOf, oneOf, type, required, properties, items, enum, minimum,
// maximum, minItems, maxProperties, pattern, format. It returns every
// mismatch, with its JSON path.
func (o *openAPI) validate(schema, v any, at string) []string {
	s, ok := o.resolve(schema).(map[string]any)
	if !ok {
		return nil
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, o.validate(sub, v, at)...)
		}
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if len(o.validate(sub, v, at)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of the oneOf schemas, want exactly 1", n)
		}
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want an object, got %T", v)
			return errs
		}
		if req, ok := s["required"].([]any); ok {
			for _, name := range req {
				if _, ok := m[name.(string)]; !ok {
					fail("missing required %q", name)
				}
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for name, sub := range props {
				if val, ok := m[name]; ok {
					errs = append(errs, o.validate(sub, val, at+"."+name)...)
				}
			}
		}
		if mp, ok := s["maxProperties"].(int); ok && len(m) > mp {
			fail("%d properties, at most %d allowed", len(m), mp)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("want an array, got %T", v)
			return errs
		}
		if mi, ok := s["minItems"].(int); ok && len(a) < mi {
			fail("%d items, want at least %d", len(a), mi)
		}
		for i, item := range a {
			errs = append(errs, o.validate(s["items"], item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("want a string, got %T (%v)", v, v)
			return errs
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
		if f, ok := s["format"].(string); ok && formatCheck[f] != nil && !formatCheck[f].MatchString(str) {
			fail("%q is not a %s", str, f)
		}
	case "number", "integer":
		n, ok := v.(float64)
		if !ok {
			fail("want a %s, got %T (%v)", typ, v, v)
			return errs
		}
		if typ == "integer" && n != float64(int64(n)) {
			fail("%v is not an integer", n)
		}
		if min, ok := number(s["minimum"]); ok && n < min {
			fail("%v is below the minimum %v", n, min)
		}
		if max, ok := number(s["maximum"]); ok && n > max {
			fail("%v is above the maximum %v", n, max)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want a boolean, got %T", v)
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || fmt.Sprint(e) == fmt.Sprint(v)
		}
		if !found {
			fail("%v is not one of %v", v, enum)
		}
	}
	return errs
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// checkShape validates a recorded JSON answer against the file.
func (o *openAPI) checkShape(t *testing.T, method, path string, status int, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s %s: not JSON: %v\n%s", method, path, err, body)
	}
	if errs := o.validate(o.responseSchema(t, method, path, status), v, "$"); len(errs) > 0 {
		t.Errorf("%s %s %d does not match openapi.yaml:\n  %s\nbody: %.600s", method, path, status, strings.Join(errs, "\n  "), body)
	}
}

// TestOpenAPIRoutes keeps openapi.yaml and the router in step: every route
// served is documented (as an operation, or for web pages in x-web-routes)
// and everything documented is served.
func TestOpenAPIRoutes(t *testing.T) {
	// The fullest server: registration, booking, the issuer, verify and the web UI.
	srv := newVerifyServer(t).srv
	var served []string
	err := chi.Walk(srv.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if route == "" {
			route = "/"
		}
		served = append(served, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(served)
	spec := loadOpenAPI(t)
	documented := append(spec.operations(), spec.webRoutes()...)
	inFile := map[string]bool{}
	for _, op := range documented {
		inFile[op] = true
	}
	inRouter := map[string]bool{}
	for _, op := range served {
		inRouter[op] = true
		if !inFile[op] {
			t.Errorf("%s is served but not in api/openapi.yaml (paths, or x-web-routes for web pages)", op)
		}
	}
	for _, op := range documented {
		if !inRouter[op] {
			t.Errorf("%s is in api/openapi.yaml but not served", op)
		}
	}
	if len(served) < 40 {
		t.Errorf("only %d routes: are the citizen and issuing APIs mounted?", len(served))
	}
}

// TestCoWINShapes drives every Co-WIN compatible endpoint, as a Co-WIN
// client would, and checks each answer against the shapes in openapi.yaml.
func TestCoWINShapes(t *testing.T) {
	env := newCitizenEnv(t, RateLimits{})
	env.places(t)
	spec := loadOpenAPI(t)
	today := env.c.Book.Today()
	d := today.AddDate(0, 0, 1).Format("02-01-2006")

	// get requests url and checks the answer against the operation path.
	get := func(path, url string, status int) map[string]any {
		t.Helper()
		if strings.HasPrefix(url, "?") {
			url = path + url
		}
		rec := env.call(t, http.MethodGet, url, "", "")
		if rec.Code != status {
			t.Fatalf("GET %s: %d %s", url, rec.Code, rec.Body)
		}
		spec.checkShape(t, http.MethodGet, path, status, rec.Body.Bytes())
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}

	states := get("/api/v2/admin/location/states", "/api/v2/admin/location/states", 200)
	if s := states["states"].([]any); len(s) != 1 || s[0].(map[string]any)["state_id"] != float64(21) {
		t.Fatalf("states: %v", states)
	}
	dist := get("/api/v2/admin/location/districts/{state_id}", "/api/v2/admin/location/districts/21", 200)
	if ds := dist["districts"].([]any); len(ds) != 1 || ds[0].(map[string]any)["district_name"] != "Pune" {
		t.Fatalf("districts: %v", dist)
	}
	get("/api/v2/admin/location/districts/{state_id}", "/api/v2/admin/location/districts/99", 404)
	byPin := get("/api/v2/appointment/sessions/public/findByPin", "?pincode=411011&date="+d, 200)
	sess := byPin["sessions"].([]any)
	if len(sess) != 1 {
		t.Fatalf("findByPin: %v", byPin)
	}
	s0 := sess[0].(map[string]any)
	if s0["center_id"] != float64(600001) || s0["date"] != d || s0["available_capacity"] != float64(15) ||
		s0["available_capacity_dose1"] != float64(10) || s0["fee"] != "0" || s0["from"] != "09:00:00" {
		t.Errorf("findByPin session: %v", s0)
	}
	get("/api/v2/appointment/sessions/public/findByDistrict", "?district_id=363&date="+d, 200)
	cal := get("/api/v2/appointment/sessions/public/calendarByPin", "?pincode=411027&date="+today.Format("02-01-2006"), 200)
	centres := cal["centers"].([]any)
	if len(centres) != 1 {
		t.Fatalf("calendarByPin: %v", cal)
	}
	if fees := centres[0].(map[string]any)["vaccine_fees"].([]any); len(fees) != 1 || fees[0].(map[string]any)["fee"] != "780" {
		t.Errorf("vaccine_fees of a paid centre: %v", fees)
	}
	get("/api/v2/appointment/sessions/public/calendarByDistrict", "?district_id=363&date="+d, 200)
	one := get("/api/v2/appointment/sessions/public/calendarByCenter", "?center_id=600001&date="+d, 200)
	if one["centers"].(map[string]any)["center_id"] != float64(600001) {
		t.Errorf("calendarByCenter: %v", one)
	}
	empty := get("/api/v2/appointment/sessions/public/calendarByCenter", "?center_id=600001&date="+today.AddDate(0, 0, 30).Format("02-01-2006"), 200)
	if len(empty["centers"].(map[string]any)) != 0 {
		t.Errorf("calendarByCenter without sessions: %v", empty)
	}

	// Errors carry Co-WIN's errorCode and error.
	for _, tc := range []struct{ path, query, code string }{
		{"/api/v2/appointment/sessions/public/findByPin", "?date=" + d, "USRRES0001"},
		{"/api/v2/appointment/sessions/public/findByPin", "?pincode=411011", "USRRES0001"},
		{"/api/v2/appointment/sessions/public/findByPin", "?pincode=411011&date=2026-03-01", "USRRES0002"},
		{"/api/v2/appointment/sessions/public/calendarByDistrict", "?district_id=abc&date=" + d, "USRRES0002"},
	} {
		rec := env.call(t, http.MethodGet, tc.path+tc.query, "", "")
		if rec.Code != 400 {
			t.Fatalf("%s%s: %d", tc.path, tc.query, rec.Code)
		}
		spec.checkShape(t, http.MethodGet, tc.path, 400, rec.Body.Bytes())
		var p map[string]any
		json.Unmarshal(rec.Body.Bytes(), &p)
		if p["errorCode"] != tc.code || p["error"] == "" {
			t.Errorf("%s%s: %v, want errorCode %s", tc.path, tc.query, p, tc.code)
		}
	}

	// Login as Co-WIN clients do: the OTP goes back as its SHA-256 in hex,
	// and the token works on the v1 API.
	const mobile = "9812345678"
	rec := env.call(t, http.MethodPost, "/api/v2/auth/public/generateOTP", `{"mobile":"`+mobile+`"}`, "")
	if rec.Code != 200 {
		t.Fatalf("generateOTP: %d %s", rec.Code, rec.Body)
	}
	spec.checkShape(t, http.MethodPost, "/api/v2/auth/public/generateOTP", 200, rec.Body.Bytes())
	var gen struct{ TxnID string }
	json.Unmarshal(rec.Body.Bytes(), &gen)
	body := fmt.Sprintf(`{"otp":%q,"txnId":%q}`, sha256Hex(env.c.LastOTP(t, mobile)), gen.TxnID)
	rec = env.call(t, http.MethodPost, "/api/v2/auth/public/confirmOTP", body, "")
	if rec.Code != 200 {
		t.Fatalf("confirmOTP: %d %s", rec.Code, rec.Body)
	}
	spec.checkShape(t, http.MethodPost, "/api/v2/auth/public/confirmOTP", 200, rec.Body.Bytes())
	var conf struct{ Token string }
	json.Unmarshal(rec.Body.Bytes(), &conf)
	if rec := env.call(t, http.MethodGet, "/api/v1/beneficiaries", "", conf.Token); rec.Code != 200 {
		t.Fatalf("Co-WIN token on /api/v1/beneficiaries: %d %s", rec.Code, rec.Body)
	}
	// The same OTP cannot be used twice.
	rec = env.call(t, http.MethodPost, "/api/v2/auth/public/confirmOTP", body, "")
	if rec.Code != 401 {
		t.Fatalf("confirmOTP again: %d %s", rec.Code, rec.Body)
	}
	spec.checkShape(t, http.MethodPost, "/api/v2/auth/public/confirmOTP", 401, rec.Body.Bytes())
	rec = env.call(t, http.MethodPost, "/api/v2/auth/public/generateOTP", `{}`, "")
	if rec.Code != 400 {
		t.Fatalf("generateOTP without mobile: %d", rec.Code)
	}
}
