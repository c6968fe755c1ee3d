package eudcc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// BenchmarkVerify measures one whole HC1 verification (text → verdict) with
// the trust store already loaded, for an upstream ES256 (DE/1) and PS256
// RSA-2048 (CO1) certificate.
func BenchmarkVerify(b *testing.B) {
	for _, name := range []string{"DE/2DCode/raw/1.json", "common/2DCode/raw/CO1.json"} {
		v := vectorByPath(b, name)
		cert, err := v.cert()
		if err != nil {
			b.Fatal(err)
		}
		clock, err := v.clock()
		if err != nil {
			b.Fatal(err)
		}
		store := NewTrustStore(cert)
		input := []byte(v.PREFIX)
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := VerifyWith(input, store, clock)
				if r.Status != verdict.Valid {
					b.Fatalf("%s %+v", r.Status, r.Reasons)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/verify")
			b.ReportMetric(float64(len(input)), "text-bytes")
		})
	}
}

// BenchmarkVerifyFromTrustDir adds what `vaxverify` pays per run: reading
// and parsing <trustDir>/dsc with 200 stored DSCs.
func BenchmarkVerifyFromTrustDir(b *testing.B) {
	v := vectorByPath(b, "DE/2DCode/raw/1.json")
	clock, _ := v.clock()
	trustDir := b.TempDir()
	src := b.TempDir()
	var paths []string
	for i := 0; i < 199; i++ {
		c, _ := newDSC(b, dscOptions{})
		path := filepath.Join(src, filepath.Base(fingerprint(c))+".der")
		if err := os.WriteFile(path, c.Raw, 0o600); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, path)
	}
	path := filepath.Join(src, "de.b64")
	if err := os.WriteFile(path, []byte(v.TESTCTX.Certificate), 0o600); err != nil {
		b.Fatal(err)
	}
	if _, err := ImportDSC(trustDir, append(paths, path)); err != nil {
		b.Fatal(err)
	}
	input := []byte(v.PREFIX)
	b.ReportAllocs()
	for b.Loop() {
		if r := Verify(input, trustDir, clock); r.Status != verdict.Valid {
			b.Fatalf("%s %+v", r.Status, r.Reasons)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/verify")
}

func vectorByPath(tb testing.TB, path string) *vector {
	tb.Helper()
	for _, v := range loadVectors(tb, testdataDir(tb)) {
		if v.path == path {
			return v
		}
	}
	tb.Fatalf("vector %s not found", path)
	return nil
}
