package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vaxcert/vaxcert/store"
	"github.com/vaxcert/vaxcert/store/sqlite"
	"github.com/vaxcert/vaxcert/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
