package reliability

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// metricsSnapshot is a /metrics scrape: "name{labels}" → value.
type metricsSnapshot map[string]float64

func scrape(t *testing.T, s *service) metricsSnapshot {
	t.Helper()
	r := s.client("").must(t, http.StatusOK, "GET", "/metrics", nil)
	m := metricsSnapshot{}
	for _, line := range strings.Split(string(r.body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// sum adds the series of a metric whose labels include every one given
// (e.g. `outcome="issued"`).
func (m metricsSnapshot) sum(name string, labels ...string) float64 {
	total := 0.0
	for k, v := range m {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(k, l)
		}
		if ok {
			total += v
		}
	}
	return total
}

// TestOperationalMetrics: /metrics counts requests by route pattern, and a
// flow moves the issuance, booking and OTP counters by what it did. Every
// log line is JSON, and every line logged within a request carries its
// request ID.
func TestOperationalMetrics(t *testing.T) {
	f := newFlow(t)
	svc := f.svc
	before := scrape(t, svc)

	// One more of each: an OTP sent and verified, a wrong OTP, a booking,
	// a refused booking, a cancellation, a dose with its certificate.
	token := svc.login(t, newMobile())
	txn, otp := svc.requestOTP(t, f.mobileA)
	svc.client("").must(t, http.StatusUnauthorized, "POST", "/api/v1/auth/otp/confirm", map[string]string{"txn_id": txn, "otp": wrongOTP(otp, 0)})
	c := svc.client(token)
	ref := c.addBeneficiary(t, "Metric Rao", newAadhaar())
	appt := f.book(t, c, ref)
	c.must(t, http.StatusConflict, "POST", "/api/v1/appointments", map[string]string{"beneficiary_reference_id": ref, "session_id": f.sessionA, "slot": f.slot})
	c.must(t, http.StatusOK, "POST", "/api/v1/appointments/"+appt+"/cancel", nil)
	svc.client(f.vaxA).must(t, http.StatusCreated, "POST", "/api/v1/vaccinations", doseBody(ref, 1, todayIST(), centreA), "Idempotency-Key", newKey())

	after := scrape(t, svc)
	for _, c := range []struct {
		name   string
		labels []string
		delta  float64
	}{
		{"vaxcert_otp_total", []string{`outcome="sent"`}, 2},
		{"vaxcert_otp_total", []string{`outcome="verified"`}, 1},
		{"vaxcert_otp_total", []string{`outcome="wrong"`}, 1},
		{"vaxcert_bookings_total", []string{`outcome="booked"`}, 1},
		{"vaxcert_bookings_total", []string{`outcome="rejected"`}, 1},
		{"vaxcert_bookings_total", []string{`outcome="cancelled"`}, 1},
		{"vaxcert_certificates_total", []string{`outcome="issued"`}, 1},
		{"vaxcert_http_requests_total", []string{`route="/api/v1/vaccinations"`, `method="POST"`, `code="201"`}, 1},
		{"vaxcert_http_requests_total", []string{`route="/api/v1/appointments/{id}/cancel"`, `code="200"`}, 1},
		{"vaxcert_http_request_duration_seconds_count", []string{`route="/api/v1/auth/otp"`}, 2},
	} {
		if got := after.sum(c.name, c.labels...) - before.sum(c.name, c.labels...); got != c.delta {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.delta)
		}
	}
	// Route patterns, never raw paths with IDs, label the requests.
	for k := range after {
		if strings.Contains(k, f.refB) || strings.Contains(k, f.certB) || strings.Contains(k, appt) {
			t.Errorf("a metric is labelled with an ID: %s", k)
		}
	}

	// Structured logs: JSON, and a request ID on every line of a request.
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(svc.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line is not JSON: %.200s", line)
			continue
		}
		_, inRequest := rec["path"]
		if rec["msg"] == "request failed" || inRequest {
			lines++
			if id, _ := rec["request_id"].(string); id == "" {
				t.Errorf("a log line of a request has no request_id: %.300s", line)
			}
		}
	}
	if lines < 20 {
		t.Errorf("only %d request log lines", lines)
	}
}
