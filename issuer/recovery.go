package issuer

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Recovery timings.
const (
	// RecoveryInterval is how often Run looks for pending certificates.
	RecoveryInterval = 30 * time.Second
	// pendingGrace is how old a pending certificate must be before the
	// periodic pass finishes it: younger ones are most likely still being
	// signed by the request that stored them (finishing twice is harmless,
	// but wasted work).
	pendingGrace = 30 * time.Second
	// IdempotencyRetention is how long an Idempotency-Key is remembered.
	IdempotencyRetention = 7 * 24 * time.Hour
)

// FinishPending completes every certificate that has been pending for at
// least minAge: the ones a crash left between storing and issuing. It returns
// how many it issued; failures are logged and retried on the next pass.
func (s *Service) FinishPending(ctx context.Context, minAge time.Duration) (int, error) {
	issued := 0
	// The cutoff is fixed once, so certificates stored while this runs (being
	// issued by their own requests) never keep it going.
	before := s.now().Add(-minAge)
	for {
		pending, err := s.store.PendingCertificates(ctx, before, 256)
		if err != nil {
			return issued, err
		}
		if len(pending) == 0 {
			return issued, nil
		}
		var (
			mu     sync.Mutex
			wg     sync.WaitGroup
			failed int
			sem    = make(chan struct{}, 8)
		)
		for _, c := range pending {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				_, err := s.finish(ctx, c, "system")
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					s.log.ErrorContext(ctx, "could not finish a pending certificate", "certificate", c.ID, "err", err)
					return
				}
				issued++
				s.log.InfoContext(ctx, "finished a pending certificate", "certificate", c.ID, "beneficiary", c.BeneficiaryRef)
			}()
		}
		wg.Wait()
		if failed > 0 {
			return issued, errors.New("issuer: some pending certificates could not be finished; see the log")
		}
		if err := ctx.Err(); err != nil {
			return issued, err
		}
	}
}

// Run finishes pending certificates at once, then every RecoveryInterval,
// and forgets old idempotency keys, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	if n, err := s.FinishPending(ctx, 0); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "finishing pending certificates at start", "issued", n, "err", err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "finished the certificates left pending", "issued", n)
	}
	tick := time.NewTicker(RecoveryInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := s.FinishPending(ctx, pendingGrace); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "finishing pending certificates", "err", err)
		}
		if _, err := s.store.DeleteIdempotencyKeys(ctx, s.now().Add(-IdempotencyRetention)); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "forgetting old idempotency keys", "err", err)
		}
	}
}
