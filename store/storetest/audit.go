package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/audit"
)

func testAuditChain(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	if n, err := audit.Verify(ctx, s); err != nil || n != 0 {
		t.Fatalf("empty log: verified %d, err %v", n, err)
	}
	// Concurrent appends must still form one unbroken chain.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AppendAudit(ctx, audit.Entry{At: time.Now(), Actor: "system", Action: "test.append", Subject: fmt.Sprint(i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := audit.Verify(ctx, s)
	if err != nil || n != 40 {
		t.Fatalf("verified %d entries, err %v; want 40, nil", n, err)
	}
	page, err := s.ListAudit(ctx, 38, 10)
	if err != nil || len(page) != 2 || page[0].Seq != 39 {
		t.Fatalf("ListAudit after 38: %+v, %v", page, err)
	}
}
