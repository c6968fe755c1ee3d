package postgres_test

import (
	"context"
	"testing"

	"github.com/vaxcert/vaxcert/internal/pgtest"
	"github.com/vaxcert/vaxcert/store"
	"github.com/vaxcert/vaxcert/store/postgres"
	"github.com/vaxcert/vaxcert/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
