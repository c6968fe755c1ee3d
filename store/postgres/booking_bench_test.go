package postgres_test

import (
	"context"
	"testing"

	"github.com/vaxcert/vaxcert/internal/pgtest"
	"github.com/vaxcert/vaxcert/store"
	"github.com/vaxcert/vaxcert/store/postgres"
	"github.com/vaxcert/vaxcert/store/storetest"
)

func BenchmarkBooking(b *testing.B) {
	storetest.BenchmarkBooking(b, func(b *testing.B) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
