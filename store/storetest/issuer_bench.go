package storetest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/issuer"
	"github.com/vaxcert/vaxcert/keys"
	"github.com/vaxcert/vaxcert/store"
)

// BenchCentre is the centre the issuing benchmark records doses at; the
// seed must create it (with its district and state).
const BenchCentre = "700001"

// BenchmarkRecordAndIssue measures recording a dose and issuing its
// certificate end to end (the store transaction, signing, the self-check
// against the published keys, the compare-and-set and both audit entries),
// with 128 concurrent callers per CPU and the batch size serve uses. seed must register n beneficiaries
// (born before 2000) and the centre BenchCentre, and return their
// reference IDs; writers is the issuer's number of concurrent batch
// transactions.
func BenchmarkRecordAndIssue(b *testing.B, s store.Store, writers int, seed func(n int) []string) {
	ctx := context.Background()
	ks, err := keys.OpenFileStore(filepath.Join(b.TempDir(), "keys"), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := ks.EnsureActive(); err != nil {
		b.Fatal(err)
	}
	iss, err := issuer.New(issuer.Config{Store: s, Keys: ks, IssuerURL: TestIssuerURL,
		RIDSecret: []byte("0123456789abcdef0123456789abcdef"), Writers: writers})
	if err != nil {
		b.Fatal(err)
	}
	defer iss.Close()
	refs := seed(b.N)
	today := time.Now().In(issuer.IST)
	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(128)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			_, err := iss.RecordDose(ctx, issuer.DoseRequest{
				BeneficiaryRef: refs[i], Vaccine: "COVISHIELD", Lot: "BENCH" + fmt.Sprint(i%1000), Number: 1, Date: today,
				CentreID: BenchCentre, Actor: "user:bench", Idempotency: issuer.IdempotencyID{Scope: "user:bench", Key: refs[i]},
			})
			if err != nil && failed.Add(1) == 1 {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}
