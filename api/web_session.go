package api

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
)

// Cookies of the web pages. The session cookie (SessionCookie, auth.go) holds
// the API session token; page scripts never see it (HttpOnly), so a script
// injected into a page could not carry it away.
const (
	csrfCookie       = "vaxcert_csrf"
	csrfCookieSecure = "__Host-vaxcert_csrf" // the prefix forbids Domain, so a sibling host cannot plant it
	csrfHeader       = "X-CSRF-Token"
	csrfField        = "csrf_token"
	langCookie       = "vaxcert_lang"
)

// cookieSecure says whether cookies get the Secure attribute: always, except
// for plain HTTP to a loopback address, which is how a developer runs the
// service (`vaxcert serve` on 127.0.0.1:8080). Anywhere else the service
// must sit behind TLS, or the browser will not send the cookies back.
func cookieSecure(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}

func csrfCookieName(r *http.Request) string {
	if cookieSecure(r) {
		return csrfCookieSecure
	}
	return csrfCookie
}

// csrfToken returns the caller's CSRF token, issuing one in a cookie if it
// has none. Pages put it in a <meta> tag and in forms; a state-changing
// request must send it back (double submit): another site can make the
// browser send our cookies, but cannot read them to copy the value.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookieName(r)); err == nil && validCSRFShape(c.Value) {
		return c.Value
	}
	return issueCSRF(w, r)
}

func issueCSRF(w http.ResponseWriter, r *http.Request) string {
	token := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	http.SetCookie(w, &http.Cookie{Name: csrfCookieName(r), Value: token, Path: "/",
		HttpOnly: true, Secure: cookieSecure(r), SameSite: http.SameSiteStrictMode})
	return token
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}

func validCSRFShape(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// csrfValid checks a state-changing request: it must come from one of our
// own pages (Sec-Fetch-Site, where the browser sends it) and carry the CSRF
// cookie's value in the X-CSRF-Token header or the csrf_token form field.
func csrfValid(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin":
	default:
		return false
	}
	c, err := r.Cookie(csrfCookieName(r))
	if err != nil || !validCSRFShape(c.Value) {
		return false
	}
	sent := r.Header.Get(csrfHeader)
	if sent == "" {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			sent = r.PostFormValue(csrfField)
		}
	}
	return subtle.ConstantTimeCompare([]byte(sent), []byte(c.Value)) == 1
}

// csrfGuard protects every state-changing request that a browser
// authenticates with the session cookie. Requests with an Authorization
// header (API clients) pass. A browser's request from another site is
// refused even without the cookie: it could log the victim into the
// attacker's account (the API's OTP confirm sets the cookie), and no page
// of another site has a reason to change anything here. Otherwise a request
// without the cookie has nothing to ride on and passes; the web login,
// which sets the cookie, checks the token itself.
func (s *Server) csrfGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			s.writeError(w, r, errCSRF)
			return
		}
		if _, err := r.Cookie(SessionCookie); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		if !csrfValid(r) {
			s.writeError(w, r, errCSRF)
			return
		}
		next.ServeHTTP(w, r)
	})
}

var errCSRF = problem.New(problem.Forbidden, "csrf-token-invalid",
	"This request did not come from a current page of this site. Reload the page and try again.")

// webPrincipal is the caller of a page, from the session cookie, if valid.
func (s *Server) webPrincipal(r *http.Request) (registration.Principal, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || s.auth == nil {
		return registration.Principal{}, false
	}
	p, err := s.auth.VerifyToken(r.Context(), c.Value)
	return p, err == nil
}

// otpConfirmPath is the API route the web login goes through.
const otpConfirmPath = "/api/v1/auth/otp/confirm"

// login exchanges an OTP for a session, as POST /api/v1/auth/otp/confirm
// does (it is that very handler, called in-process, so rate limits, attempt
// caps and audit are the API's own), and moves the token into the HttpOnly
// session cookie instead of handing it to page script.
func (ui *webUI) login(w http.ResponseWriter, r *http.Request) {
	s := ui.s
	if !csrfValid(r) {
		s.writeError(w, r, errCSRF)
		return
	}
	var in struct {
		TxnID string `json:"txn_id"`
		OTP   string `json:"otp"`
		Next  string `json:"next,omitempty"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.auth == nil {
		s.writeError(w, r, problem.New(problem.Unavailable, "login-unavailable", "Logging in is not available on this server."))
		return
	}
	body, _ := json.Marshal(struct {
		TxnID string `json:"txn_id"`
		OTP   string `json:"otp"`
	}{in.TxnID, in.OTP})
	status, header, resp := s.internalCall(r, http.MethodPost, otpConfirmPath, body)
	if status != http.StatusOK {
		// The API's own answer (a problem document, Retry-After and all).
		for _, k := range []string{"Content-Type", "Retry-After"} {
			if v := header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write(resp)
		return
	}
	var session struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(resp, &session); err != nil || session.Token == "" {
		s.writeError(w, r, fmt.Errorf("otp confirm answered without a token: %v", err))
		return
	}
	p, err := s.auth.VerifyToken(r.Context(), session.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	secure := cookieSecure(r)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: session.Token, Path: "/", Expires: session.ExpiresAt,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	issueCSRF(w, r) // a new session gets a new token
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"role": p.Role, "expires_at": session.ExpiresAt, "next": landingPage(p.Role, in.Next)})
}

// landingPage is where a login continues: the page it was asked for if
// that is a local path, else the role's home.
func landingPage(role registration.Role, next string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	if role == registration.Vaccinator || role == registration.Admin {
		return "/desk"
	}
	return "/portal"
}

// logout clears the session cookie. The token itself expires on its own
// (15 minutes); the cookie was its only copy in the browser.
func (ui *webUI) logout(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(SessionCookie); err == nil && !csrfValid(r) {
		ui.s.writeError(w, r, errCSRF)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: cookieSecure(r), SameSite: http.SameSiteStrictMode})
	issueCSRF(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// internalCall serves one API request in-process through the full router,
// as the caller (same address, agent and request ID), and returns the
// answer. Its cookies are not passed on: the API sees a fresh client.
func (s *Server) internalCall(r *http.Request, method, path string, body []byte) (int, http.Header, []byte) {
	sub, err := http.NewRequestWithContext(r.Context(), method, path, bytes.NewReader(body))
	if err != nil {
		return http.StatusInternalServerError, http.Header{}, nil
	}
	sub.RemoteAddr, sub.Host, sub.TLS = r.RemoteAddr, r.Host, r.TLS
	for _, k := range []string{"User-Agent", "X-Forwarded-For", "X-Real-Ip", "Accept-Language"} {
		if v := r.Header.Get(k); v != "" {
			sub.Header.Set(k, v)
		}
	}
	if id := middleware.GetReqID(r.Context()); id != "" {
		sub.Header.Set(middleware.RequestIDHeader, id)
	}
	sub.Header.Set("Content-Type", "application/json")
	rec := &captureWriter{header: http.Header{}}
	s.router.ServeHTTP(rec, sub)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.status, rec.header, rec.body.Bytes()
}

// captureWriter records an in-process response (bounded: API answers to the
// calls made this way are small).
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

const maxCapture = 1 << 20

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len()+len(b) > maxCapture {
		return 0, io.ErrShortWrite
	}
	return c.body.Write(b)
}
