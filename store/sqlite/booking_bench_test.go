package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vaxcert/vaxcert/store"
	"github.com/vaxcert/vaxcert/store/sqlite"
	"github.com/vaxcert/vaxcert/store/storetest"
)

func BenchmarkBooking(b *testing.B) {
	storetest.BenchmarkBooking(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
