package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SeedBeneficiariesForBench registers n beneficiaries (under n/4 accounts)
// and the centre centreID in bulk, for the issuing benchmark, and returns
// their reference IDs. It exists only in test builds.
func (s *Store) SeedBeneficiariesForBench(ctx context.Context, n int, centreID string) ([]string, error) {
	refs := make([]string, n)
	now := time.Now().UnixMicro()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO states (id, name) VALUES (99, 'Bench State')`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO districts (id, state_id, name) VALUES (999, 99, 'Bench District')`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO centres (id, name, pincode, district_id) VALUES (?, 'Bench Primary Health Centre', '411001', 999)`, centreID); err != nil {
			return err
		}
		for a := 0; a <= (n-1)/4; a++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, mobile, role, created_at) VALUES (?, ?, 'citizen', ?)`,
				fmt.Sprint("bench-", a), fmt.Sprint(6000000000+a), now); err != nil {
				return err
			}
		}
		for i := range refs {
			refs[i] = fmt.Sprint(20000000000000 + i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO beneficiaries (ref_id, account_id, name, gender, birth_date, id_type, id_hash, id_masked, id_sealed, created_at)
				VALUES (?, ?, ?, 'female', '1980-01-01', 'aadhaar', ?, 'XXXX XXXX 0000', x'00', ?)`,
				refs[i], fmt.Sprint("bench-", i/4), fmt.Sprint("Bench Person ", i), fmt.Sprint("bench-hash-", i), now); err != nil {
				return err
			}
		}
		return nil
	})
	return refs, err
}
