package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vaxcert/vaxcert/store/sqlite"
	"github.com/vaxcert/vaxcert/store/storetest"
)

// BenchmarkRecordAndIssue: go test -run ^$ -bench RecordAndIssue ./store/sqlite
func BenchmarkRecordAndIssue(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkRecordAndIssue(b, s, 1, func(n int) []string {
		refs, err := s.SeedBeneficiariesForBench(context.Background(), n, storetest.BenchCentre)
		if err != nil {
			b.Fatal(err)
		}
		return refs
	})
}
