package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/vaxcert/vaxcert/audit"
)

// AppendAudit appends e to the hash chain in its own transaction.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	var sealed audit.Entry
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		sealed, err = appendAudit(ctx, tx, e)
		return err
	})
	return sealed, err
}

// appendAudit appends within tx, so an action and its audit entry commit
// together. The write lock held by the transaction orders the chain.
func appendAudit(ctx context.Context, tx *sql.Tx, e audit.Entry) (audit.Entry, error) {
	var prev audit.Entry
	var at int64
	err := tx.QueryRowContext(ctx, `SELECT seq, at, actor, action, subject, detail, prev_hash, hash
		FROM audit_log ORDER BY seq DESC LIMIT 1`).
		Scan(&prev.Seq, &at, &prev.Actor, &prev.Action, &prev.Subject, &prev.Detail, &prev.PrevHash, &prev.Hash)
	var sealed audit.Entry
	switch {
	case errors.Is(err, sql.ErrNoRows):
		sealed = audit.Seal(e, nil)
	case err != nil:
		return audit.Entry{}, err
	default:
		sealed = audit.Seal(e, &prev)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		sealed.Seq, sealed.At.UnixMicro(), sealed.Actor, sealed.Action, sealed.Subject, sealed.Detail, sealed.PrevHash, sealed.Hash)
	return sealed, err
}

// ListAudit returns up to limit entries with seq > afterSeq, in order.
func (s *Store) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]audit.Entry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT seq, at, actor, action, subject, detail, prev_hash, hash
		FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditHead returns the newest entry's head, or the zero Head for an empty log.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&h.Seq, &h.Hash, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return audit.Head{}, nil
	case err != nil:
		return audit.Head{}, unavailable(err)
	}
	h.At = time.UnixMicro(at).UTC()
	return h, nil
}
