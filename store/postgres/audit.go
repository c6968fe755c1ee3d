package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/vaxcert/vaxcert/audit"
)

// auditLockKey serialises appends to the chain across connections and nodes.
const auditLockKey = 0x7661786175646974 // "vaxaudit"

// AppendAudit appends e to the hash chain in its own transaction.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	var sealed audit.Entry
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		sealed, err = appendAudit(ctx, tx, e)
		return err
	})
	return sealed, err
}

// appendAudit appends within tx, so an action and its audit entry commit
// together. A transaction-scoped advisory lock orders the chain.
func appendAudit(ctx context.Context, tx pgx.Tx, e audit.Entry) (audit.Entry, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey)); err != nil {
		return audit.Entry{}, err
	}
	var prev audit.Entry
	err := tx.QueryRow(ctx, `SELECT seq, at, actor, action, subject, detail, prev_hash, hash
		FROM audit_log ORDER BY seq DESC LIMIT 1`).
		Scan(&prev.Seq, &prev.At, &prev.Actor, &prev.Action, &prev.Subject, &prev.Detail, &prev.PrevHash, &prev.Hash)
	var sealed audit.Entry
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		sealed = audit.Seal(e, nil)
	case err != nil:
		return audit.Entry{}, err
	default:
		sealed = audit.Seal(e, &prev)
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		sealed.Seq, sealed.At, sealed.Actor, sealed.Action, sealed.Subject, sealed.Detail, sealed.PrevHash, sealed.Hash)
	return sealed, err
}

// ListAudit returns up to limit entries with seq > afterSeq, in order.
func (s *Store) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]audit.Entry, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, at, actor, action, subject, detail, prev_hash, hash
		FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, classify(err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Entry, error) {
		var e audit.Entry
		err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash)
		e.At = e.At.UTC()
		return e, err
	})
	return entries, classify(err)
}

// AuditHead returns the newest entry's head, or the zero Head for an empty log.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := s.pool.QueryRow(ctx, `SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&h.Seq, &h.Hash, &h.At)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return audit.Head{}, nil
	case err != nil:
		return audit.Head{}, classify(err)
	}
	h.At = h.At.UTC()
	return h, nil
}
