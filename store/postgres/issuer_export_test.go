package postgres

import (
	"context"
	"fmt"
)

// SeedBeneficiariesForBench registers n beneficiaries (under n/4 accounts)
// and the centre centreID in bulk, for the issuing benchmark, and returns
// their reference IDs. It exists only in test builds.
func (s *Store) SeedBeneficiariesForBench(ctx context.Context, n int, centreID string) ([]string, error) {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO states (id, name) VALUES (99, 'Bench State') ON CONFLICT DO NOTHING;
		INSERT INTO districts (id, state_id, name) VALUES (999, 99, 'Bench District') ON CONFLICT DO NOTHING;`)
	if err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO centres (id, name, pincode, district_id) VALUES ($1, 'Bench Primary Health Centre', '411001', 999)
		ON CONFLICT DO NOTHING`, centreID); err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO accounts (id, mobile, role, created_at)
		SELECT 'bench-' || a, (6000000000 + a)::text, 'citizen', now() FROM generate_series(0, ($1 - 1) / 4) AS a`, n); err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO beneficiaries (ref_id, account_id, name, gender, birth_date, id_type, id_hash, id_masked, id_sealed, created_at)
		SELECT (20000000000000 + i)::text, 'bench-' || (i / 4), 'Bench Person ' || i, 'female', DATE '1980-01-01' + (i % 7000),
			'aadhaar', 'bench-hash-' || i, 'XXXX XXXX ' || lpad((i % 10000)::text, 4, '0'), '\x00'::bytea, now()
		FROM generate_series(0, $1 - 1) AS i`, n); err != nil {
		return nil, err
	}
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprint(20000000000000 + i)
	}
	return refs, nil
}
