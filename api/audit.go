package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/registration"
)

// AuditHeads reads the audit log's head.
type AuditHeads interface {
	AuditHead(ctx context.Context) (audit.Head, error)
}

// mountAudit adds GET /api/v1/admin/audit/head for admins, when the store and the
// token verifier are configured: a monitor outside the database's reach can
// record the head and later check with `vaxcert audit verify --head` that the
// newest entries were not deleted.
func (s *Server) mountAudit(r chi.Router, cfg Config) {
	if cfg.Audit == nil || s.auth == nil {
		return
	}
	r.With(s.require(registration.Admin)).Get("/api/v1/admin/audit/head", func(w http.ResponseWriter, r *http.Request) {
		h, err := cfg.Audit.AuditHead(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, h)
	})
}
