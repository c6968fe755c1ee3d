// Package postgres is the production store: PostgreSQL through pgx's pool.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/vaxcert/vaxcert/internal/problem"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (postgres://…) and applies pending
// migrations under an advisory lock, so several nodes starting together
// migrate once.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad connection URL: %w", redact(err))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", redact(err))
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", redact(err))
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	// The lock is per database and schema: nodes sharing a schema migrate one
	// at a time, while unrelated schemas (tests, tenants) never wait on each other.
	var where string
	if err := s.pool.QueryRow(ctx, `SELECT current_database() || '.' || coalesce(current_schema(), '')`).Scan(&where); err != nil {
		return err
	}
	h := fnv.New64a()
	h.Write([]byte(where))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return classify(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback(ctx)
		return classify(err)
	}
	return classify(tx.Commit(ctx))
}

// classify turns connection failures into Unavailable so the API answers 503
// while the database is down; everything else passes through.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := problem.As(err); ok {
		return err
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &netErr), errors.As(err, &connErr), pgconn.SafeToRetry(err):
		return unavailable(err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		// The server went away in the middle of a reply (an immediate
		// shutdown or a crash): pgx reports the cut read as is.
		return unavailable(err)
	case errors.As(err, &pgErr) && (pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P03"):
		return unavailable(err) // connection exception, admin shutdown, cannot connect now
	}
	return err
}

func unavailable(err error) error {
	return &problem.Error{Kind: problem.Unavailable, Slug: "store-unavailable", Detail: "The database is not answering; try again shortly.", Err: err}
}

// redact keeps passwords in connection URLs out of error messages.
func redact(err error) error {
	var pgErr *pgconn.ConnectError
	if errors.As(err, &pgErr) {
		return errors.New(pgErr.Unwrap().Error())
	}
	return err
}
