package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/shc"
	"github.com/vaxcert/vaxcert/verifier/trust"
	"github.com/vaxcert/vaxcert/verifier/verdict"
)

// BenchmarkVerifyVsECDSA measures one whole verification of a typical card
// (a JWS: parse, inflate, JSON, trust, signature, claims, CRL, FHIR) against
// one raw P-256 ECDSA verification in the same run, and reports both and
// their ratio (the target is at most 1.25).
func BenchmarkVerifyVsECDSA(b *testing.B) {
	own := newOwnIssuer(b, "https://vaxcert.example/issuer", 1)
	crl, err := trust.ParseCRL([]byte(`{"kid":"` + own.kid + `","method":"rid","ctr":1,"rids":["AAAAAAAAAAA","BBBBBBBBBBB.1700000000"]}`))
	if err != nil {
		b.Fatal(err)
	}
	own.issuer.CRLs[own.kid] = crl
	jws, err := shc.Sign(own.key, own.kid, samplePayload(b, own.issuer.Iss, time.Now().Add(-time.Hour), "MKyCxh7p6uQ", "210", "210"))
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{Trust: trust.NewStore(own.issuer)}
	if r := v.VerifyJWS(jws, "bench"); r.Status != verdict.Valid {
		b.Fatalf("%+v", r)
	}
	digest := sha256.Sum256([]byte(jws))
	sig, err := ecdsa.SignASN1(rand.Reader, own.key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &own.key.PublicKey

	b.ReportAllocs()
	b.ResetTimer()
	// Per-iteration times, summarised by their medians: on a shared machine
	// preemption inflates a few iterations, and the median ignores them.
	raw := make([]time.Duration, 0, b.N)
	whole := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			b.Fatal("raw verify failed")
		}
		t1 := time.Now()
		if r := v.VerifyJWS(jws, "bench"); r.Status != verdict.Valid {
			b.Fatal("whole verify failed")
		}
		t2 := time.Now()
		raw = append(raw, t1.Sub(t0))
		whole = append(whole, t2.Sub(t1))
	}
	b.StopTimer()
	rawMed, wholeMed := median(raw), median(whole)
	b.ReportMetric(float64(rawMed.Nanoseconds()), "raw-ecdsa-ns")
	b.ReportMetric(float64(wholeMed.Nanoseconds()), "whole-ns")
	b.ReportMetric(float64(wholeMed)/float64(rawMed), "whole/raw")
	b.ReportMetric(float64(len(jws)), "jws-chars")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkVerifyQRText is the same card from its numeric QR text, through
// the input dispatch (what a scanner feeds in).
func BenchmarkVerifyQRText(b *testing.B) {
	own := newOwnIssuer(b, "https://vaxcert.example/issuer", 0)
	jws, err := shc.Sign(own.key, own.kid, samplePayload(b, own.issuer.Iss, time.Now().Add(-time.Hour), "MKyCxh7p6uQ", "210", "210"))
	if err != nil {
		b.Fatal(err)
	}
	text := []byte(shc.QRText(jws))
	v := &Verifier{Trust: trust.NewStore(own.issuer)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r := v.Verify(context.Background(), text, "bench"); r[0].Status != verdict.Valid {
			b.Fatal(r)
		}
	}
}

// BenchmarkVerifyQRImage reads the card from a rendered QR PNG.
func BenchmarkVerifyQRImage(b *testing.B) {
	own := newOwnIssuer(b, "https://vaxcert.example/issuer", 0)
	jws, err := shc.Sign(own.key, own.kid, samplePayload(b, own.issuer.Iss, time.Now().Add(-time.Hour), "MKyCxh7p6uQ", "210", "210"))
	if err != nil {
		b.Fatal(err)
	}
	img, err := shc.QRPNG(jws, 4)
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{Trust: trust.NewStore(own.issuer)}
	for i := 0; i < b.N; i++ {
		if r := v.Verify(context.Background(), img, "bench"); r[0].Status != verdict.Valid {
			b.Fatal(r)
		}
	}
}
