package issuer

import (
	"context"
	"errors"
	"sync"
)

// errClosed: the service was closed while a request waited.
var errClosed = errors.New("issuer: service closed")

// batcher groups concurrent requests into batches, so that one database
// transaction (one commit, one lock on the audit chain) serves many of them.
// It never waits to fill a batch: a worker takes whatever has queued while the
// previous batch was in the database, so under light load a batch is one
// request and under heavy load the batches grow, up to max. workers batches
// run at once.
type batcher[T any] struct {
	in   chan *batchItem[T]
	quit chan struct{}
	max  int
	run  func(items []T) // must fill in each item's results
	wg   sync.WaitGroup
	once sync.Once
}

type batchItem[T any] struct {
	v    T
	done chan struct{}
}

func newBatcher[T any](workers, max int, run func([]T)) *batcher[T] {
	b := &batcher[T]{in: make(chan *batchItem[T], workers*max), quit: make(chan struct{}), max: max, run: run}
	for range workers {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

// do queues v and waits until its batch has run (v then holds the results),
// ctx ends, or the batcher closes. A request abandoned by its context still
// runs if it was queued: the caller must not reuse v.
func (b *batcher[T]) do(ctx context.Context, v T) error {
	it := &batchItem[T]{v: v, done: make(chan struct{})}
	select {
	case b.in <- it:
	case <-b.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-it.done:
		return nil
	case <-b.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher[T]) work() {
	defer b.wg.Done()
	items := make([]*batchItem[T], 0, b.max)
	vals := make([]T, 0, b.max)
	for {
		select {
		case <-b.quit:
			return
		case it := <-b.in:
			items = append(items[:0], it)
		}
	fill:
		for len(items) < b.max {
			select {
			case it := <-b.in:
				items = append(items, it)
			default:
				break fill
			}
		}
		vals = vals[:0]
		for _, it := range items {
			vals = append(vals, it.v)
		}
		b.run(vals)
		for _, it := range items {
			close(it.done)
		}
		clear(vals)
		clear(items)
	}
}

// close stops the workers after the batches they are running.
func (b *batcher[T]) close() {
	b.once.Do(func() { close(b.quit) })
	b.wg.Wait()
}
