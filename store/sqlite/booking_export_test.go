package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// InsertDoseForTest records a dose the way the issuer does, so that the
// conformance suite can test what depends on the dose history
// (storetest.DoseWriter). It exists only in test builds.
func (s *Store) InsertDoseForTest(ctx context.Context, ref string, number int, vaccineCode string, day time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO doses (id, beneficiary_ref, number, vaccine, date, lot, centre_id, performer, recorded_by, recorded_at)
			VALUES (?, ?, ?, ?, ?, 'TEST-LOT', '600001', 'Test Centre', 'test', ?)`,
			ref+"-"+string(rune('0'+number)), ref, number, vaccineCode, day.Format(time.DateOnly), time.Now().UnixMicro())
		return err
	})
}
