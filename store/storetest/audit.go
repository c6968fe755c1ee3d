package storetest

import (
	"context"
	"fmt"
	"strings"
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

// AuditTamperer lets the suite delete the newest audit entries as an attacker
// with rights on the database would, past the append-only triggers. Each
// backend's test build provides it (in a _test.go file of the store package);
// the suite skips those checks for a store without it.
type AuditTamperer interface {
	DeleteAuditAfterForTest(ctx context.Context, seq int64) error
}

// testAuditHead: a head recorded outside the database detects what the chain
// alone cannot, the deletion of its newest entries.
func testAuditHead(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	if h, err := s.AuditHead(ctx); err != nil || h != (audit.Head{}) {
		t.Fatalf("empty log's head: %+v, %v; want the zero Head", h, err)
	}
	appendN := func(n int) {
		t.Helper()
		for i := range n {
			if _, err := s.AppendAudit(ctx, audit.Entry{At: time.Now(), Actor: "system", Action: "test.head", Subject: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(5)
	head, err := s.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fifth, err := s.ListAudit(ctx, 4, 1)
	if err != nil || len(fifth) != 1 {
		t.Fatalf("ListAudit after 4: %+v, %v", fifth, err)
	}
	if head.Seq != 5 || head.Hash != fifth[0].Hash || !head.At.Equal(fifth[0].At) {
		t.Fatalf("head %+v, want entry 5 %+v", head, fifth[0])
	}
	appendN(3)
	if n, err := audit.Verify(ctx, s, head); err != nil || n != 8 {
		t.Fatalf("the log grew past the recorded head: verified %d, err %v; want 8, nil", n, err)
	}
	wrong := audit.Head{Seq: 5, Hash: strings.Repeat("0", 64)}
	if _, err := audit.Verify(ctx, s, wrong); err == nil || !strings.Contains(err.Error(), "audit entry 5:") || !strings.Contains(err.Error(), wrong.String()) {
		t.Fatalf("a wrong hash for entry 5: %v; want an error naming entry 5 and the head", err)
	}

	tam, ok := s.(AuditTamperer)
	if !ok {
		t.Skip("store has no AuditTamperer in its test build")
	}
	latest, err := s.AuditHead(ctx)
	if err != nil || latest.Seq != 8 {
		t.Fatalf("head after 8 entries: %+v, %v", latest, err)
	}
	if err := tam.DeleteAuditAfterForTest(ctx, 6); err != nil {
		t.Fatal(err)
	}
	// What is left is a valid chain: only the head shows what is gone.
	if n, err := audit.Verify(ctx, s); err != nil || n != 6 {
		t.Fatalf("truncated log without heads: verified %d, err %v; want 6, nil", n, err)
	}
	if _, err := audit.Verify(ctx, s, head, latest); err == nil || !strings.Contains(err.Error(), "audit entry 8 is missing: the log ends at entry 6") {
		t.Fatalf("truncated log with head 8: %v; want entry 8 named as missing", err)
	}
	if _, err := audit.Verify(ctx, s, head); err != nil {
		t.Fatalf("head 5 is still in the truncated log: %v", err)
	}
	// New entries after the deletion bring entry 8 back, with another hash.
	appendN(2)
	if _, err := audit.Verify(ctx, s, latest); err == nil || !strings.Contains(err.Error(), "audit entry 8:") || !strings.Contains(err.Error(), "rewritten") {
		t.Fatalf("rewritten tail with head 8: %v; want entry 8 named as rewritten", err)
	}
	if err := tam.DeleteAuditAfterForTest(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(ctx, s, head); err == nil || !strings.Contains(err.Error(), "audit entry 5 is missing: the log is empty") {
		t.Fatalf("emptied log with head 5: %v", err)
	}
}
