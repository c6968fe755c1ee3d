package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/store"
)

// FaultEnv names the test-only fault injection: VAXCERT_FAULT=crash-<step>
// (crash-after-pending, crash-after-sign, crash-after-issued) makes the
// process kill itself (SIGKILL) at that step of issuing a certificate. The
// crash-recovery integration test uses it; never set it in production.
const FaultEnv = "VAXCERT_FAULT"

// secretsDir holds the server's secrets (HMAC keys), next to the keys.
func secretsDir(c *common) string { return filepath.Join(c.data, "secrets") }

// newIssuer builds the issuer over an open store and key store.
func newIssuer(c *common, st store.Store, ks *keys.FileStore, iss string, log *slog.Logger) (*issuer.Service, error) {
	ridSecret, err := keys.LoadOrCreateSecret(secretsDir(c), "shc-rid")
	if err != nil {
		return nil, err
	}
	writers := 1 // SQLite has one writer
	if strings.HasPrefix(c.db, "postgres://") || strings.HasPrefix(c.db, "postgresql://") {
		writers = 4
	}
	return issuer.New(issuer.Config{
		Store: st, Keys: ks, IssuerURL: iss, RIDSecret: ridSecret, Log: log, Writers: writers, Fault: faultHook(log),
	})
}

// faultHook returns the test-only crash hook VAXCERT_FAULT asks for, or nil.
func faultHook(log *slog.Logger) func(string) {
	v := os.Getenv(FaultEnv)
	step, ok := strings.CutPrefix(v, "crash-")
	if v == "" || !ok {
		return nil
	}
	log.Warn("TEST-ONLY fault injection is on: the process will kill itself while issuing", "env", FaultEnv, "step", step)
	return func(at string) {
		if at != step {
			return
		}
		fmt.Fprintf(os.Stderr, "vaxcert: %s=%s: killing the process at step %s\n", FaultEnv, v, at)
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill() // SIGKILL: no deferred cleanup runs, as in a real crash
		}
		select {} // wait for the signal
	}
}
