package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// outcome is what one measured request did.
type outcome struct {
	status int   // HTTP status; 0 when err is set
	err    error // transport error, or an answer that broke the scenario's rules
}

// op performs the i-th request of a measured phase (i counts from 0 across
// all workers) on behalf of worker w.
type op func(ctx context.Context, w, i int) outcome

// bounds limit a measured phase: it stops at whichever comes first. With a
// rate, requests start on a schedule (open loop: i at start + i/rate), as
// clients arriving independently do, and each latency counts from the
// scheduled start, so a server that falls behind is not flattered by
// clients that wait for it; without, each worker sends its next request when
// the previous one is answered (closed loop).
type bounds struct {
	requests int
	duration time.Duration
	workers  int
	rate     float64 // requests per second; 0: closed loop
}

// phase is the measured result of one run of an op.
type phase struct {
	Name      string         `json:"name"`
	Unit      string         `json:"unit"` // what PerSecond counts, e.g. "certificates/s"
	Workers   int            `json:"workers"`
	Rate      float64        `json:"rate,omitempty"` // scheduled arrivals per second (open loop)
	Requests  int            `json:"requests"`
	Elapsed   time.Duration  `json:"elapsed_ns"`
	PerSecond float64        `json:"per_second"`
	Statuses  map[int]int    `json:"statuses"` // by HTTP status; 0 counts transport errors
	Errors    int            `json:"errors"`   // transport errors or broken rules
	FirstErrs []string       `json:"first_errors,omitempty"`
	Latency   latencySummary `json:"latency"`
	StoppedBy string         `json:"stopped_by"` // "requests", "duration", "work done" or "cancelled"
	// The server process's CPU time during the phase (from its metrics),
	// and per request; zero when the metrics could not be read.
	ServerCPU           time.Duration `json:"server_cpu_ns,omitempty"`
	ServerCPUPerRequest time.Duration `json:"server_cpu_per_request_ns,omitempty"`
	// vaxload's own CPU time during the phase: on one machine, the load
	// generator takes CPU the server and the database do not get.
	ClientCPU           time.Duration `json:"client_cpu_ns,omitempty"`
	ClientCPUPerRequest time.Duration `json:"client_cpu_per_request_ns,omitempty"`
}

type latencySummary struct {
	P50  time.Duration `json:"p50_ns"`
	P95  time.Duration `json:"p95_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// errExhausted is what an op returns when the scenario has no work left
// (every beneficiary has had all its doses): the worker stops.
var errExhausted = errors.New("no work left")

// maxKeptErrors bounds the error messages a phase keeps to show.
const maxKeptErrors = 5

// run drives op with b.workers concurrent workers (a closed loop: each worker
// sends its next request when the previous one is answered) until b.requests
// have been sent or b.duration has passed, and measures every request.
func run(ctx context.Context, name, unit string, b bounds, f op) phase {
	if b.workers < 1 {
		b.workers = 1
	}
	ctx, cancel := context.WithTimeout(ctx, b.duration)
	defer cancel()

	type local struct {
		lat      []time.Duration
		statuses map[int]int
		errs     []string
		nerr     int
	}
	locals := make([]local, b.workers)
	var next atomic.Int64
	var exhausted atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for w := range b.workers {
		locals[w].statuses = map[int]int{}
		locals[w].lat = make([]time.Duration, 0, min(b.requests/b.workers+1, 1<<16))
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &locals[w]
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= b.requests {
					return
				}
				t0 := time.Now()
				if b.rate > 0 {
					t0 = start.Add(time.Duration(float64(i) / b.rate * float64(time.Second)))
					if wait := time.Until(t0); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
							return
						}
					}
				}
				o := f(ctx, w, i)
				d := time.Since(t0)
				if errors.Is(o.err, errExhausted) {
					// The scenario has no work left: not a request.
					exhausted.Store(true)
					return
				}
				if o.err != nil && ctx.Err() != nil && (errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded)) {
					// Cut off by the end of the phase: not a measurement.
					return
				}
				l.lat = append(l.lat, d)
				l.statuses[o.status]++
				if o.err != nil {
					l.nerr++
					if len(l.errs) < maxKeptErrors {
						l.errs = append(l.errs, o.err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	p := phase{Name: name, Unit: unit, Workers: b.workers, Rate: b.rate, Elapsed: elapsed, Statuses: map[int]int{}}
	var all []time.Duration
	for _, l := range locals {
		all = append(all, l.lat...)
		for s, n := range l.statuses {
			p.Statuses[s] += n
		}
		p.Errors += l.nerr
		for _, e := range l.errs {
			if len(p.FirstErrs) < maxKeptErrors {
				p.FirstErrs = append(p.FirstErrs, e)
			}
		}
	}
	p.Requests = len(all)
	p.Latency = summarize(all)
	if elapsed > 0 {
		p.PerSecond = float64(p.Requests) / elapsed.Seconds()
	}
	switch {
	case exhausted.Load():
		p.StoppedBy = "work done"
	case int(next.Load()) >= b.requests:
		p.StoppedBy = "requests"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		p.StoppedBy = "duration"
	default:
		p.StoppedBy = "cancelled"
	}
	return p
}

// summarize sorts the latencies (exact percentiles: a phase is bounded in
// requests, so keeping them all is affordable).
func summarize(d []time.Duration) latencySummary {
	if len(d) == 0 {
		return latencySummary{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	q := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.999999) - 1 // nearest rank
		return d[max(0, min(i, len(d)-1))]
	}
	return latencySummary{P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: d[len(d)-1], Mean: sum / time.Duration(len(d))}
}

// ok2xx counts the answers with a 2xx status.
func (p phase) ok2xx() int {
	n := 0
	for s, c := range p.Statuses {
		if s >= 200 && s < 300 {
			n += c
		}
	}
	return n
}

// statusLine lists the statuses seen, e.g. "201×100 409×1900".
func (p phase) statusLine() string {
	codes := make([]int, 0, len(p.Statuses))
	for s := range p.Statuses {
		codes = append(codes, s)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, s := range codes {
		label := fmt.Sprint(s)
		if s == 0 {
			label = "error"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", label, p.Statuses[s]))
	}
	return strings.Join(parts, " ")
}
