package postgres_test

import (
	"context"
	"testing"

	"github.com/vaxcert/vaxcert/internal/pgtest"
	"github.com/vaxcert/vaxcert/store/postgres"
	"github.com/vaxcert/vaxcert/store/storetest"
)

// BenchmarkRecordAndIssue: go test -run ^$ -bench RecordAndIssue ./store/postgres
// (with VAXCERT_TEST_POSTGRES set).
func BenchmarkRecordAndIssue(b *testing.B) {
	s, err := postgres.Open(context.Background(), pgtest.URL(b)+"&pool_max_conns=16")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkRecordAndIssue(b, s, 4, func(n int) []string {
		refs, err := s.SeedBeneficiariesForBench(context.Background(), n, storetest.BenchCentre)
		if err != nil {
			b.Fatal(err)
		}
		return refs
	})
}
