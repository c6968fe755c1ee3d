package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// DeleteAuditAfterForTest deletes every audit entry after seq, as the owner
// of the table can: disable the append-only trigger, delete, enable it again
// (storetest.AuditTamperer). It exists only in test builds.
func (s *Store) DeleteAuditAfterForTest(ctx context.Context, seq int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE seq > $1`, seq); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`)
		return err
	})
}
