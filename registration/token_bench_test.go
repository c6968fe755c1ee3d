package registration

import (
	"context"
	"testing"
	"time"
)

// BenchmarkVerifyToken is the cost every authenticated request pays before
// its handler runs (one ES256 verification through jwx, and the claims).
func BenchmarkVerifyToken(b *testing.B) {
	now := time.Now()
	tk, _ := newTokens(b, &now)
	token, _, err := tk.Issue(Principal{AccountID: "acct-1", Role: Vaccinator, Centres: []string{"600001"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tk.VerifyToken(ctx, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
