package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/vaxcert/vaxcert/api"
	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/internal/config"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/store"
)

// common are the flags every command that touches data shares.
type common struct {
	data string
	db   string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", "./vaxcert-data", "data directory: SQLite database, keys, secrets, dev SMS outbox")
	fs.StringVar(&c.db, "db", "", "database: a postgres:// URL, or empty for SQLite in the data directory")
}

// parseFlags parses args, mapping -h and flag mistakes to a usage error (the
// flag package has already printed the details).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := config.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{}
		}
		if fs.Parsed() {
			return usageError{msg: err.Error()}
		}
		return usageError{}
	}
	return nil
}

func (c *common) ensureDataDir() error {
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}

func (c *common) openStore(ctx context.Context) (store.Store, error) {
	if err := c.ensureDataDir(); err != nil {
		return nil, err
	}
	return store.Open(ctx, c.db, c.data)
}

// openKeys opens the certificate-signing keystore. The passphrase is read only
// from the environment, so it never shows in a process listing.
func (c *common) openKeys() (*keys.FileStore, error) {
	if err := c.ensureDataDir(); err != nil {
		return nil, err
	}
	var pass []byte
	if p := os.Getenv("VAXCERT_KEY_PASSPHRASE"); p != "" {
		pass = []byte(p)
	}
	return keys.OpenFileStore(filepath.Join(c.data, "keys"), pass)
}

// cliActor names who ran an administrative command, for the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func recordAudit(ctx context.Context, s audit.Store, actor, action, subject, detail string) error {
	_, err := s.AppendAudit(ctx, audit.Entry{At: time.Now(), Actor: actor, Action: action, Subject: subject, Detail: detail})
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// newLogger logs structured lines; every line logged within a request
// carries its request_id.
func newLogger(w io.Writer, format string) *slog.Logger {
	var h slog.Handler = slog.NewJSONHandler(w, nil)
	if format == "text" {
		h = slog.NewTextHandler(w, nil)
	}
	return slog.New(api.WithRequestID(h))
}
