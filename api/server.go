// Package api is the HTTP edge of vaxcert: routing, authentication,
// problem+json errors and JSON encoding. It is the only package that knows
// HTTP status codes; the domain packages below it speak in problem.Kinds.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/internal/metrics"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/registration"
)

// MaxBodyBytes bounds every request body unless a route sets its own limit.
const MaxBodyBytes = 1 << 20

// KeySet publishes the certificate-signing public keys.
type KeySet interface {
	PublishedKeys(ctx context.Context) (keys.JWKS, error)
}

// Pinger reports whether a dependency (the store) answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config is what the server is built from; cmd/vaxcert wires it.
type Config struct {
	Logger *slog.Logger
	Keys   KeySet
	Store  Pinger
	Auth   TokenVerifier

	// Registration and booking (citizen.go); their routes are mounted when
	// both services are set.
	Registration   *registration.Service
	Booking        *booking.Service
	RateLimits     RateLimits // zero fields: DefaultRateLimits
	ClientIPHeader string     // e.g. X-Real-IP, set by a trusted reverse proxy; empty: the peer address
	// SearchCacheTTL keeps the public search and places answers this long
	// in memory (answercache.go); 0 computes every one.
	SearchCacheTTL time.Duration

	// Issuer records doses and serves certificates and CRLs (issuing.go);
	// its routes are mounted when it is set. DownloadSecret (at least 16
	// bytes) signs the grants of the public download by OTP, which also
	// needs Registration.
	Issuer         *issuer.Service
	DownloadSecret []byte

	// Checkpoint serves POST /api/v1/verify (verify.go) when set.
	Checkpoint CertificateVerifier

	// Audit serves the audit log's head to admins (audit.go) when set.
	Audit AuditHeads
}

// Server is the vaxcert HTTP API.
type Server struct {
	log    *slog.Logger
	keys   KeySet
	store  Pinger
	auth   TokenVerifier
	router chi.Router
}

// New builds the router.
func New(cfg Config) *Server {
	s := &Server{log: cfg.Logger, keys: cfg.Keys, store: cfg.Store, auth: cfg.Auth}
	if s.log == nil {
		s.log = slog.Default()
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.logRequests, s.recoverer, limitBody(MaxBodyBytes))
	s.mountWeb(r, cfg) // web pages, static assets, CSRF guard (web.go); adds middleware, so before any route
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "not-found", "There is no resource at this path.")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusMethodNotAllowed, "method-not-allowed", "This resource does not support "+r.Method+".")
	})

	r.Get("/healthz", s.healthz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
	r.Get("/readyz", s.readyz)
	r.Group(func(r chi.Router) {
		r.Use(allowAnyOrigin)
		r.Get("/.well-known/jwks.json", s.jwks)
	})
	s.mountCitizen(r, cfg)
	s.mountIssuing(r, cfg)
	s.mountVerify(r, cfg)
	s.mountAudit(r, cfg)
	s.router = r
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err)
		writeProblem(w, r, http.StatusServiceUnavailable, "store-unavailable", "The database is not answering.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// logRequests writes one structured line per request, carrying its request
// ID, and counts it in the metrics under its route pattern.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		elapsed := time.Since(start)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		metrics.HTTPRequests.WithLabelValues(route, r.Method, strconv.Itoa(ww.Status())).Inc()
		metrics.HTTPDuration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path), // never the query: it may carry personal data
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", elapsed))
	})
}

// largeBodyRoutes may take more than MaxBodyBytes: a photo or a PDF of a
// certificate to verify is larger than any JSON request.
var largeBodyRoutes = map[string]int64{"/api/v1/verify": MaxVerifyBytes}

func limitBody(defaultLimit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := defaultLimit
			if large, ok := largeBodyRoutes[r.URL.Path]; ok {
				n = large
			}
			if r.ContentLength > n {
				writeProblem(w, r, http.StatusRequestEntityTooLarge, "body-too-large", "The request body is too large.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// allowAnyOrigin marks public, credential-free resources as readable by any
// web origin, as SMART Health Cards requires for the key set.
func allowAnyOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		next.ServeHTTP(w, r)
	})
}
