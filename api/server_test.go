package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/store/sqlite"
)

type fileKeys struct{ fs *keys.FileStore }

func (f fileKeys) PublishedKeys(context.Context) (keys.JWKS, error) {
	return f.fs.JWKS(func(string) int { return 0 }), nil
}

// openStoreAndKeys opens a fresh SQLite store and a keystore with one active
// key, closed when the test ends.
func openStoreAndKeys(t *testing.T) (*sqlite.Store, *keys.FileStore) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ks, err := keys.OpenFileStore(filepath.Join(dir, "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		t.Fatal(err)
	}
	return st, ks
}

func newTestServer(t *testing.T) (*Server, *sqlite.Store) {
	t.Helper()
	st, ks := openStoreAndKeys(t)
	return New(Config{Keys: fileKeys{ks}, Store: st}), st
}

func do(s http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) problemDoc {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, body %s", ct, rec.Body)
	}
	var p problemDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != rec.Code || !strings.HasPrefix(p.Type, problemTypeBase) || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem %+v for status %d", p, rec.Code)
	}
	return p
}

func TestProblems(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		method, path string
		status       int
		slug         string
	}{
		{"GET", "/no/such/route", 404, "not-found"},
		{"DELETE", "/.well-known/jwks.json", 405, "method-not-allowed"},
		{"POST", "/healthz", 405, "method-not-allowed"},
	}
	for _, tt := range tests {
		rec := do(s, tt.method, tt.path, "")
		if rec.Code != tt.status {
			t.Fatalf("%s %s: %d", tt.method, tt.path, rec.Code)
		}
		if p := decodeProblem(t, rec); p.Type != problemTypeBase+tt.slug {
			t.Fatalf("%s %s: type %s", tt.method, tt.path, p.Type)
		}
	}
}

func TestJWKSCaching(t *testing.T) {
	s, _ := newTestServer(t)
	rec := do(s, "GET", "/.well-known/jwks.json", "")
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	etag := rec.Header().Get("ETag")
	if again := do(s, "GET", "/.well-known/jwks.json", "", "If-None-Match", etag); again.Code != http.StatusNotModified {
		t.Fatalf("revalidation: %d", again.Code)
	}
}

func TestReadiness(t *testing.T) {
	s, st := newTestServer(t)
	if rec := do(s, "GET", "/readyz", ""); rec.Code != 200 {
		t.Fatalf("ready: %d", rec.Code)
	}
	st.Close()
	rec := do(s, "GET", "/readyz", "")
	if rec.Code != 503 {
		t.Fatalf("closed store: %d", rec.Code)
	}
	decodeProblem(t, rec)
	if do(s, "GET", "/healthz", "").Code != 200 {
		t.Fatal("healthz must not depend on the store")
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	s, _ := newTestServer(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/x", nil)
	s.writeError(rec, req, errors.New(`pq: relation "secret_table" at /srv/vaxcert/store.go:42`))
	p := decodeProblem(t, rec)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret_table") || strings.Contains(rec.Body.String(), "store.go") {
		t.Fatalf("leaked: %d %+v", rec.Code, p)
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Mobile string `json:"mobile"`
	}
	s, _ := newTestServer(t)
	tests := []struct {
		name, body string
		status     int
	}{
		{"ok", `{"mobile":"9999999999"}`, 200},
		{"malformed", `{"mobile":`, 400},
		{"wrong type", `{"mobile":5}`, 400},
		{"unknown field", `{"mobile":"1","admin":true}`, 400},
		{"trailing data", `{"mobile":"1"} {}`, 400},
		{"too large", `{"mobile":"` + strings.Repeat("9", MaxBodyBytes) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := limitBody(MaxBodyBytes)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b body
				if err := decodeJSON(r, &b); err != nil {
					s.writeError(w, r, err)
					return
				}
				writeJSON(w, 200, b)
			}))
			req := httptest.NewRequest("POST", "/x", strings.NewReader(tt.body))
			req.ContentLength = -1 // make the limit apply while reading, as for a chunked body
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				decodeProblem(t, rec)
			}
		})
	}
}

func TestMetricsAndRequestIDLogging(t *testing.T) {
	var logs strings.Builder
	st, ks := openStoreAndKeys(t)
	s := New(Config{Keys: fileKeys{ks}, Store: st, Logger: slog.New(WithRequestID(slog.NewJSONHandler(&logs, nil)))})
	do(s, "GET", "/.well-known/jwks.json", "")
	do(s, "GET", "/no/such/thing", "")
	rec := do(s, "GET", "/metrics", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `vaxcert_http_requests_total{code="200",method="GET",route="/.well-known/jwks.json"}`) {
		t.Fatalf("metrics:\n%s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "/no/such/thing") {
		t.Fatal("raw paths must not become metric labels")
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, `"request_id":"`) {
			t.Fatalf("log line without request_id: %s", line)
		}
	}
}
