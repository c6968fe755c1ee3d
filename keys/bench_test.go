package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"
)

// ES256 signing throughput through the path the issuer uses: ActiveSigner, then Sign.
func BenchmarkActiveSignerSign(b *testing.B) {
	s := openTestStore(b, "", nil)
	mustEnsure(b, s)
	digest := sha256.Sum256([]byte("a SMART Health Card payload"))
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		sg, err := s.ActiveSigner()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sg.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signs/s")
}

func BenchmarkActiveSignerSignParallel(b *testing.B) {
	s := openTestStore(b, "", nil)
	mustEnsure(b, s)
	digest := sha256.Sum256([]byte("a SMART Health Card payload"))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sg, err := s.ActiveSigner()
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := sg.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signs/s")
}

// What a periodic Reload costs when nothing changed on disk (5 keys).
func BenchmarkReloadUnchanged(b *testing.B) {
	s := openTestStore(b, "", nil)
	for range 5 {
		mustRotate(b, s)
	}
	for b.Loop() {
		if err := s.Reload(); err != nil {
			b.Fatal(err)
		}
	}
}

// Opening a store of one key encrypted with the production work factor: the start-up cost of a
// passphrase.
func BenchmarkOpenEncryptedProductionIterations(b *testing.B) {
	saved := pbkdf2Iterations
	pbkdf2Iterations = 600_000
	defer func() { pbkdf2Iterations = saved }()
	dir := filepath.Join(b.TempDir(), "keys")
	mustEnsure(b, openTestStore(b, dir, []byte("pw")))
	for b.Loop() {
		if _, err := OpenFileStore(dir, []byte("pw")); err != nil {
			b.Fatal(err)
		}
	}
}
