package shc

import (
	"testing"
)

// The issuer's hot path per certificate: Sign (minify, raw DEFLATE, ES256)
// and, for a PNG download, the QR symbol. Run with -cpu 1,2 to see how they
// scale on a small machine.

func BenchmarkSign(b *testing.B) {
	key := newKey(b)
	for _, doses := range []int{1, 3} {
		p := samplePayload(b, doses)
		b.Run(map[int]string{1: "one-dose", 3: "three-doses"}[doses], func(b *testing.B) {
			jws, err := Sign(key, "kid", p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := Sign(key, "kid", p); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
			b.ReportMetric(float64(len(jws)), "jws-chars")
		})
	}
}

func BenchmarkQR(b *testing.B) {
	jws, err := Sign(newKey(b), "kid", samplePayload(b, 3))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("QRText", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			QRText(jws)
		}
	})
	b.Run("QRCode", func(b *testing.B) {
		q, err := QRCode(jws)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := QRCode(jws); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "symbols/s")
		b.ReportMetric(float64(q.Version), "qr-version")
	})
	b.Run("QRPNG", func(b *testing.B) {
		png, err := QRPNG(jws, 4)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := QRPNG(jws, 4); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pngs/s")
		b.ReportMetric(float64(len(png)), "png-bytes")
	})
}
