package divoc

import (
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// BenchmarkVerify measures one full verification of the real CoWIN QR
// payload: unzip, strict JSON, two URDNA2015 canonicalisations, one RSA-PSS
// verification and the plausibility checks.
func BenchmarkVerify(b *testing.B) {
	archive := readSample(b, "third-march-user-one.qr.zip")
	ring, err := LoadKeyRing("")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if res := VerifyWithKeys(archive, ring, checkAt); res.Status != verdict.Valid {
			b.Fatalf("status %s %v", res.Status, res.Reasons)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifications/s")
}

// BenchmarkCanonicalize isolates the JSON-LD part, the bulk of the cost.
func BenchmarkCanonicalize(b *testing.B) {
	doc, err := decodeStrictJSON(readSample(b, "third-march-user-one.certificate.json"))
	if err != nil {
		b.Fatal(err)
	}
	delete(doc, "proof")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := canonicalize(doc); err != nil {
			b.Fatal(err)
		}
	}
}
