package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// course is the doses vaxload records for one beneficiary, in order, dated
// so that every interval of the catalog holds: two primary doses a hundred
// days apart (COVISHIELD needs 84), then a precaution dose today, ten months
// after the second (the catalog needs nine).
var course = []struct {
	vaccine string
	daysAgo int
}{
	{"COVISHIELD", 400},
	{"COVISHIELD", 300},
	{"COVISHIELD", 0},
}

// clinic is the staff side of the issue and download scenarios: centres, a
// vaccinator logged in at each, and an admin.
type clinic struct {
	admin       string
	centres     []string
	vaccinators []string // token of the vaccinator at centres[i]
}

func (e *env) clinic(ctx context.Context, vaccinators int) (*clinic, error) {
	admin, err := e.staff(ctx, "admin", adminIndex, nil)
	if err != nil {
		return nil, err
	}
	ids, err := e.places(ctx, admin, vaccinators, 1)
	if err != nil {
		return nil, err
	}
	c := &clinic{admin: admin, centres: ids, vaccinators: make([]string, vaccinators)}
	err = parallel(ctx, vaccinators, setupWorkers, func(ctx context.Context, i int) error {
		tok, err := e.staff(ctx, "vaccinator", vaccinatorIndex+i, []string{ids[i]})
		c.vaccinators[i] = tok
		return err
	})
	return c, err
}

// issued is a certificate a 2xx answer announced, and who may download it.
type issued struct {
	certID string
	owner  string // the citizen's token
}

// recordDose records the beneficiary's dose number n (1-based) by the
// vaccinator at centre v and returns the certificate the answer names.
func (e *env) recordDose(ctx context.Context, c *clinic, v int, b beneficiary, n int) (answer, string, error) {
	d := course[n-1]
	body := map[string]any{
		"beneficiary_reference_id": b.ref,
		"vaccine":                  d.vaccine,
		"lot":                      fmt.Sprintf("LOAD%04d", n),
		"dose_number":              n,
		"date":                     dayIST(-d.daysAgo).Format(time.DateOnly),
		"center_id":                c.centres[v],
	}
	key := fmt.Sprintf("vaxload-%s-%s-%d", e.run.mobileHead, b.ref, n)
	a, err := e.api.call(ctx, http.MethodPost, "/api/v1/vaccinations", body, c.vaccinators[v], map[string]string{"Idempotency-Key": key})
	if err != nil {
		return a, "", err
	}
	if a.status != http.StatusCreated {
		return a, "", fmt.Errorf("record dose %d: %s", n, a.describe())
	}
	var out struct {
		Certificate struct {
			ID     string `json:"certificate_id"`
			Status string `json:"status"`
		} `json:"certificate"`
	}
	if err := decode(a, "record dose", &out); err != nil {
		return a, "", err
	}
	if out.Certificate.ID == "" || out.Certificate.Status != "issued" {
		return a, out.Certificate.ID, fmt.Errorf("record dose %d: answered 201 with certificate %q in status %q, want issued",
			n, out.Certificate.ID, out.Certificate.Status)
	}
	return a, out.Certificate.ID, nil
}

// issueScenario: vaccinators record doses (each beneficiary's in order:
// two primary doses, then a precaution dose), each answered only once its
// certificate is signed and issued. Afterwards every certificate a 2xx
// answer named must be issued in the store.
func issueScenario(ctx context.Context, e *env) (*report, error) {
	rep := newReport("issue")
	o := e.opts
	nBen := min(o.beneficiaries, (o.requests+len(course)-1)/len(course))
	nBen = max(nBen, min(o.beneficiaries, o.workers)) // enough for every worker to have one
	start := time.Now()
	c, err := e.clinic(ctx, o.vaccinators)
	if err != nil {
		return nil, err
	}
	bens, err := e.citizens(ctx, nBen, maxPerAccount)
	if err != nil {
		return nil, err
	}
	rep.Setup = time.Since(start)
	rep.SetupNote = fmt.Sprintf("%d vaccinators at %d centres; %d beneficiaries of %d accounts, up to %d doses each",
		o.vaccinators, len(c.centres), nBen, (nBen+maxPerAccount-1)/maxPerAccount, len(course))

	// A queue of beneficiaries ready for their next dose: a worker takes one,
	// records its dose and puts it back, so one beneficiary's doses are never
	// recorded at once or out of order.
	ready := make(chan int, nBen)
	next := make([]int, nBen) // doses recorded so far; touched only by the worker holding the beneficiary
	for i := range nBen {
		ready <- i
	}
	var remaining atomic.Int64
	remaining.Store(int64(nBen))
	var closeOnce sync.Once
	retire := func() {
		if remaining.Add(-1) == 0 {
			closeOnce.Do(func() { close(ready) })
		}
	}
	var mu sync.Mutex
	var certs []issued

	ph := e.measure(ctx, "record dose", "certificates/s", e.bounds(o.workers), func(ctx context.Context, w, i int) outcome {
		var b int
		select {
		case x, ok := <-ready:
			if !ok {
				return outcome{err: errExhausted}
			}
			b = x
		case <-ctx.Done():
			return outcome{err: ctx.Err()}
		}
		n := next[b] + 1
		a, certID, err := e.recordDose(ctx, c, b%len(c.centres), bens[b], n)
		if err != nil {
			retire() // a beneficiary whose dose failed takes no more
			return outcome{status: a.status, err: err}
		}
		mu.Lock()
		certs = append(certs, issued{certID: certID, owner: bens[b].token})
		mu.Unlock()
		next[b] = n
		if n < len(course) {
			ready <- b
		} else {
			retire()
		}
		return outcome{status: a.status}
	})
	rep.Phases = append(rep.Phases, ph)
	rep.LoadAfter = loadAverage()
	rep.answersCheck(ph)

	// Every 201 named an issued certificate; the store must hold each one,
	// issued (the administrator's view reads it from the database).
	f := issueFacts{answered: ph.ok2xx(), announced: len(certs)}
	var missing atomic.Int64
	var firstProblem atomic.Value
	f.err = parallel(ctx, len(certs), setupWorkers, func(ctx context.Context, i int) error {
		var v struct {
			Status string `json:"status"`
		}
		err := e.api.callJSON(ctx, http.MethodGet, "/api/v1/admin/certificates/"+certs[i].certID, nil, c.admin, http.StatusOK, &v)
		if err == nil && v.Status != "issued" {
			err = fmt.Errorf("certificate %s is %q", certs[i].certID, v.Status)
		}
		if err != nil {
			missing.Add(1)
			firstProblem.CompareAndSwap(nil, err.Error())
		}
		return ctx.Err()
	})
	f.missing = int(missing.Load())
	f.firstProblem, _ = firstProblem.Load().(string)
	rep.Checks = append(rep.Checks, f.check())
	return rep, nil
}

// issueFacts is what the issue scenario found: 2xx answers, the
// certificates they named, and how many of those the store does not hold as
// issued.
type issueFacts struct {
	answered     int // 2xx answers
	announced    int // certificates named by them
	missing      int
	firstProblem string
	err          error // the checking itself failed
}

func (f issueFacts) check() check {
	detail := fmt.Sprintf("%d of %d certificates named by %d answers 2xx are issued in the store", f.announced-f.missing, f.announced, f.answered)
	if f.firstProblem != "" {
		detail += "; first problem: " + f.firstProblem
	}
	if f.err != nil {
		detail += "; checking failed: " + f.err.Error()
	}
	return check{Name: "every 2xx has its certificate", OK: f.err == nil && f.missing == 0 && f.announced == f.answered, Detail: detail}
}

// downloadScenario: citizens download their certificate PDFs. The first
// phase downloads each certificate once (every PDF is rendered); the second
// downloads them again, as citizens do, and measures the server's PDF cache.
func downloadScenario(ctx context.Context, e *env) (*report, error) {
	rep := newReport("download")
	o := e.opts
	start := time.Now()
	c, err := e.clinic(ctx, min(o.vaccinators, 4))
	if err != nil {
		return nil, err
	}
	certs, err := e.issueOne(ctx, c, o.certs)
	if err != nil {
		return nil, err
	}
	rep.Setup = time.Since(start)
	rep.SetupNote = fmt.Sprintf("%d beneficiaries with a first dose recorded, so %d certificates", o.certs, len(certs))

	pdfMagic := []byte("%PDF-")
	download := func(ctx context.Context, w, i int) outcome {
		cert := certs[i%len(certs)]
		a, err := e.api.call(ctx, http.MethodGet, "/api/v1/certificates/"+cert.certID+".pdf", nil, cert.owner, nil)
		if err != nil {
			return outcome{err: err}
		}
		if a.status != http.StatusOK {
			return outcome{status: a.status, err: fmt.Errorf("download: %s", a.describe())}
		}
		if ct := a.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(a.body, pdfMagic) {
			return outcome{status: a.status, err: fmt.Errorf("download: %d bytes of %q, not a PDF", len(a.body), ct)}
		}
		return outcome{status: a.status}
	}
	first := e.measure(ctx, "first download", "PDFs/s", bounds{requests: min(len(certs), o.requests), duration: o.duration, workers: o.workers, rate: o.rate}, download)
	rep.Phases = append(rep.Phases, first)
	rep.answersCheck(first)
	if rest := o.requests - first.Requests; rest > 0 && first.StoppedBy == "requests" {
		again := e.measure(ctx, "repeat download", "PDFs/s", bounds{requests: rest, duration: o.duration, workers: o.workers, rate: o.rate}, download)
		rep.Phases = append(rep.Phases, again)
		rep.answersCheck(again)
	}
	rep.LoadAfter = loadAverage()
	return rep, nil
}

// issueOne registers n beneficiaries and records a first dose for each,
// returning their certificates.
func (e *env) issueOne(ctx context.Context, c *clinic, n int) ([]issued, error) {
	bens, err := e.citizens(ctx, n, maxPerAccount)
	if err != nil {
		return nil, err
	}
	out := make([]issued, n)
	var done atomic.Int64
	stop := e.progressEvery("recorded %d of %d first doses", &done, n)
	defer stop()
	err = parallel(ctx, n, setupWorkers, func(ctx context.Context, i int) error {
		_, id, err := e.recordDose(ctx, c, i%len(c.centres), bens[i], 1)
		out[i] = issued{certID: id, owner: bens[i].token}
		done.Add(1)
		return err
	})
	return out, err
}
