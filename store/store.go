// Package store opens the configured persistence backend: the embedded SQLite
// default or PostgreSQL. The domain packages declare the interfaces they need;
// store/sqlite and store/postgres implement all of them, and
// store/storetest holds the one conformance suite both must pass.
package store

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/vaxcert/vaxcert/audit"
	"github.com/vaxcert/vaxcert/booking"
	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/store/postgres"
	"github.com/vaxcert/vaxcert/store/sqlite"
)

// Store is everything the service persists.
type Store interface {
	Ping(ctx context.Context) error
	Close() error
	audit.Store
	registration.Store
	booking.Store
	booking.DoseHistory
	issuer.Store
}

var (
	_ Store = (*sqlite.Store)(nil)
	_ Store = (*postgres.Store)(nil)
)

// Open opens PostgreSQL when db is a postgres:// (or postgresql://) URL, and
// otherwise the SQLite file vaxcert.db in dataDir. Migrations are applied.
func Open(ctx context.Context, db, dataDir string) (Store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db)
	}
	path := db
	if path == "" {
		path = filepath.Join(dataDir, "vaxcert.db")
	}
	return sqlite.Open(ctx, path)
}

// Describe names the backend for logs without revealing credentials.
func Describe(db, dataDir string) string {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return "postgres"
	}
	if db == "" {
		db = filepath.Join(dataDir, "vaxcert.db")
	}
	return "sqlite " + db
}
