package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
)

// jwks serves the public certificate-signing keys. Verifiers cache it; the
// ETag lets them revalidate cheaply after the max-age.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := s.keys.PublishedKeys(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := json.Marshal(set)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serveCacheable(w, r, "application/json", body, "public, max-age=300")
}

// serveCacheable writes body with a strong ETag and answers a matching
// If-None-Match with 304.
func serveCacheable(w http.ResponseWriter, r *http.Request, contentType string, body []byte, cacheControl string) {
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", cacheControl)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(body)
}
