package booking

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestBookingQueues: requests that arrive while a batch is being written go
// together, in arrival order, into the next one; each gets its own outcome,
// and a failed batch fails each of its requests.
func TestBookingQueues(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var batches [][]string
	failing := errors.New("database gone")
	q := newBookingQueues(func(_ context.Context, batch []Appointment) ([]error, error) {
		mu.Lock()
		ids := make([]string, len(batch))
		for i, a := range batch {
			ids[i] = a.ID
		}
		batches = append(batches, ids)
		first := len(batches) == 1
		mu.Unlock()
		if first {
			<-release // the rest queue behind the first batch
			return []error{nil}, nil
		}
		if batch[0].SessionID == "down" {
			return nil, failing
		}
		outcomes := make([]error, len(batch))
		for i := range batch {
			if i%2 == 1 {
				outcomes[i] = ErrSessionFull
			}
		}
		return outcomes, nil
	})
	ctx := context.Background()
	firstDone := make(chan error)
	go func() { firstDone <- q.Book(ctx, Appointment{ID: "a0", SessionID: "s", Bucket: BucketDose1}) }()
	for waiting(q, "s") != 0 || len(batchesSoFar(&mu, &batches)) != 1 {
		runtime.Gosched() // until the first batch is being written, nothing else queued
	}
	const n = 8
	results := make([]chan error, n)
	for i := range n {
		results[i] = make(chan error, 1)
		go func() {
			results[i] <- q.Book(ctx, Appointment{ID: fmt.Sprint("a", i+1), SessionID: "s", Bucket: BucketDose1})
		}()
		for waiting(q, "s") != i+1 {
			runtime.Gosched() // so that they arrive in order
		}
	}
	// Another session is not held up by the first.
	if err := q.Book(ctx, Appointment{ID: "other", SessionID: "t", Bucket: BucketDose1}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		err := <-results[i]
		if want := i%2 == 1; errors.Is(err, ErrSessionFull) != want {
			t.Errorf("request %d: %v", i+1, err)
		}
	}
	got := fmt.Sprint(batchesSoFar(&mu, &batches))
	if want := "[[a0] [other] [a1 a2 a3 a4 a5 a6 a7 a8]]"; got != want {
		t.Fatalf("batches %s, want %s", got, want)
	}
	if err := q.Book(ctx, Appointment{ID: "x", SessionID: "down", Bucket: BucketDose1}); !errors.Is(err, failing) {
		t.Fatalf("failed batch: %v", err)
	}
	if len(q.queues) != 0 {
		t.Fatalf("queues left behind: %v", q.queues)
	}
}

func waiting(q *bookingQueues, session string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queues[queueKey{session, BucketDose1}])
}

func batchesSoFar(mu *sync.Mutex, batches *[][]string) [][]string {
	mu.Lock()
	defer mu.Unlock()
	return append([][]string(nil), *batches...)
}
