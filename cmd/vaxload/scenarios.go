package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// A scenario sets up what it needs through the public API, runs its measured
// phases and checks its invariants. An error means the run could not be
// done (setup failed); a failed invariant is a check in the report.
type scenario func(ctx context.Context, e *env) (*report, error)

var scenarios = map[string]scenario{
	"search":   searchScenario,
	"rush":     rushScenario,
	"issue":    issueScenario,
	"download": downloadScenario,
	"verify":   verifyScenario,
}

func (e *env) bounds(workers int) bounds {
	return bounds{requests: e.opts.requests, duration: e.opts.duration, workers: workers, rate: e.opts.rate}
}

// answersCheck records whether every answer of a phase was one the scenario
// expects.
func (r *report) answersCheck(p phase) {
	r.check("answers "+p.Name, p.Errors == 0 && p.Requests > 0, "%d of %d answers unexpected (%s)", p.Errors, p.Requests, p.statusLine())
}

// searchScenario: anonymous Co-WIN clients search sessions by pincode
// (findByPin), the most frequent call of a rush day.
func searchScenario(ctx context.Context, e *env) (*report, error) {
	rep := newReport("search")
	start := time.Now()
	admin, err := e.staff(ctx, "admin", adminIndex, nil)
	if err != nil {
		return nil, err
	}
	o := e.opts
	ids, err := e.places(ctx, admin, o.centres, o.pincodes)
	if err != nil {
		return nil, err
	}
	day := dayIST(1)
	if err := parallel(ctx, len(ids), setupWorkers, func(ctx context.Context, i int) error {
		_, err := e.session(ctx, admin, ids[i], day, 100)
		return err
	}); err != nil {
		return nil, err
	}
	want := make([]int, o.pincodes)
	paths := make([]string, o.pincodes)
	for i := range ids {
		want[i%o.pincodes]++
	}
	for p := range paths {
		paths[p] = fmt.Sprintf("/api/v2/appointment/sessions/public/findByPin?pincode=%s&date=%s", e.run.pincode(p), day.Format("02-01-2006"))
	}
	rep.Setup = time.Since(start)
	rep.SetupNote = fmt.Sprintf("%d centres over %d pincodes, one session each on %s", o.centres, o.pincodes, day.Format(time.DateOnly))

	sessionKey := []byte(`"session_id"`)
	ph := e.measure(ctx, "findByPin", "searches/s", e.bounds(o.workers), func(ctx context.Context, w, i int) outcome {
		p := i % o.pincodes
		a, err := e.api.call(ctx, http.MethodGet, paths[p], nil, "", nil)
		if err != nil {
			return outcome{err: err}
		}
		if a.status != http.StatusOK {
			return outcome{status: a.status, err: fmt.Errorf("findByPin: %s", a.describe())}
		}
		if n := bytes.Count(a.body, sessionKey); n != want[p] {
			return outcome{status: a.status, err: fmt.Errorf("findByPin %s: %d sessions, want %d", e.run.pincode(p), n, want[p])}
		}
		return outcome{status: a.status}
	})
	rep.Phases = append(rep.Phases, ph)
	rep.LoadAfter = loadAverage()
	rep.answersCheck(ph)
	return rep, nil
}

// rushScenario: --clients citizens, each logged in with one beneficiary,
// race for a session of --slots first-dose places. Exactly min(clients,
// slots) must be booked: the answers say so, the session has no place left,
// and the centre's list of the day has exactly that many appointments.
func rushScenario(ctx context.Context, e *env) (*report, error) {
	rep := newReport("rush")
	o := e.opts
	clients := min(o.clients, o.requests)
	start := time.Now()
	admin, err := e.staff(ctx, "admin", adminIndex, nil)
	if err != nil {
		return nil, err
	}
	ids, err := e.places(ctx, admin, 1, 1)
	if err != nil {
		return nil, err
	}
	day := dayIST(1)
	sessionID, err := e.session(ctx, admin, ids[0], day, o.slots)
	if err != nil {
		return nil, err
	}
	bens, err := e.citizens(ctx, clients, 1)
	if err != nil {
		return nil, err
	}
	rep.Setup = time.Since(start)
	rep.SetupNote = fmt.Sprintf("%d citizens logged in, each with a beneficiary; a session of %d places on %s", clients, o.slots, day.Format(time.DateOnly))

	// Rush clients have the page open and their request ready: a keep-alive
	// connection each, and bodies encoded beforehand, so that the race
	// measures booking rather than one process dialling 2,000 connections.
	bodies := make([]rawBody, clients)
	for i, b := range bens {
		data, _ := json.Marshal(map[string]string{"beneficiary_reference_id": b.ref, "session_id": sessionID, "slot": "FORENOON"})
		bodies[i] = rawBody{data: data, contentType: "application/json"}
	}
	if err := e.warmConnections(ctx, clients); err != nil {
		return nil, err
	}
	// A worker per client, each with one attempt: all at once, or arriving
	// at --rate.
	ph := e.measure(ctx, "book", "attempts/s", bounds{requests: clients, duration: o.duration, workers: clients, rate: o.rate},
		func(ctx context.Context, w, i int) outcome {
			b := bens[i]
			a, err := e.api.call(ctx, http.MethodPost, "/api/v1/appointments", bodies[i], b.token, nil)
			if err != nil {
				return outcome{err: err}
			}
			switch {
			case a.status == http.StatusCreated:
			case a.status == http.StatusConflict && a.problemSlug() == "session-full":
			default:
				return outcome{status: a.status, err: fmt.Errorf("book: %s", a.describe())}
			}
			return outcome{status: a.status}
		})
	rep.Phases = append(rep.Phases, ph)
	rep.LoadAfter = loadAverage()
	rep.answersCheck(ph)

	f := rushFacts{clients: clients, slots: o.slots, booked: ph.Statuses[http.StatusCreated], complete: ph.StoppedBy == "requests"}
	var sess struct {
		Available int `json:"available_capacity"`
	}
	// A query no one has asked before, so a server that keeps public answers
	// for a moment answers from the database.
	fresh := "/api/v1/sessions/" + sessionID + "?vaxload=" + randDigits(12)
	f.availableErr = e.api.callJSON(ctx, http.MethodGet, fresh, nil, "", http.StatusOK, &sess)
	f.available = sess.Available
	var list struct {
		Appointments []struct {
			SessionID string `json:"session_id"`
			Status    string `json:"status"`
		} `json:"appointments"`
	}
	path := fmt.Sprintf("/api/v1/centres/%s/appointments?date=%s", ids[0], day.Format(time.DateOnly))
	f.listedErr = e.api.callJSON(ctx, http.MethodGet, path, nil, admin, http.StatusOK, &list)
	for _, a := range list.Appointments {
		if a.SessionID == sessionID && a.Status == "booked" {
			f.listed++
		}
	}
	rep.Checks = append(rep.Checks, f.checks()...)
	return rep, nil
}

// rushFacts is what a rush found: the answers, and the server's own view
// of the session afterwards.
type rushFacts struct {
	clients, slots int
	booked         int  // 201 answers
	complete       bool // every client made its attempt
	available      int  // places the session shows left
	availableErr   error
	listed         int // booked appointments in the centre's list of the day
	listedErr      error
}

// checks: exactly min(clients, slots) booked, by the answers, by the places
// left and by the centre's list.
func (f rushFacts) checks() []check {
	want := min(f.clients, f.slots)
	out := []check{{Name: "booked == capacity", OK: f.booked == want && f.complete,
		Detail: fmt.Sprintf("%d booked by the answers, want exactly %d (every client attempted: %v)", f.booked, want, f.complete)}}
	if f.availableErr != nil {
		out = append(out, check{Name: "session places left", Detail: f.availableErr.Error()})
	} else {
		out = append(out, check{Name: "session places left", OK: f.available == f.slots-f.booked && f.available >= 0,
			Detail: fmt.Sprintf("the session shows %d places left of %d, with %d booked", f.available, f.slots, f.booked)})
	}
	if f.listedErr != nil {
		out = append(out, check{Name: "centre list", Detail: f.listedErr.Error()})
	} else {
		out = append(out, check{Name: "centre list", OK: f.listed == f.booked && f.listed <= f.slots,
			Detail: fmt.Sprintf("the centre's list of the day has %d booked appointments in the session (capacity %d)", f.listed, f.slots)})
	}
	return out
}

// warmConnections opens up to n keep-alive connections to the server (n
// requests at once), which the client then reuses.
func (e *env) warmConnections(ctx context.Context, n int) error {
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		go func() {
			<-start
			a, err := e.api.call(ctx, http.MethodGet, "/healthz", nil, "", nil)
			if err == nil && a.status != http.StatusOK {
				err = fmt.Errorf("GET /healthz: %s", a.describe())
			}
			errs <- err
		}()
	}
	close(start)
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// decode is json.Unmarshal with the answer named in the error.
func decode(a answer, what string, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("%s: %v in %q", what, err, a.body)
	}
	return nil
}

// measure runs a measured phase, saying so on the progress output (to start
// a profile of the server at the right moment), and reads the server's own
// CPU time around it: CPU per request does not depend on what else the
// machine is doing, as throughput does.
func (e *env) measure(ctx context.Context, name, unit string, b bounds, f op) phase {
	e.logf("measuring %s: up to %d requests by %d workers, for at most %s", name, b.requests, b.workers, b.duration)
	cpu0, err0 := e.serverCPU(ctx)
	self0 := selfCPU()
	p := run(ctx, name, unit, b, f)
	self1 := selfCPU()
	cpu1, err1 := e.serverCPU(ctx)
	if err0 == nil && err1 == nil && p.Requests > 0 {
		p.ServerCPU = time.Duration((cpu1 - cpu0) * float64(time.Second))
		p.ServerCPUPerRequest = p.ServerCPU / time.Duration(p.Requests)
	}
	if self0 > 0 && p.Requests > 0 {
		p.ClientCPU = self1 - self0
		p.ClientCPUPerRequest = p.ClientCPU / time.Duration(p.Requests)
	}
	return p
}

// serverCPU is the server process's CPU time so far, from its Prometheus
// metrics (process_cpu_seconds_total).
func (e *env) serverCPU(ctx context.Context) (float64, error) {
	a, err := e.api.call(ctx, http.MethodGet, "/metrics", nil, "", nil)
	if err != nil {
		return 0, err
	}
	if a.status != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: %s", a.describe())
	}
	return parseCPUSeconds(a.body)
}

// parseCPUSeconds finds process_cpu_seconds_total in a Prometheus text
// exposition.
func parseCPUSeconds(metrics []byte) (float64, error) {
	for _, line := range bytes.Split(metrics, []byte{'\n'}) {
		name, value, ok := bytes.Cut(line, []byte{' '})
		if ok && string(name) == "process_cpu_seconds_total" {
			v, err := strconv.ParseFloat(string(bytes.TrimSpace(value)), 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("process_cpu_seconds_total %q", value)
			}
			return v, nil
		}
	}
	return 0, errors.New("no process_cpu_seconds_total in the metrics")
}
