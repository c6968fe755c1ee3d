package verifier

import (
	"context"
	"sync/atomic"
)

// A SMART Health Card's issuer is named inside its compressed payload, so a
// card whose kid the trust store does not know must be inflated before it
// can be refused; one card is capped at shc.MaxInflatedSize. But an input
// may hold thousands of cards (a file, QR lines, PDF attachments, an API
// batch), and each would be inflated and checked in turn. So the cards of
// one input share a budget: each is charged what it inflates to, and at
// least CardCost, for the CPU its signature check and decoding take (one
// ES256 verification costs about as much as inflating 64 KiB). A
// certificate of another format is charged CardCost. Past the budget, the
// remaining cards are refused with inflate_budget, unread.
const (
	// InputBudget is the budget of one input: room for 1,024 typical cards
	// or 64 DEFLATE bombs at the per-card cap, about 0.1 s of CPU.
	InputBudget = 64 << 20
	// CardCost is the least a card is charged.
	CardCost = 64 << 10
)

// budget is what the cards of one input may still be charged, in bytes.
// A nil *budget is unlimited.
type budget struct{ left atomic.Int64 }

type budgetKey struct{}

// WithInputBudget returns a context under which every Verify call shares
// one budget of n bytes, as if their inputs were one: for a request that
// carries many inputs (the API's batches). Without it each Verify call has
// InputBudget of its own.
func WithInputBudget(ctx context.Context, n int64) context.Context {
	b := &budget{}
	b.left.Store(n)
	return context.WithValue(ctx, budgetKey{}, b)
}

// budgetOf is the context's shared budget, or nil.
func budgetOf(ctx context.Context) *budget {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return b
}

// take reserves up to n bytes and returns how many it got.
func (b *budget) take(n int64) int64 {
	if b == nil {
		return n
	}
	for {
		left := b.left.Load()
		got := min(n, left)
		if got <= 0 {
			return 0
		}
		if b.left.CompareAndSwap(left, left-got) {
			return got
		}
	}
}

// give returns n unused bytes of a reservation.
func (b *budget) give(n int64) {
	if b != nil && n > 0 {
		b.left.Add(n)
	}
}
