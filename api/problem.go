package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// problemDoc is an RFC 9457 problem document.
type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// problemTypeBase prefixes every problem slug; the resulting URN is stable and
// documented in openapi.yaml.
const problemTypeBase = "urn:vaxcert:problem:"

var statusOf = map[problem.Kind]int{
	problem.Internal:     http.StatusInternalServerError,
	problem.Invalid:      http.StatusBadRequest,
	problem.Unauthorized: http.StatusUnauthorized,
	problem.Forbidden:    http.StatusForbidden,
	problem.NotFound:     http.StatusNotFound,
	problem.Conflict:     http.StatusConflict,
	problem.TooMany:      http.StatusTooManyRequests,
	problem.Unavailable:  http.StatusServiceUnavailable,
	problem.TooLarge:     http.StatusRequestEntityTooLarge,
}

// writeError answers with the problem err carries. Errors that are not
// *problem.Error are internal: logged in full, answered with a generic 500 so
// that SQL, file paths and stack traces never reach a client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := problem.As(err)
	if !ok {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			p = problem.New(problem.TooLarge, "body-too-large", "The request body is larger than %d bytes.", maxErr.Limit)
		} else {
			p = &problem.Error{Kind: problem.Internal, Slug: "internal", Detail: "Something went wrong on our side; it has been logged.", Err: err}
		}
	}
	status := statusOf[p.Kind]
	switch {
	case status == http.StatusServiceUnavailable:
		// An outage answers every request with 503: one warning each, not an error flood.
		s.log.WarnContext(r.Context(), "request failed: unavailable", "err", err)
	case status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "err", err, "status", status)
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(p.RetryAfter.Seconds()+0.999)))
	}
	writeProblem(w, r, status, p.Slug, p.Detail)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problemDoc{
		Type:      problemTypeBase + slug,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Instance:  r.URL.Path,
		RequestID: middleware.GetReqID(r.Context()),
	})
}

// decodeJSON reads one JSON object from the request body into v, refusing
// unknown fields and trailing data, within the body limit.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &maxErr):
			return err
		case errors.As(err, &typeErr):
			return problem.Invalidf("malformed-json", "Field %q must be a %s.", typeErr.Field, typeErr.Type)
		default:
			return problem.Invalidf("malformed-json", "The request body is not valid JSON: %s.", err.Error())
		}
	}
	if dec.More() {
		return problem.Invalidf("malformed-json", "The request body has data after the JSON object.")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}

// recoverer turns a panic into a logged 500 problem.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
