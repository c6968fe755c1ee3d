package reliability

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sample is one request of a load run.
type sample struct {
	path       string
	start, end time.Time
	status     int
	problem    error // for non-2xx: why the answer is not a proper problem document
	slug       string
	err        error // transport error (no answer)
}

// loadReq is one kind of request of a load run.
type loadReq struct {
	method, path string
	body         func() string // nil for none
	token        string
}

func (r loadReq) name() string { return r.method + " " + r.path }

// loadRun sends requests from a few workers until stopped, keeping every
// sample.
type loadRun struct {
	base    string
	reqs    []loadReq
	client  *http.Client
	mu      sync.Mutex
	samples []sample
	stopc   chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func startLoad(base string, reqs []loadReq, workers int) *loadRun {
	l := &loadRun{base: base, reqs: reqs, stopc: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second}}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; ; i++ {
				select {
				case <-l.stopc:
					return
				default:
				}
				l.record(l.send(reqs[i%len(reqs)]))
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *loadRun) send(r loadReq) sample {
	s := sample{path: r.name(), start: time.Now()}
	var body io.Reader
	if r.body != nil {
		body = strings.NewReader(r.body())
	}
	req, err := http.NewRequest(r.method, l.base+r.path, body)
	if err != nil {
		s.err = err
		return s
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := l.client.Do(req)
	s.end = time.Now()
	if err != nil {
		s.err = err
		return s
	}
	defer resp.Body.Close()
	s.status = resp.StatusCode
	if resp.StatusCode >= 300 {
		p, err := readProblem(resp)
		s.problem, s.slug = err, strings.TrimPrefix(p.Type, "urn:vaxcert:problem:")
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return s
}

func (l *loadRun) record(s sample) {
	l.mu.Lock()
	l.samples = append(l.samples, s)
	l.mu.Unlock()
}

func (l *loadRun) stop() []sample {
	l.once.Do(func() { close(l.stopc) })
	l.wg.Wait()
	return l.samples
}

// between returns the samples started in [from, to).
func (l *loadRun) between(from, to time.Time) []sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sample
	for _, s := range l.samples {
		if !s.start.Before(from) && s.start.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// countAfter counts samples of path started after t.
func (l *loadRun) countAfter(path string, t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.samples {
		if s.path == path && s.start.After(t) {
			n++
		}
	}
	return n
}

// TestDatabaseOutage stops a private PostgreSQL under a running service and
// starts it again, under load: while it is down every request that needs it
// is answered 503 problem+json (never 500, never a hang) and /readyz says
// so; once it is back the service recovers by itself, without a restart.
func TestDatabaseOutage(t *testing.T) {
	pg := newPGCluster(t)
	// Without the (one-second) public search cache every public read
	// reaches the database; with it, answers cached just before the outage
	// would rightly be served during it.
	svc := startService(t, serviceOptions{db: pg.URL(), args: append([]string{"--search-cache", "0"}, generousLimits...)})

	// The load: readiness, public reads, a citizen's own reads and OTP
	// requests (a write), every one of them needing the database.
	token := svc.login(t, newMobile())
	var reqs []loadReq
	for _, p := range []string{"/readyz", "/api/v1/states", "/api/v2/admin/location/states"} {
		reqs = append(reqs, loadReq{method: "GET", path: p})
	}
	for _, p := range []string{"/api/v1/beneficiaries", "/api/v1/appointments", "/api/v1/certificates"} {
		reqs = append(reqs, loadReq{method: "GET", path: p, token: token})
	}
	reqs = append(reqs, loadReq{method: "POST", path: "/api/v1/auth/otp",
		body: func() string { return `{"mobile":"` + newMobile() + `"}` }})
	var paths []string
	for _, r := range reqs {
		paths = append(paths, r.name())
	}
	load := startLoad(svc.url, reqs, 4)
	defer load.stop()

	// enough waits until every path has n samples started after t.
	enough := func(what string, after time.Time, n int) {
		t.Helper()
		waitFor(t, 2*time.Minute, what, func() bool {
			for _, p := range paths {
				if load.countAfter(p, after) < n {
					return false
				}
			}
			return true
		})
	}
	expect := func(phase string, ss []sample, ok func(sample) error) {
		t.Helper()
		bad := 0
		for _, s := range ss {
			if err := ok(s); err != nil {
				if bad++; bad <= 5 {
					t.Errorf("%s: GET %s: %v", phase, s.path, err)
				}
			}
		}
		if bad > 5 {
			t.Errorf("%s: %d bad answers in all", phase, bad)
		}
	}
	all200 := func(s sample) error {
		if s.err != nil || s.status != http.StatusOK {
			return fmt.Errorf("status %d, err %v, problem %s", s.status, s.err, s.slug)
		}
		return nil
	}
	is503 := func(s sample) error {
		switch {
		case s.err != nil:
			return fmt.Errorf("no answer: %v", s.err)
		case s.status != http.StatusServiceUnavailable:
			return fmt.Errorf("status %d (%s), want 503", s.status, s.slug)
		case s.problem != nil:
			return s.problem
		}
		return nil
	}
	okOr503 := func(s sample) error {
		if s.err == nil && s.status == http.StatusOK {
			return nil
		}
		return is503(s)
	}

	t0 := time.Now()
	enough("load with the database up", t0, 10)
	expect("database up", load.between(t0, time.Now()), all200)

	cycles := sized(2, 6)
	for cycle := range cycles {
		mode := []string{"fast", "immediate"}[cycle%2]
		stopAt := time.Now()
		pg.stop(t, mode)
		pg.waitGone(t)
		downFrom := time.Now()
		enough("load with the database down", downFrom, 10)
		downTo := time.Now()
		expect(fmt.Sprintf("cycle %d (%s stop), database down", cycle+1, mode), load.between(downFrom, downTo), is503)

		pg.start(t)
		startedAt := time.Now()
		// Recovery by itself: the same process, the same pool, no restart.
		var recovered time.Time
		waitFor(t, 2*time.Minute, "the service to recover after PostgreSQL came back", func() bool {
			for _, r := range reqs {
				if s := load.send(r); s.err != nil || s.status != http.StatusOK {
					return false
				}
			}
			recovered = time.Now()
			return true
		})
		// Between the stop and steady state, answers are 200 or 503: never a
		// 500, never a hang.
		expect(fmt.Sprintf("cycle %d transitions", cycle+1), append(load.between(stopAt, downFrom), load.between(downTo, recovered)...), okOr503)
		steady := recovered.Add(500 * time.Millisecond)
		time.Sleep(time.Until(steady))
		enough("load after recovery", steady, 10)
		expect(fmt.Sprintf("cycle %d, database back", cycle+1), load.between(steady, time.Now()), all200)
		n503 := 0
		for _, s := range load.between(stopAt, recovered) {
			if s.status == http.StatusServiceUnavailable {
				n503++
			}
		}
		t.Logf("cycle %d (%s stop): %d answers 503 while down; recovered %s after PostgreSQL was started",
			cycle+1, mode, n503, recovered.Sub(startedAt).Round(time.Millisecond))
	}
	samples := load.stop()
	for _, s := range samples {
		if s.status == http.StatusInternalServerError {
			t.Errorf("a 500 answer during the outage test: %s %s", s.path, s.slug)
			break
		}
	}
	if t.Failed() {
		t.Logf("errors in the service log:\n%s", grepLines(svc.logs.String(), 30, `"status":500`))
	}
}
