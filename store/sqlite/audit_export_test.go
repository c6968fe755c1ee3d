package sqlite

import (
	"context"
	"database/sql"
)

// DeleteAuditAfterForTest deletes every audit entry after seq, as an attacker
// with write access to the database file can: drop the append-only trigger,
// delete, put the trigger back (storetest.AuditTamperer). It exists only in
// test builds.
func (s *Store) DeleteAuditAfterForTest(ctx context.Context, seq int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER audit_log_no_delete`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE seq > ?`, seq); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
			BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`)
		return err
	})
}
