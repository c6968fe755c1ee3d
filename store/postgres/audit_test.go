package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/pgtest"
	"github.com/vaxcert/vaxcert/store/postgres"
)

// TestAuditLogRefusesTruncate: the row triggers do not fire on TRUNCATE, so a
// statement trigger must refuse it.
func TestAuditLogRefusesTruncate(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AppendAudit(ctx, audit.Entry{At: time.Now(), Actor: "system", Action: "test", Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{"TRUNCATE audit_log", "DELETE FROM audit_log", "UPDATE audit_log SET actor = 'x'"} {
		if _, err := conn.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", stmt, err)
		}
	}
}
