package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/registration"
	"github.com/vaxcert/vaxcert/shc"
)

func TestLoopbackTarget(t *testing.T) {
	tests := []struct {
		url      string
		wantDial string // "" when refused
	}{
		{"http://127.0.0.1:8080", "127.0.0.1:8080"},
		{"http://127.0.0.2:9000/", "127.0.0.2:9000"},
		{"http://[::1]:8080", "[::1]:8080"},
		{"http://localhost:8080", "*"}, // resolves to 127.0.0.1 or ::1
		{"https://127.0.0.1", "127.0.0.1:443"},
		{"http://127.0.0.1", "127.0.0.1:80"},
		{"http://10.0.0.1:8080", ""},
		{"http://192.0.2.1:8080", ""},
		{"http://0.0.0.0:8080", ""}, // every address, not loopback
		{"http://[::]:8080", ""},
		{"http://[::ffff:192.0.2.1]:8080", ""},
		{"http://vaxcert.invalid:8080", ""}, // does not resolve
		{"ftp://127.0.0.1", ""},
		{"127.0.0.1:8080", ""},
		{"http://user:pw@127.0.0.1:8080", ""},
		{"http://127.0.0.1:8080/?q=1", ""},
		{"http://127.0.0.1:8080/#x", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, dial, err := loopbackTarget(context.Background(), tt.url)
			switch {
			case tt.wantDial == "" && err == nil:
				t.Fatalf("accepted, dialling %s", dial)
			case tt.wantDial != "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantDial == "*":
				host, _, _ := net.SplitHostPort(dial)
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					t.Fatalf("dials %s", dial)
				}
			case tt.wantDial != "" && dial != tt.wantDial:
				t.Fatalf("dials %s, want %s", dial, tt.wantDial)
			}
		})
	}
}

// TestClientDialsOnlyTheCheckedAddress: whatever host a request names, the
// connection goes to the checked loopback address, and redirects are not
// followed.
func TestClientDialsOnlyTheCheckedAddress(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
			return
		}
		fmt.Fprint(w, "here")
	}))
	defer srv.Close()
	_, dial, err := loopbackTarget(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := newHTTPClient(dial, 2, 5*time.Second)
	resp, err := c.Get("http://vaxcert.invalid/anything")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get("http://vaxcert.invalid/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || hits.Load() != 2 {
		t.Fatalf("status %d after %d requests: the redirect was followed", resp.StatusCode, hits.Load())
	}
}

func TestRunStopsAtRequests(t *testing.T) {
	var calls atomic.Int64
	p := run(context.Background(), "t", "req/s", bounds{requests: 1000, duration: time.Minute, workers: 7}, func(ctx context.Context, w, i int) outcome {
		calls.Add(1)
		if i%10 == 0 {
			return outcome{status: 409}
		}
		return outcome{status: 200}
	})
	if calls.Load() != 1000 || p.Requests != 1000 || p.StoppedBy != "requests" {
		t.Fatalf("%d calls, %d requests, stopped by %s", calls.Load(), p.Requests, p.StoppedBy)
	}
	if p.Statuses[200] != 900 || p.Statuses[409] != 100 || p.ok2xx() != 900 || p.Errors != 0 {
		t.Fatalf("statuses %v, errors %d", p.Statuses, p.Errors)
	}
	if p.statusLine() != "200×900 409×100" {
		t.Fatalf("status line %q", p.statusLine())
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	start := time.Now()
	p := run(context.Background(), "t", "req/s", bounds{requests: maxRequests, duration: 100 * time.Millisecond, workers: 3}, func(ctx context.Context, w, i int) outcome {
		select {
		case <-time.After(5 * time.Millisecond):
			return outcome{status: 200}
		case <-ctx.Done():
			return outcome{err: ctx.Err()}
		}
	})
	if p.StoppedBy != "duration" || p.Requests == 0 || p.Requests >= maxRequests {
		t.Fatalf("stopped by %s after %d requests", p.StoppedBy, p.Requests)
	}
	// Requests cut off by the deadline are not measurements.
	if p.Errors != 0 || p.Statuses[0] != 0 {
		t.Fatalf("errors %d, statuses %v", p.Errors, p.Statuses)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("did not stop")
	}
}

func TestRunCountsErrorsAndStopsWhenExhausted(t *testing.T) {
	var left atomic.Int64
	left.Store(50)
	p := run(context.Background(), "t", "req/s", bounds{requests: 1000, duration: time.Minute, workers: 4}, func(ctx context.Context, w, i int) outcome {
		if left.Add(-1) < 0 {
			return outcome{err: errExhausted}
		}
		if i%5 == 0 {
			return outcome{status: 500, err: errors.New("boom")}
		}
		return outcome{status: 201}
	})
	if p.Requests != 50 || p.StoppedBy != "work done" || p.Errors != p.Statuses[500] || p.Errors == 0 {
		t.Fatalf("%d requests, stopped by %s, %d errors, statuses %v", p.Requests, p.StoppedBy, p.Errors, p.Statuses)
	}
	if len(p.FirstErrs) == 0 || len(p.FirstErrs) > maxKeptErrors || p.FirstErrs[0] != "boom" {
		t.Fatalf("kept errors %q", p.FirstErrs)
	}
}

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	tests := []struct {
		name               string
		in                 []time.Duration
		p50, p95, p99, max time.Duration
	}{
		{"empty", nil, 0, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"hundred", ms(hundred...), 50 * time.Millisecond, 95 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond},
		{"outlier", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1000), time.Millisecond, 1000 * time.Millisecond, 1000 * time.Millisecond, 1000 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(tt.in)
			if s.P50 != tt.p50 || s.P95 != tt.p95 || s.P99 != tt.p99 || s.Max != tt.max {
				t.Fatalf("%+v", s)
			}
		})
	}
}

func TestOutboxFollowsFromItsStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sms-outbox.jsonl")
	write := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	write(`{"time":"2026-01-01T00:00:00Z","to":"9876543210","text":"111111 is your vaxcert login OTP."}` + "\n")
	o, err := openOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if otp, err := o.otp(ctx, "9876543210"); err == nil {
		t.Fatalf("an OTP sent before the run was used: %s", otp)
	}
	// A line still being written is not read until it is complete.
	write(`{"time":"2026-01-01T00:00:01Z","to":"9876543210","text":"222222 is your`)
	done := make(chan string, 1)
	go func() {
		otp, _ := o.otp(context.Background(), "9876543210")
		done <- otp
	}()
	time.Sleep(50 * time.Millisecond)
	write(` vaxcert login OTP."}` + "\n" + `{"time":"2026-01-01T00:00:02Z","to":"9000000001","text":"333333 is your vaxcert login OTP."}` + "\n")
	if otp := <-done; otp != "222222" {
		t.Fatalf("got %q", otp)
	}
	if otp, err := o.otp(context.Background(), "9000000001"); err != nil || otp != "333333" {
		t.Fatalf("got %q, %v", otp, err)
	}
}

func TestScanOTPs(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		consumed int
		want     map[string]string
		err      bool
	}{
		{"empty", "", 0, map[string]string{}, false},
		{"partial line", `{"to":"9876543210","text":"123456 is`, 0, map[string]string{}, false},
		{"newest wins", `{"to":"9876543210","text":"123456 x"}` + "\n" + `{"to":"9876543210","text":"654321 y"}` + "\n", -1, map[string]string{"9876543210": "654321"}, false},
		{"not an OTP", `{"to":"9876543210","text":"Your appointment is booked"}` + "\n", -1, map[string]string{}, false},
		{"blank lines", "\n\n", 2, map[string]string{}, false},
		{"not JSON", "garbage\n", 0, map[string]string{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.consumed < 0 { // all of it
				tt.consumed = len(tt.in)
			}
			got := map[string]string{}
			n, err := scanOTPs([]byte(tt.in), got)
			if (err != nil) != tt.err || (err == nil && n != tt.consumed) || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("consumed %d, %v, err %v", n, got, err)
			}
		})
	}
}

func FuzzScanOTPs(f *testing.F) {
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","to":"9876543210","text":"123456 is your vaxcert login OTP."}` + "\n"))
	f.Add([]byte("{\"to\":\"1\",\"text\":\"\"}\n{"))
	f.Add([]byte("\n\n\n"))
	f.Add([]byte(`{"to":null,"text":7}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		otps := map[string]string{}
		n, err := scanOTPs(data, otps)
		if n < 0 || n > len(data) || (n > 0 && data[n-1] != '\n') {
			t.Fatalf("consumed %d of %d", n, len(data))
		}
		if err != nil && n != 0 {
			t.Fatalf("consumed %d with an error", n)
		}
		for _, otp := range otps {
			if len(otp) != 6 || strings.Trim(otp, "0123456789") != "" {
				t.Fatalf("OTP %q", otp)
			}
		}
	})
}

func TestAnswerDescribe(t *testing.T) {
	tests := []struct {
		a    answer
		slug string
		desc string
	}{
		{answer{status: 409, body: []byte(`{"type":"urn:vaxcert:problem:session-full","title":"x"}`)}, "session-full", "409 session-full"},
		{answer{status: 502, body: []byte("bad gateway")}, "", `502 "bad gateway"`},
		{answer{status: 500, body: bytes.Repeat([]byte("x"), 500)}, "", `500 "` + strings.Repeat("x", 200) + `"`},
	}
	for _, tt := range tests {
		if s := tt.a.problemSlug(); s != tt.slug {
			t.Errorf("slug %q, want %q", s, tt.slug)
		}
		if d := tt.a.describe(); d != tt.desc {
			t.Errorf("describe %q, want %q", d, tt.desc)
		}
	}
}

// TestIdentitiesAreValid: the mobiles, ID numbers and names vaxload makes
// pass the server's own validation, and differ between indices.
func TestIdentitiesAreValid(t *testing.T) {
	r := newRunID()
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 9, 10, 25, 26, 27, 675, 676, 9999, 99999} {
		m := r.mobile(i)
		if n, err := registration.NormalizeMobile(m); err != nil || n != m {
			t.Errorf("mobile %q: %v", m, err)
		}
		if _, err := registration.NormalizeID(registration.Aadhaar, r.aadhaar(i)); err != nil {
			t.Errorf("aadhaar %q: %v", r.aadhaar(i), err)
		}
		if _, err := registration.NormalizeName(personName(i)); err != nil {
			t.Errorf("name %q: %v", personName(i), err)
		}
		for _, v := range []string{"m" + m, "a" + r.aadhaar(i), "n" + personName(i), "c" + r.centre(i)} {
			if seen[v] {
				t.Errorf("%s repeats", v)
			}
			seen[v] = true
		}
	}
}

func TestOptionsAreBounded(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"search"}, true},
		{[]string{"rush", "--clients", "2000", "--slots", "100"}, true},
		{[]string{"search", "--requests", "0"}, false},
		{[]string{"search", "--requests", "5000001"}, false},
		{[]string{"search", "--duration", "0s"}, false},
		{[]string{"search", "--duration", "11m"}, false},
		{[]string{"search", "--timeout", "31m"}, false},
		{[]string{"search", "--workers", "0"}, false},
		{[]string{"rush", "--clients", "100001"}, false},
		{[]string{"search", "--pincodes", "50", "--centres", "10"}, false},
		{[]string{"fly"}, false},
		{[]string{"search", "extra"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseOptions(tt.args, &bytes.Buffer{})
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestRefusesOtherHosts: a non-loopback target is refused before any
// request or setup.
func TestRefusesOtherHosts(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := realMain(context.Background(), []string{"search", "--target", "http://192.0.2.1:8080", "--data", t.TempDir()}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "loopback") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestRushChecks(t *testing.T) {
	tests := []struct {
		name string
		f    rushFacts
		ok   bool
	}{
		{"exact", rushFacts{clients: 2000, slots: 100, booked: 100, complete: true, available: 0, listed: 100}, true},
		{"fewer clients", rushFacts{clients: 5, slots: 9, booked: 5, complete: true, available: 4, listed: 5}, true},
		{"overbooked", rushFacts{clients: 2000, slots: 100, booked: 101, complete: true, available: 0, listed: 101}, false},
		{"underbooked", rushFacts{clients: 2000, slots: 100, booked: 99, complete: true, available: 1, listed: 99}, false},
		{"places lie", rushFacts{clients: 2000, slots: 100, booked: 100, complete: true, available: 3, listed: 100}, false},
		{"list lies", rushFacts{clients: 2000, slots: 100, booked: 100, complete: true, available: 0, listed: 102}, false},
		{"cut short", rushFacts{clients: 2000, slots: 100, booked: 100, complete: false, available: 0, listed: 100}, false},
		{"list unreadable", rushFacts{clients: 2000, slots: 100, booked: 100, complete: true, listedErr: errors.New("503")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := true
			for _, c := range tt.f.checks() {
				ok = ok && c.OK
			}
			if ok != tt.ok {
				t.Fatalf("checks %+v", tt.f.checks())
			}
		})
	}
}

func TestIssueCheck(t *testing.T) {
	tests := []struct {
		name string
		f    issueFacts
		ok   bool
	}{
		{"all issued", issueFacts{answered: 300, announced: 300}, true},
		{"one missing", issueFacts{answered: 300, announced: 300, missing: 1, firstProblem: "certificate X is \"pending\""}, false},
		{"2xx without a certificate", issueFacts{answered: 300, announced: 299}, false},
		{"checking failed", issueFacts{answered: 300, announced: 300, err: context.DeadlineExceeded}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := tt.f.check(); c.OK != tt.ok {
				t.Fatalf("%+v", c)
			}
		})
	}
}

func TestReportPassed(t *testing.T) {
	r := newReport("x")
	if r.Passed() {
		t.Fatal("a report without checks passed")
	}
	r.check("a", true, "fine")
	if !r.Passed() {
		t.Fatal("failed")
	}
	r.check("b", false, "broken %d", 1)
	var out bytes.Buffer
	r.writeText(&out)
	if r.Passed() || !strings.Contains(out.String(), "check FAIL  b: broken 1") || !strings.Contains(out.String(), "result      FAIL") {
		t.Fatalf("%s", out.String())
	}
}

// TestRunOpenLoop: requests start on schedule whatever the server does,
// and a slow answer's latency counts from its scheduled start.
func TestRunOpenLoop(t *testing.T) {
	var slow atomic.Bool
	start := time.Now()
	p := run(context.Background(), "t", "req/s", bounds{requests: 20, duration: time.Minute, workers: 1, rate: 200}, func(ctx context.Context, w, i int) outcome {
		if i == 0 {
			slow.Store(true)
			time.Sleep(50 * time.Millisecond) // one worker: the next ones start late
		}
		return outcome{status: 200}
	})
	if p.Requests != 20 || p.Rate != 200 {
		t.Fatalf("%d requests at rate %v", p.Requests, p.Rate)
	}
	// 20 arrivals at 200/s span 95 ms at least.
	if time.Since(start) < 95*time.Millisecond {
		t.Fatalf("finished in %s: not paced", time.Since(start))
	}
	// The request scheduled at 5 ms waited for the slow first one: its
	// latency counts the wait (about 45 ms), so p95 is well above the
	// instant answers.
	if p.Latency.P95 < 20*time.Millisecond {
		t.Fatalf("p95 %s: the wait for a busy worker was not counted", p.Latency.P95)
	}
}

func TestParseCPUSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 21.28\n", 21.28, true},
		{"go_goroutines 16\nprocess_cpu_seconds_total 1e+02\n", 100, true},
		{"process_cpu_seconds_total_other 3\n", 0, false},
		{"process_cpu_seconds_total abc\n", 0, false},
		{"process_cpu_seconds_total -1\n", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseCPUSeconds([]byte(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%q: %v, %v", tt.in, got, err)
		}
	}
}

func TestTamperKeepsTheTextWellFormed(t *testing.T) {
	text := shc.QRText("eyJhbGciOiJFUzI1NiJ9.AAAA.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl")
	bad := tamper(text)
	if bad == text || len(bad) != len(text) {
		t.Fatal("not changed")
	}
	jws, err := shc.ParseQRText(bad)
	if err != nil {
		t.Fatalf("the tampered text is not well formed: %v", err)
	}
	if good, _ := shc.ParseQRText(text); jws == good {
		t.Fatal("same JWS")
	}
}

func TestVerdictOf(t *testing.T) {
	tests := []struct {
		body string
		want string
		ok   bool
	}{
		{`{"schema_version":1,"results":[{"status":"valid"}],"summary":{"total":1}}`, "valid", true},
		{`{"results":[{"status":"invalid","reasons":[{"code":"signature_invalid"}]}]}`, "invalid", true},
		{`{"results":[]}`, "", false},
		{`{"results":[{"status":"valid"},{"status":"valid"}]}`, "", false},
		{`[]`, "", false},
	}
	for _, tt := range tests {
		got, err := verdictOf([]byte(tt.body))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: %q, %v", tt.body, got, err)
		}
	}
}
