package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRecordDoseHTTP records doses through the whole HTTP stack
// (routing, token, JSON, the issuer, SQLite), 64 requests in flight per CPU.
func BenchmarkRecordDoseHTTP(b *testing.B) {
	h := newIssuingServer(b)
	refs := make([]string, b.N)
	for i := range refs {
		refs[i] = h.Beneficiary(b, fmt.Sprintf("Bench Person %c", 'A'+i%26), "1980-01-01", 10+i).RefID
	}
	today := h.Book.Today().Format(time.DateOnly)
	var next atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			rec := h.do("POST", "/api/v1/vaccinations", h.vaccinator, doseBody(refs[i], 1, "COVAXIN", today), "Idempotency-Key", refs[i])
			if rec.Code != http.StatusCreated {
				b.Errorf("%d %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}

// BenchmarkDownloadPDF downloads certificate PDFs (with public download
// grants); after its first request each comes from the issuer's in-memory
// cache.
func BenchmarkDownloadPDF(b *testing.B) {
	h := newIssuingServer(b)
	var paths []string
	for i := range 20 {
		ref := h.Beneficiary(b, fmt.Sprintf("Pdf Person %c", 'A'+i), "1980-01-01", 10+i).RefID
		var out recordedResponse
		rec := h.do("POST", "/api/v1/vaccinations", h.vaccinator, doseBody(ref, 1, "COVAXIN", h.Book.Today().Format(time.DateOnly)), "Idempotency-Key", ref)
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusCreated {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		grant := grantKey(h.downloadGrant).issue(ref, time.Now().Add(time.Hour))
		paths = append(paths, "/api/v1/certificates/"+out.Certificate.ID+".pdf?access="+grant)
	}
	start := time.Now()
	for _, p := range paths {
		if rec := h.do("GET", p, "", ""); rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	firstRender := float64(time.Since(start).Microseconds()) / float64(len(paths))
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := paths[next.Add(1)%int64(len(paths))]
			if rec := h.do("GET", p, "", ""); rec.Code != http.StatusOK {
				b.Errorf("%d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pdfs/s")
	b.ReportMetric(firstRender, "µs/first-render")
}
