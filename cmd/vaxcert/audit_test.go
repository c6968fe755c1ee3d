package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/pgtest"
	"github.com/vaxcert/vaxcert/store"
)

// auditDB is a database behind `vaxcert audit`, with a way round its
// append-only triggers for the attacker of the test.
type auditDB struct {
	args     []string                                                // --data and --db as the CLI gets them
	deleteAt func(t *testing.T, ctx context.Context, afterSeq int64) // deletes every entry after afterSeq
}

func sqliteAuditDB(t *testing.T) auditDB {
	data := t.TempDir()
	return auditDB{args: []string{"--data", data}, deleteAt: func(t *testing.T, ctx context.Context, afterSeq int64) {
		db, err := sql.Open("sqlite", filepath.Join(data, "vaxcert.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{`DROP TRIGGER audit_log_no_delete`, fmt.Sprintf(`DELETE FROM audit_log WHERE seq > %d`, afterSeq)} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}}
}

func postgresAuditDB(t *testing.T) auditDB {
	url := pgtest.URL(t)
	return auditDB{args: []string{"--data", t.TempDir(), "--db", url}, deleteAt: func(t *testing.T, ctx context.Context, afterSeq int64) {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		// The owner of the table may drop its triggers; PostgreSQL refuses
		// the DELETE (and TRUNCATE) otherwise.
		for _, q := range []string{`DROP TRIGGER audit_log_append_only ON audit_log`, fmt.Sprintf(`DELETE FROM audit_log WHERE seq > %d`, afterSeq)} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}}
}

// TestAuditHeadCatchesTruncation: a head printed by `vaxcert audit head` and
// kept elsewhere makes `audit verify` fail once the newest entries are
// deleted, although the chain left behind is intact.
func TestAuditHeadCatchesTruncation(t *testing.T) {
	for name, open := range map[string]func(*testing.T) auditDB{"sqlite": sqliteAuditDB, "postgres": postgresAuditDB} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			audited := func(args ...string) (int, string, string) {
				t.Helper()
				return run(t, append(append([]string{"audit"}, db.args...), args...)...)
			}
			if code, out, errOut := audited("head"); code != exitError || out != "" || !strings.Contains(errOut, "empty") {
				t.Fatalf("head of an empty log: exit %d, %q %q; want exit 1 saying it is empty", code, out, errOut)
			}
			appendEntries(t, db, 3)

			code, out, errOut := audited("head")
			fields := strings.Fields(out)
			if code != exitOK || len(fields) != 2 || strings.Count(out, "\n") != 1 {
				t.Fatalf("head: exit %d, %q %q; want one line SEQ:HASH TIME", code, out, errOut)
			}
			third, err := audit.ParseHead(fields[0])
			if err != nil || third.Seq != 3 {
				t.Fatalf("head %q: %+v, %v; want entry 3", fields[0], third, err)
			}
			if at, err := time.Parse(time.RFC3339Nano, fields[1]); err != nil || time.Since(at) > time.Minute {
				t.Fatalf("head's time %q: %v", fields[1], err)
			}
			code, out, _ = audited("head", "--json")
			var asJSON audit.Head
			if err := json.Unmarshal([]byte(out), &asJSON); code != exitOK || err != nil || asJSON.String() != third.String() || asJSON.At.IsZero() {
				t.Fatalf("head --json: exit %d, %q (%v); want %s with its time", code, out, err, third)
			}

			appendEntries(t, db, 3)
			if code, out, errOut := audited("verify", "--head", third.String()); code != exitOK || !strings.Contains(out, "6 entries, 1 recorded head(s) present") {
				t.Fatalf("verify with head 3 after 3 more entries: exit %d, %q %q", code, out, errOut)
			}
			// The heads file keeps every form this program writes a head in.
			_, sixth, _ := audited("head")
			_, sixthJSON, _ := audited("head", "--json")
			var h6 audit.Head
			json.Unmarshal([]byte(sixthJSON), &h6)
			heads := filepath.Join(t.TempDir(), "heads")
			os.WriteFile(heads, []byte("# recorded by the monitor\n"+third.String()+"\n\n"+sixth+sixthJSON+
				`{"time":"2026-11-23T10:00:00Z","level":"INFO","msg":"audit head","seq":6,"hash":"`+h6.Hash+"\"}\n"+
				`time=2026-11-23T10:00:00Z level=INFO msg="audit head" seq=6 hash=`+h6.Hash+"\n"), 0o600)
			if code, out, errOut := audited("verify", "--heads", heads); code != exitOK || !strings.Contains(out, "5 recorded head(s) present") {
				t.Fatalf("verify --heads: exit %d, %q %q", code, out, errOut)
			}

			// An attacker deletes entries 5 and 6: the rest is a valid chain.
			db.deleteAt(t, ctx, 4)
			if code, out, errOut := audited("verify"); code != exitOK || !strings.Contains(out, "intact: 4 entries") {
				t.Fatalf("verify without heads after the deletion: exit %d, %q %q", code, out, errOut)
			}
			code, out, errOut = audited("verify", "--heads", heads)
			if code != exitError || out != "" || strings.Count(errOut, "\n") != 1 ||
				!strings.Contains(errOut, "audit entry 6 is missing: the log ends at entry 4") {
				t.Fatalf("verify --heads after the deletion: exit %d, %q %q; want exit 1 and one line naming entry 6", code, out, errOut)
			}
			if code, _, errOut := audited("verify", "--head", third.String()); code != exitOK {
				t.Fatalf("head 3 is still there: %s", errOut)
			}
			wrong := fmt.Sprintf("3:%064x", 7)
			if code, _, errOut := audited("verify", "--head", wrong); code != exitError || !strings.Contains(errOut, "audit entry 3:") || !strings.Contains(errOut, wrong) {
				t.Fatalf("verify with a wrong hash for entry 3: exit %d, %q", code, errOut)
			}
		})
	}
}

// TestAuditHeadUsage: a head or heads file that cannot be read is a usage
// error (exit 2), never a verdict on the log.
func TestAuditHeadUsage(t *testing.T) {
	db := sqliteAuditDB(t)
	appendEntries(t, db, 1)
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad")
	os.WriteFile(badFile, []byte(fmt.Sprintf("1:%064x\nnot a head\n", 0)), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--head", "1"}, "SEQ:HASH"},
		{[]string{"--head", "x:" + strings.Repeat("a", 64)}, "SEQ:HASH"},
		{[]string{"--head", "0:" + strings.Repeat("a", 64)}, "SEQ:HASH"},
		{[]string{"--head", "1:abcd"}, "64 hexadecimal"},
		{[]string{"--head", "1:" + strings.Repeat("g", 64)}, "64 hexadecimal"},
		{[]string{"--heads", badFile}, badFile + ":2:"},
		{[]string{"--heads", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"--json"}, "not defined"},
	} {
		code, _, errOut := run(t, append(append([]string{"audit"}, db.args...), append([]string{"verify"}, tc.args...)...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("verify %v: exit %d, %q; want exit 2 mentioning %q", tc.args, code, errOut, tc.want)
		}
	}
}

func appendEntries(t *testing.T, db auditDB, n int) {
	t.Helper()
	ctx := context.Background()
	data, url := db.args[1], ""
	if len(db.args) == 4 {
		url = db.args[3]
	}
	st, err := store.Open(ctx, url, data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range n {
		if err := recordAudit(ctx, st, "cli:test", "test.entry", fmt.Sprint(i), ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServePublishesAuditHead: serve logs the head at start and every
// --audit-head-interval, and the logged lines are heads `audit verify`
// takes as they are.
func TestServePublishesAuditHead(t *testing.T) {
	data := t.TempDir()
	_, logs, stop := startServeLogs(t, "--data", data, "--audit-head-interval", "20ms")
	var lines []string
	for deadline := time.Now().Add(10 * time.Second); len(lines) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 audit head lines in 10 s:\n%s", logs)
		}
		lines = lines[:0]
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, `"msg":"audit head"`) {
				lines = append(lines, l)
			}
		}
	}
	stop()
	var first struct {
		Level string `json:"level"`
		Seq   int64  `json:"seq"`
		Hash  string `json:"hash"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Level != "INFO" || first.Seq != 1 || len(first.Hash) != 64 {
		t.Fatalf("first audit head line %q (%v); want INFO seq=1 (the generated key) and a hash", lines[0], err)
	}
	heads := filepath.Join(t.TempDir(), "heads")
	os.WriteFile(heads, []byte(strings.Join(lines, "\n")), 0o600)
	if code, out, errOut := run(t, "audit", "--data", data, "verify", "--heads", heads); code != exitOK || !strings.Contains(out, "present") {
		t.Fatalf("verify with the logged heads: exit %d, %q %q", code, out, errOut)
	}

	// 0 (here from the environment) publishes nothing.
	t.Setenv("VAXCERT_AUDIT_HEAD_INTERVAL", "0")
	_, logs, stop = startServeLogs(t, "--data", data)
	stop()
	if strings.Contains(logs.String(), "audit head") {
		t.Fatalf("--audit-head-interval 0 still logs the head:\n%s", logs)
	}
}
