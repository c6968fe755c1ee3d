package reliability

import (
	"context"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/verifier"
)

// BenchmarkHostileAmplification measures what one input full of DEFLATE
// bombs costs the verifier: each card inflates up to shc.MaxInflatedSize
// before it can be refused, so the work grows with the number of cards an
// input holds. Reported per input: cards, bytes allocated and time.
//
//	go test ./internal/reliability/ -run '^$' -bench HostileAmplification -benchtime 3x
func BenchmarkHostileAmplification(b *testing.B) {
	w := &hostileWorld{trusted: newCardKey(b)}
	v := &verifier.Verifier{}
	one := w.trusted.sign(b, w.trusted.header(), deflateBomb(b, `{"iss":"`, 1<<20))
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1 card", 0}, {"1 MB file", 1 << 20}, {"10 MB file", 10 << 20}} {
		n := max(1, size.bytes/(len(one)+3))
		input := `{"verifiableCredential":["` + strings.Repeat(one+`","`, n-1) + one + `"]}`
		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.Verify(context.Background(), []byte(input), "bombs")
			}
			b.ReportMetric(float64(n), "cards/op")
		})
	}
}
