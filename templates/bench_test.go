package templates

import (
	"testing"
)

func BenchmarkRenderPDF(b *testing.B) {
	c := sampleCertificate(b)
	for _, v := range []struct {
		name string
		o    Options
	}{{"hi", Options{}}, {"en", Options{Lang: "en"}}, {"travel", Options{Variant: VariantTravel}}} {
		b.Run(v.name, func(b *testing.B) {
			pdf, err := RenderPDF(c, v.o)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := RenderPDF(c, v.o); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pdfs/s")
			b.ReportMetric(float64(len(pdf)), "bytes/pdf")
		})
	}
}
