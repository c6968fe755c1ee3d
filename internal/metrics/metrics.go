// Package metrics holds the service's Prometheus metrics, so every package
// counts into one registry that GET /metrics serves.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is what /metrics exposes.
var Registry = prometheus.NewRegistry()

var (
	// HTTPRequests counts requests by route pattern (never the raw path, which
	// may carry IDs), method and status code.
	HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vaxcert_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "code"})
	// HTTPDuration observes request latency by route pattern.
	HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "vaxcert_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method"})
	// Certificates counts issuance outcomes: issued, recovered (finished after
	// a restart), failed.
	Certificates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vaxcert_certificates_total", Help: "Certificate issuance outcomes.",
	}, []string{"outcome"})
	// Bookings counts booking attempts by outcome: booked, full, rejected, cancelled.
	Bookings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vaxcert_bookings_total", Help: "Booking attempts by outcome.",
	}, []string{"outcome"})
	// OTPs counts OTP events: sent, verified, wrong, expired, capped.
	OTPs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vaxcert_otp_total", Help: "OTP events by outcome.",
	}, []string{"outcome"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		HTTPRequests, HTTPDuration, Certificates, Bookings, OTPs,
	)
}
