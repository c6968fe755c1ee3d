package booking

import (
	"context"
	"slices"
	"sync"
	"time"
)

// maxBatch bounds the appointments written in one transaction.
const maxBatch = 256

// batchTimeout bounds one batch's write. It is not the request's context:
// a batch carries other citizens' bookings, which must not fail because the
// request that happened to lead it went away.
const batchTimeout = 10 * time.Second

// bookingQueues takes the places of one session (and kind of dose) in
// batches. In a rush, every booking of a session waits on its row; one
// commit at a time, each waiting for the disk, made the winners queue for
// half a second and the losers hold every pooled connection meanwhile.
// Here the first request for a session leads: it writes what has queued
// behind it in one transaction, in arrival order, then hands the lead to
// the first request that queued during that write. Each process queues
// its own requests; the store's transaction keeps several processes
// correct.
type bookingQueues struct {
	book func(ctx context.Context, batch []Appointment) ([]error, error)

	mu     sync.Mutex
	queues map[queueKey][]*bookRequest // present while a leader is writing
}

type queueKey struct {
	session string
	bucket  Bucket
}

type bookRequest struct {
	a    Appointment
	err  error     // the outcome, set before done receives false
	done chan bool // true: lead the next batch; false: the outcome is in err
}

func newBookingQueues(book func(context.Context, []Appointment) ([]error, error)) *bookingQueues {
	return &bookingQueues{book: book, queues: map[queueKey][]*bookRequest{}}
}

// Book books a with the requests queued for its session: nil,
// ErrSessionFull, ErrAlreadyBooked, ErrSessionNotFound, or the batch's error.
func (q *bookingQueues) Book(ctx context.Context, a Appointment) error {
	k := queueKey{a.SessionID, a.Bucket}
	req := &bookRequest{a: a, done: make(chan bool, 1)}
	q.mu.Lock()
	waiting, busy := q.queues[k]
	q.queues[k] = append(waiting, req)
	q.mu.Unlock()
	if busy && !<-req.done {
		return req.err
	}
	// Leading: req is at the head of the queue, so in this batch.
	q.mu.Lock()
	waiting = q.queues[k]
	batch := waiting[:min(len(waiting), maxBatch)]
	q.queues[k] = slices.Clone(waiting[len(batch):]) // still present: later arrivals wait
	q.mu.Unlock()
	q.write(ctx, batch)
	q.mu.Lock()
	next := q.queues[k]
	if len(next) == 0 {
		delete(q.queues, k)
	}
	q.mu.Unlock()
	if len(next) > 0 {
		next[0].done <- true
	}
	return req.err
}

// write books one batch and tells each request its outcome.
func (q *bookingQueues) write(ctx context.Context, batch []*bookRequest) {
	appointments := make([]Appointment, len(batch))
	for i, r := range batch {
		appointments[i] = r.a
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	defer cancel()
	outcomes, err := q.book(ctx, appointments)
	for i, r := range batch {
		if r.err = err; err == nil {
			r.err = outcomes[i]
		}
		r.done <- false
	}
}
