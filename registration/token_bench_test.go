package registration

import (
	"context"
	"testing"
	"time"
)

// BenchmarkVerifyToken is what every authenticated request pays before its
// handler runs: "first" is a token's first use (an ES256 verification
// through jwx, and the claims), "again" every later use (the cache).
func BenchmarkVerifyToken(b *testing.B) {
	now := time.Now()
	tk, _ := newTokens(b, &now)
	token, _, err := tk.Issue(Principal{AccountID: "acct-1", Role: Vaccinator, Centres: []string{"600001"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		fresh bool
	}{{"first", true}, {"again", false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if bc.fresh {
					tk.cache.mu.Lock()
					clear(tk.cache.entries)
					tk.cache.mu.Unlock()
				}
				if _, err := tk.VerifyToken(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
