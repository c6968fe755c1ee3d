package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/vaxcert/vaxcert/internal/problem"
	"github.com/vaxcert/vaxcert/registration"
)

// TokenVerifier checks a session token and says who presented it.
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (registration.Principal, error)
}

type principalKey struct{}

// SessionCookie carries the session token for the web pages.
const SessionCookie = "vaxcert_session"

// require authenticates the request (Bearer token, or the session cookie) and
// admits it only if the caller has one of roles.
func (s *Server) require(roles ...registration.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := bearerToken(r)
			if token == "" {
				s.writeError(w, r, problem.New(problem.Unauthorized, "token-missing", "Log in first: send the session token as 'Authorization: Bearer <token>'."))
				return
			}
			p, err := s.auth.VerifyToken(r.Context(), token)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			allowed := false
			for _, role := range roles {
				allowed = allowed || p.Role == role
			}
			if !allowed {
				s.writeError(w, r, problem.New(problem.Forbidden, "role-forbidden", "This action needs the %s role.", joinRoles(roles)))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		})
	}
}

// principal is the caller admitted by require.
func principal(ctx context.Context) registration.Principal {
	p, _ := ctx.Value(principalKey{}).(registration.Principal)
	return p
}

func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func joinRoles(roles []registration.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, " or ")
}
