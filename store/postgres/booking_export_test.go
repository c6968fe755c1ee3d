package postgres

import (
	"context"
	"strconv"
	"time"
)

// InsertDoseForTest records a dose the way the issuer does, so that the
// conformance suite can test what depends on the dose history
// (storetest.DoseWriter). It exists only in test builds.
func (s *Store) InsertDoseForTest(ctx context.Context, ref string, number int, vaccineCode string, day time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO doses (id, beneficiary_ref, number, vaccine, date, lot, centre_id, performer, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, 'TEST-LOT', '600001', 'Test Centre', 'test', now())`,
		ref+"-"+strconv.Itoa(number), ref, number, vaccineCode, day.Format(time.DateOnly))
	return err
}
