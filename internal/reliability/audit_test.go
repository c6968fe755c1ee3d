package reliability

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/pgtest"
	"github.com/vaxcert/vaxcert/store/postgres"
	"github.com/vaxcert/vaxcert/store/sqlite"
)

// auditBackend is a store whose audit_log an attacker with database access
// edits directly.
type auditBackend struct {
	store interface {
		audit.Store
		Close() error
	}
	exec    func(t *testing.T, sql string) error // raw SQL, as the attacker
	cliArgs []string                             // how `vaxcert audit verify` reaches it
	// dropTriggers removes the append-only triggers, as an attacker with
	// owner rights on the database can.
	dropTriggers []string
}

func openSQLiteAudit(t *testing.T) *auditBackend {
	dir := t.TempDir()
	path := filepath.Join(dir, "vaxcert.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return &auditBackend{
		store: st,
		exec: func(t *testing.T, q string) error {
			_, err := raw.Exec(q)
			return err
		},
		cliArgs:      []string{"--data", dir},
		dropTriggers: []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"},
	}
}

func openPostgresAudit(t *testing.T) *auditBackend {
	url := pgtest.URL(t)
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &auditBackend{
		store: st,
		exec: func(t *testing.T, q string) error {
			_, err := conn.Exec(context.Background(), q)
			return err
		},
		cliArgs:      []string{"--data", t.TempDir(), "--db", url},
		dropTriggers: []string{"DROP TRIGGER audit_log_append_only ON audit_log"},
	}
}

// tampering is one attack on a ten-entry log and the entry `vaxcert audit
// verify` must name as the first broken one.
type tampering struct {
	name   string
	attack func(t *testing.T, b *auditBackend)
	first  int64
	why    string // a phrase of the error
}

func mustExec(t *testing.T, b *auditBackend, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if err := b.exec(t, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

var tamperings = []tampering{
	{name: "an entry's detail altered", first: 5, why: "altered", attack: func(t *testing.T, b *auditBackend) {
		mustExec(t, b, `UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 5`)
	}},
	{name: "an entry's actor altered", first: 3, why: "altered", attack: func(t *testing.T, b *auditBackend) {
		mustExec(t, b, `UPDATE audit_log SET actor = 'user:someone-else' WHERE seq = 3`)
	}},
	{name: "an entry altered and its own hash recomputed", first: 6, why: "previous-hash", attack: func(t *testing.T, b *auditBackend) {
		page, err := b.store.ListAudit(context.Background(), 4, 1)
		if err != nil || len(page) != 1 {
			t.Fatalf("read entry 5: %v", err)
		}
		e := page[0]
		e.Subject = "a different certificate"
		mustExec(t, b, fmt.Sprintf(`UPDATE audit_log SET subject = '%s', hash = '%s' WHERE seq = 5`, e.Subject, audit.Hash(e)))
	}},
	{name: "an entry deleted", first: 6, why: "missing", attack: func(t *testing.T, b *auditBackend) {
		mustExec(t, b, `DELETE FROM audit_log WHERE seq = 5`)
	}},
	{name: "the first entry deleted", first: 2, why: "missing", attack: func(t *testing.T, b *auditBackend) {
		mustExec(t, b, `DELETE FROM audit_log WHERE seq = 1`)
	}},
	{name: "an entry deleted and the rest renumbered", first: 5, why: "previous-hash", attack: func(t *testing.T, b *auditBackend) {
		mustExec(t, b, `DELETE FROM audit_log WHERE seq = 5`)
		for seq := 6; seq <= 10; seq++ {
			mustExec(t, b, fmt.Sprintf(`UPDATE audit_log SET seq = %d WHERE seq = %d`, seq-1, seq))
		}
	}},
	{name: "two entries swapped", first: 4, why: "previous-hash", attack: func(t *testing.T, b *auditBackend) {
		mustExec(t, b,
			`UPDATE audit_log SET seq = -4 WHERE seq = 4`,
			`UPDATE audit_log SET seq = 4 WHERE seq = 5`,
			`UPDATE audit_log SET seq = 5 WHERE seq = -4`)
	}},
	{name: "a forged entry appended", first: 11, why: "previous-hash", attack: func(t *testing.T, b *auditBackend) {
		page, err := b.store.ListAudit(context.Background(), 9, 1)
		if err != nil || len(page) != 1 {
			t.Fatalf("read entry 10: %v", err)
		}
		forged := page[0]
		forged.Seq, forged.Action, forged.PrevHash = 11, "certificate.revoked", strings.Repeat("0", 64)
		forged.Hash = audit.Hash(forged)
		at := "'" + forged.At.Format(time.RFC3339Nano) + "'"
		if _, ok := b.store.(*sqlite.Store); ok {
			at = fmt.Sprint(forged.At.UnixMicro())
		}
		mustExec(t, b, fmt.Sprintf(`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
			VALUES (11, %s, '%s', '%s', '%s', '', '%s', '%s')`, at, forged.Actor, forged.Action, forged.Subject, forged.PrevHash, forged.Hash))
	}},
}

// TestAuditTamperEvidence edits the audit log directly in the database, as
// an attacker with database access would (the append-only triggers dropped
// first), on both stores, and checks that `vaxcert audit verify` names the
// first broken entry and exits non-zero.
func TestAuditTamperEvidence(t *testing.T) {
	vaxcert := binary(t, "vaxcert")
	for _, backend := range []struct {
		name string
		open func(t *testing.T) *auditBackend
	}{{"sqlite", openSQLiteAudit}, {"postgres", openPostgresAudit}} {
		t.Run(backend.name, func(t *testing.T) {
			for i, tc := range tamperings {
				t.Run(tc.name, func(t *testing.T) {
					b := backend.open(t)
					ctx := context.Background()
					actions := []string{"key.generated", "certificate.issued", "certificate.issued", "certificate.corrected",
						"certificate.issued", "certificate.revoked", "key.rotated", "certificate.issued", "certificate.issued", "key.retired"}
					for i, action := range actions {
						if _, err := b.store.AppendAudit(ctx, audit.Entry{At: time.Now(), Actor: "user:vaccinator-1",
							Action: action, Subject: fmt.Sprintf("cert-%d", i+1), Detail: "reliability test"}); err != nil {
							t.Fatal(err)
						}
					}
					// The control, once per store: the untouched log is intact.
					if i == 0 {
						out, code := runVaxcert(t, vaxcert, append([]string{"audit"}, append(b.cliArgs, "verify")...)...)
						if code != 0 || !strings.Contains(out, "intact: 10 entries") {
							t.Fatalf("before tampering: exit %d, %s", code, out)
						}
					} else if _, err := audit.Verify(ctx, b.store); err != nil {
						t.Fatalf("before tampering: %v", err)
					}

					// The database refuses edits while the triggers stand.
					if err := b.exec(t, `UPDATE audit_log SET detail = 'x' WHERE seq = 2`); err == nil {
						t.Fatal("UPDATE of audit_log succeeded with the append-only trigger in place")
					}
					if err := b.exec(t, `DELETE FROM audit_log WHERE seq = 2`); err == nil {
						t.Fatal("DELETE from audit_log succeeded with the append-only trigger in place")
					}

					mustExec(t, b, b.dropTriggers...)
					tc.attack(t, b)

					_, err := audit.Verify(ctx, b.store)
					wantEntry := fmt.Sprintf("audit entry %d:", tc.first)
					if err == nil || !strings.Contains(err.Error(), wantEntry) || !strings.Contains(err.Error(), tc.why) {
						t.Errorf("audit.Verify: %v; want it to name %q (%s)", err, wantEntry, tc.why)
					}
					out, code := runVaxcert(t, vaxcert, append([]string{"audit"}, append(b.cliArgs, "verify")...)...)
					if code == 0 {
						t.Errorf("vaxcert audit verify exited 0 after tampering:\n%s", out)
					}
					if !strings.Contains(out, wantEntry) {
						t.Errorf("vaxcert audit verify does not name the first broken entry (%s):\n%s", wantEntry, out)
					}
				})
			}
		})
	}
}

// runVaxcert runs the vaxcert binary with a clean VAXCERT_* environment and
// returns its combined output and exit code.
func runVaxcert(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("run vaxcert %v: %v", args, err)
	}
	return string(out), 0
}
