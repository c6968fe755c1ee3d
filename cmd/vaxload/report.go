package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// report is the outcome of one run.
type report struct {
	Scenario   string        `json:"scenario"`
	Target     string        `json:"target"`
	Setup      time.Duration `json:"setup_ns"`
	SetupNote  string        `json:"setup"`
	Phases     []phase       `json:"measured"`
	Checks     []check       `json:"checks"`
	CPUs       int           `json:"cpus"`
	LoadBefore string        `json:"load_average_before"`
	LoadAfter  string        `json:"load_average_after"`
}

// check is one invariant verified after the measured phase.
type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func newReport(scenario string) *report {
	return &report{Scenario: scenario, CPUs: runtime.NumCPU(), LoadBefore: loadAverage()}
}

func (r *report) check(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// Passed reports whether every check held.
func (r *report) Passed() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// loadAverage is the machine's 1, 5 and 15-minute load averages, to read
// the figures against: other work on the machine takes CPU from the server.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func (r *report) writeText(w io.Writer) {
	fmt.Fprintf(w, "scenario    %s against %s\n", r.Scenario, r.Target)
	fmt.Fprintf(w, "setup       %s in %s\n", r.SetupNote, r.Setup.Round(time.Millisecond))
	for _, p := range r.Phases {
		arrivals := "closed loop"
		if p.Rate > 0 {
			arrivals = fmt.Sprintf("arriving at %.0f/s", p.Rate)
		}
		fmt.Fprintf(w, "phase       %s: %d requests by %d workers, %s, in %s (stopped by %s): %s\n",
			p.Name, p.Requests, p.Workers, arrivals, p.Elapsed.Round(time.Millisecond), p.StoppedBy, p.statusLine())
		fmt.Fprintf(w, "throughput  %.0f %s\n", p.PerSecond, p.Unit)
		fmt.Fprintf(w, "latency     p50 %s  p95 %s  p99 %s  max %s  mean %s\n",
			ms(p.Latency.P50), ms(p.Latency.P95), ms(p.Latency.P99), ms(p.Latency.Max), ms(p.Latency.Mean))
		if p.ServerCPU > 0 {
			fmt.Fprintf(w, "server CPU  %s in all, %.3fms per request (%.0f requests/s per core)\n",
				p.ServerCPU.Round(10*time.Millisecond), float64(p.ServerCPUPerRequest)/float64(time.Millisecond),
				float64(time.Second)/float64(p.ServerCPUPerRequest))
		}
		if p.ClientCPU > 0 {
			fmt.Fprintf(w, "client CPU  %s in all, %.3fms per request (vaxload itself)\n",
				p.ClientCPU.Round(10*time.Millisecond), float64(p.ClientCPUPerRequest)/float64(time.Millisecond))
		}
		for _, e := range p.FirstErrs {
			fmt.Fprintf(w, "error       %s\n", e)
		}
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "check %s  %s: %s\n", mark, c.Name, c.Detail)
	}
	fmt.Fprintf(w, "machine     %d CPUs, load average %s before, %s after\n", r.CPUs, r.LoadBefore, r.LoadAfter)
	if r.Passed() {
		fmt.Fprintln(w, "result      PASS")
	} else {
		fmt.Fprintln(w, "result      FAIL")
	}
}

func (r *report) writeJSON(w io.Writer) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	out := struct {
		*report
		Passed bool `json:"passed"`
	}{r, r.Passed()}
	enc.Encode(out)
}
