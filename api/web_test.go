package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/web"
)

// issuingKeys is a KeySet that also names the issuer URL, as the issuer
// service does.
type issuingKeys struct {
	fileKeys
	iss string
}

func (k issuingKeys) IssuerURL() string { return k.iss }

// fakeAuth admits the tokens it was given.
type fakeAuth map[string]registration.Principal

func (f fakeAuth) VerifyToken(_ context.Context, token string) (registration.Principal, error) {
	if p, ok := f[token]; ok {
		return p, nil
	}
	return registration.Principal{}, errCSRF // any problem will do: the pages treat it as logged out
}

func newWebTestServer(t *testing.T, iss string, auth TokenVerifier) *Server {
	t.Helper()
	st, ks := openStoreAndKeys(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(Config{Logger: quiet, Keys: issuingKeys{fileKeys{ks}, iss}, Store: st, Auth: auth})
}

func TestWebPagesRender(t *testing.T) {
	s := newWebTestServer(t, "https://vaxcert.example", nil)
	for _, page := range []string{"/", "/login", "/portal", "/desk", "/verify"} {
		for _, lang := range []string{"en", "hi"} {
			rec := do(s, "GET", page+"?lang="+lang, "")
			if rec.Code != http.StatusOK {
				t.Fatalf("%s %s: status %d: %s", page, lang, rec.Code, rec.Body)
			}
			body := rec.Body.String()
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: page is not in its language", page, lang)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s: weak CSP %q", page, csp)
			}
			if got := strings.Contains(csp, "wasm-unsafe-eval"); got != (page == "/verify") {
				t.Errorf("%s: wasm-unsafe-eval in CSP = %v", page, got)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s: missing nosniff or no-store", page)
			}
			// No inline script: every <script> either loads a file or is JSON data.
			for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
				if !strings.Contains(tag, ` src="/static/`) && !strings.Contains(tag, `type="application/json"`) {
					t.Errorf("%s: inline script %s", page, tag)
				}
			}
			if regexp.MustCompile(`\sstyle=|\son[a-z]+=`).MatchString(body) {
				t.Errorf("%s: inline style or event handler attribute", page)
			}
			m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindStringSubmatch(body)
			if m == nil || !validCSRFShape(m[1]) {
				t.Errorf("%s: no CSRF token in the page", page)
			}
			var strs map[string]string
			sm := regexp.MustCompile(`(?s)<script type="application/json" id="strings">(.*?)</script>`).FindStringSubmatch(body)
			if sm == nil || json.Unmarshal([]byte(sm[1]), &strs) != nil || strs["site.name"] == "" {
				t.Errorf("%s: the strings block is not JSON", page)
			}
		}
	}
}

func TestWebLanguageChoice(t *testing.T) {
	s := newWebTestServer(t, "", nil)
	tests := []struct {
		name, query, cookie, accept, want string
	}{
		{"default", "", "", "", "en"},
		{"accept hindi", "", "", "hi-IN,hi;q=0.9,en;q=0.8", "hi"},
		{"accept prefers english", "", "", "en-IN,hi;q=0.5", "en"},
		{"q ordering", "", "", "en;q=0.4,hi;q=0.7", "hi"},
		{"unknown only", "", "", "fr-FR,de", "en"},
		{"cookie beats header", "", "hi", "en", "hi"},
		{"query beats cookie", "en", "hi", "", "en"},
		{"bad query ignored", "xx", "hi", "", "hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/login"
			if tt.query != "" {
				path += "?lang=" + tt.query
			}
			h := []string{"Accept-Language", tt.accept}
			if tt.cookie != "" {
				h = append(h, "Cookie", langCookie+"="+tt.cookie)
			}
			rec := do(s, "GET", path, "", h...)
			if got := rec.Header().Get("Content-Language"); got != tt.want {
				t.Errorf("language %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWebStringsComplete(t *testing.T) {
	table, err := loadWebStrings()
	if err != nil {
		t.Fatal(err)
	}
	// Every key a script asks for with t("…") is in the table.
	keyRe := regexp.MustCompile(`\bt\("([a-z_]+\.[a-z_.]*[a-z_])"`)
	err = fs.WalkDir(web.Static, "static/js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(web.Static, p)
		if err != nil {
			return err
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(src), -1) {
			if _, ok := table["en"][m[1]]; !ok {
				t.Errorf("%s asks for string %q, which the table lacks", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, en := range table["en"] {
		if hi := table["hi"][key]; hi == en && !regexp.MustCompile(`^[\d{}\s.–+-]*$`).MatchString(en) {
			t.Errorf("%q is not translated: %q", key, hi)
		}
		if placeholders(en) != placeholders(table["hi"][key]) {
			t.Errorf("%q: English and Hindi use different placeholders", key)
		}
	}
}

func placeholders(s string) string {
	ps := regexp.MustCompile(`\{\w+\}`).FindAllString(s, -1)
	sortStrings(ps)
	return strings.Join(ps, ",")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestWebStaticAssets(t *testing.T) {
	s := newWebTestServer(t, "", nil)
	ui, err := newWebUI(s)
	if err != nil {
		t.Fatal(err)
	}
	cssURL, _ := ui.assets.url("css/site.css")

	rec := do(s, "GET", cssURL, "")
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("versioned asset: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	etag := rec.Header().Get("ETag")
	if rec := do(s, "GET", "/static/css/site.css", "", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", rec.Code)
	}
	if rec := do(s, "GET", "/static/css/site.css?v=old", ""); rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("an outdated version must not be cached for long")
	}

	// Compressed when the client accepts it, and the same bytes either way.
	plain := do(s, "GET", "/static/vendor/jsQR.js", "")
	zipped := do(s, "GET", "/static/vendor/jsQR.js", "", "Accept-Encoding", "gzip, deflate, br")
	if zipped.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("encodings: %q %q", zipped.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
	}
	if got := gunzipT(t, zipped.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) {
		t.Errorf("gzip and identity bodies differ")
	}

	// The verifier module: application/wasm, gzip or inflated on demand.
	wasmURL, _ := ui.assets.url(wasmAssetName)
	wz := do(s, "GET", wasmURL, "", "Accept-Encoding", "gzip")
	if wz.Code != 200 || wz.Header().Get("Content-Type") != "application/wasm" || wz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("wasm: %d %v", wz.Code, wz.Header())
	}
	raw := do(s, "GET", wasmURL, "", "Accept-Encoding", "gzip;q=0")
	if raw.Header().Get("Content-Encoding") != "" || !bytes.HasPrefix(raw.Body.Bytes(), []byte("\x00asm")) {
		t.Fatalf("identity wasm is not a wasm module")
	}

	// The Devanagari faces the stylesheet names are served, with their
	// licence, and the pages' policies let them load.
	css := do(s, "GET", "/static/css/site.css", "").Body.String()
	for _, font := range regexp.MustCompile(`url\("(/static/fonts/[^"]+)"\)`).FindAllStringSubmatch(css, -1) {
		rec := do(s, "GET", font[1], "")
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "font/ttf" || !bytes.HasPrefix(rec.Body.Bytes(), []byte{0, 1, 0, 0}) {
			t.Errorf("%s: %d %q", font[1], rec.Code, rec.Header().Get("Content-Type"))
		}
		if rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s is not a versioned URL: %q", font[1], rec.Header().Get("Cache-Control"))
		}
	}
	if !strings.Contains(css, "/static/fonts/") {
		t.Error("the stylesheet names no web font")
	}
	if rec := do(s, "GET", "/static/fonts/OFL.txt", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), "SIL OPEN FONT LICENSE") {
		t.Errorf("font licence: %d", rec.Code)
	}
	for _, page := range []string{"/", "/verify"} {
		if csp := do(s, "GET", page, "").Header().Get("Content-Security-Policy"); !strings.Contains(csp, "font-src 'self'") {
			t.Errorf("%s: fonts blocked by %q", page, csp)
		}
	}

	for _, p := range []string{"/static/nope.js", "/static/../go.mod", "/static/"} {
		if rec := do(s, "GET", p, ""); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
}

func gunzipT(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWebServiceWorker(t *testing.T) {
	s := newWebTestServer(t, "", nil)
	rec := do(s, "GET", "/verify/sw.js", "")
	if rec.Code != 200 || rec.Header().Get("Service-Worker-Allowed") != "/verify" {
		t.Fatalf("sw.js: %d %v", rec.Code, rec.Header())
	}
	body := rec.Body.String()
	if strings.Contains(body, "__PRECACHE__") || strings.Contains(body, "__VERSION__") {
		t.Fatal("placeholders left in the service worker")
	}
	m := regexp.MustCompile(`const PRECACHE = (\[.*\]);`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no precache list")
	}
	var urls []string
	if err := json.Unmarshal([]byte(m[1]), &urls); err != nil {
		t.Fatal(err)
	}
	// Everything the verify page loads is in the list, so it loads offline:
	// what the page names, and the fonts its stylesheet names.
	page := do(s, "GET", "/verify", "").Body.String()
	refs := regexp.MustCompile(`(?:src|href|data-wasm)="(/static/[^"]+)"`).FindAllStringSubmatch(page, -1)
	css := do(s, "GET", "/static/css/site.css", "").Body.String()
	fonts := regexp.MustCompile(`url\("(/static/[^"]+)"\)`).FindAllStringSubmatch(css, -1)
	if len(fonts) == 0 {
		t.Error("the stylesheet names no font")
	}
	for _, ref := range append(refs, fonts...) {
		found := false
		for _, u := range urls {
			found = found || u == strings.ReplaceAll(ref[1], "&amp;", "&")
		}
		if !found {
			t.Errorf("/verify loads %s, which the service worker does not cache", ref[1])
		}
	}
	for _, u := range urls {
		if rec := do(s, "GET", u, ""); rec.Code != 200 {
			t.Errorf("precached %s: %d", u, rec.Code)
		}
	}
}

func TestWebTrustBundle(t *testing.T) {
	t.Run("https issuer", func(t *testing.T) {
		s := newWebTestServer(t, "https://vaxcert.example", nil)
		rec := do(s, "GET", "/verify/trust.json", "")
		if rec.Code != 200 || rec.Header().Get("ETag") == "" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		var doc struct {
			Issuers []json.RawMessage `json:"issuers"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || len(doc.Issuers) != 1 {
			t.Fatalf("bundle %s: %v", rec.Body, err)
		}
		is, err := trust.ParseIssuerFile(doc.Issuers[0])
		if err != nil {
			t.Fatal(err)
		}
		var jwks keys.JWKS
		json.Unmarshal(do(s, "GET", "/.well-known/jwks.json", "").Body.Bytes(), &jwks)
		if is.Iss != "https://vaxcert.example" || len(is.Keys) != len(jwks.Keys) || is.Key(jwks.Keys[0].KID) == nil {
			t.Fatalf("bundle issuer %+v does not match the published keys %+v", is, jwks)
		}
		again := do(s, "GET", "/verify/trust.json", "", "If-None-Match", rec.Header().Get("ETag"))
		if again.Code != http.StatusNotModified {
			t.Errorf("unchanged bundle: %d", again.Code)
		}
	})
	t.Run("development issuer", func(t *testing.T) {
		s := newWebTestServer(t, "http://127.0.0.1:8080", nil)
		rec := do(s, "GET", "/verify/trust.json", "")
		var doc trustBundleDoc
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || len(doc.Issuers) != 0 || doc.Notice == "" {
			t.Fatalf("an http issuer must be trusted by no one, and say so: %s", rec.Body)
		}
	})
}

func TestWebCSRFGuard(t *testing.T) {
	auth := fakeAuth{"tok": {AccountID: "a1", Role: registration.Citizen}}
	s := newWebTestServer(t, "", auth)
	page := do(s, "GET", "/portal", "", "Cookie", SessionCookie+"=tok")
	var token string
	for _, c := range page.Result().Cookies() {
		if c.Name == csrfCookieSecure { // httptest requests are for example.com: not loopback
			token = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("CSRF cookie attributes: %+v", c)
			}
		}
	}
	if token == "" {
		t.Fatal("the page set no CSRF cookie")
	}
	session := SessionCookie + "=tok"
	both := session + "; " + csrfCookieSecure + "=" + token
	other := strings.Repeat("A", 43)
	tests := []struct {
		name   string
		header []string
		body   string
		want   int // 403 when the guard refuses; 204 when logout runs
	}{
		{"no token", []string{"Cookie", both}, "", 403},
		{"right header", []string{"Cookie", both, csrfHeader, token}, "", 204},
		{"wrong header", []string{"Cookie", both, csrfHeader, other}, "", 403},
		{"no cookie to compare", []string{"Cookie", session, csrfHeader, token}, "", 403},
		{"form field", []string{"Cookie", both, "Content-Type", "application/x-www-form-urlencoded"}, csrfField + "=" + token, 303},
		{"cross-site", []string{"Cookie", both, csrfHeader, token, "Sec-Fetch-Site", "cross-site"}, "", 403},
		{"same-site sibling", []string{"Cookie", both, csrfHeader, token, "Sec-Fetch-Site", "same-site"}, "", 403},
		{"same-origin", []string{"Cookie", both, csrfHeader, token, "Sec-Fetch-Site", "same-origin"}, "", 204},
		// Passed by the guard (the route then answers 405: no POST there).
		{"bearer client", []string{"Cookie", both, "Authorization", "Bearer tok"}, "", 405},
		{"no session", []string{}, "", 204},
		{"no session, from another site", []string{"Sec-Fetch-Site", "cross-site"}, "", 403},
		{"no session, same origin", []string{"Sec-Fetch-Site", "same-origin"}, "", 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/web/logout"
			if tt.want == 405 {
				path = "/healthz"
			}
			rec := do(s, "POST", path, tt.body, tt.header...)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want == 403 {
				if p := decodeProblem(t, rec); p.Type != problemTypeBase+"csrf-token-invalid" {
					t.Errorf("problem %s", p.Type)
				}
			}
		})
	}
	// The guard covers the API too, whoever's route it is.
	rec := do(s, "POST", "/healthz", "", "Cookie", both)
	if rec.Code != 403 {
		t.Errorf("cookie POST to an API route without a token: %d", rec.Code)
	}
	// A cross-site POST that would log the browser in (login CSRF).
	rec = do(s, "POST", "/api/v1/auth/otp/confirm", `{"txn_id":"x","otp":"123456"}`, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain")
	if rec.Code != 403 {
		t.Errorf("cross-site login: %d", rec.Code)
	}
}

func TestWebLoginNeedsCSRF(t *testing.T) {
	s := newWebTestServer(t, "", fakeAuth{})
	rec := do(s, "POST", "/web/session", `{"txn_id":"x","otp":"123456"}`, "Content-Type", "application/json")
	if rec.Code != 403 {
		t.Fatalf("login without a CSRF token: %d", rec.Code)
	}
}

func TestWebPrincipalInNav(t *testing.T) {
	auth := fakeAuth{"v": {AccountID: "a2", Role: registration.Vaccinator}}
	s := newWebTestServer(t, "", auth)
	body := do(s, "GET", "/", "", "Cookie", SessionCookie+"=v").Body.String()
	if !strings.Contains(body, `href="/desk"`) || !strings.Contains(body, `action="/web/logout"`) {
		t.Errorf("a vaccinator's page offers the desk and logout")
	}
	body = do(s, "GET", "/", "", "Cookie", SessionCookie+"=forged").Body.String()
	if strings.Contains(body, `action="/web/logout"`) || !strings.Contains(body, `href="/login"`) {
		t.Errorf("an invalid session must look logged out")
	}
}

func TestCookieSecure(t *testing.T) {
	tests := []struct {
		host, proto string
		tls         bool
		want        bool
	}{
		{"127.0.0.1:8080", "", false, false},
		{"localhost:8080", "", false, false},
		{"[::1]:8080", "", false, false},
		{"vaxcert.example", "", false, true},
		{"10.0.0.5:8080", "", false, true},
		{"127.0.0.1:8080", "https", false, true},
		{"127.0.0.1:8443", "", true, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = tt.host
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := cookieSecure(r); got != tt.want {
			t.Errorf("cookieSecure(%s, %q, tls=%v) = %v", tt.host, tt.proto, tt.tls, got)
		}
	}
}

func TestLandingPage(t *testing.T) {
	tests := []struct {
		role       registration.Role
		next, want string
	}{
		{registration.Citizen, "", "/portal"},
		{registration.Vaccinator, "", "/desk"},
		{registration.Admin, "", "/desk"},
		{registration.Citizen, "/verify?x=1", "/verify?x=1"},
		{registration.Citizen, "//evil.example/", "/portal"},
		{registration.Citizen, "https://evil.example/", "/portal"},
		{registration.Citizen, "/\\evil.example", "/portal"},
	}
	for _, tt := range tests {
		if got := landingPage(tt.role, tt.next); got != tt.want {
			t.Errorf("landingPage(%s, %q) = %q, want %q", tt.role, tt.next, got, tt.want)
		}
	}
}

func FuzzPreferredLang(f *testing.F) {
	for _, s := range []string{"", "hi", "en-IN,hi;q=0.9", "hi;q=abc", "*;q=0", "hi;q=1e400", ",,,;;;", "hi;q=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if got := preferredLang(header); !knownLang(got) {
			t.Fatalf("preferredLang(%q) = %q", header, got)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", header)
		acceptsGzip(r)
	})
}

// BenchmarkWebPage renders a page shell as a browser asks for it.
func BenchmarkWebPage(b *testing.B) {
	for _, page := range []string{"/portal", "/verify"} {
		b.Run(page, func(b *testing.B) {
			s := newWebTestServer(&testing.T{}, "https://vaxcert.example", nil)
			req := httptest.NewRequest("GET", page, nil)
			req.Header.Set("Accept-Language", "hi-IN,hi;q=0.9,en;q=0.8")
			var size int
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}

// BenchmarkTrustBundle builds /verify/trust.json (two in-process calls:
// the JWKS and, with an issuer, each key's CRL).
func BenchmarkTrustBundle(b *testing.B) {
	s := newWebTestServer(&testing.T{}, "https://vaxcert.example", nil)
	req := httptest.NewRequest("GET", "/verify/trust.json", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
