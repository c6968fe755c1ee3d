package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/config"
	"github.com/vaxcert/vaxcert/internal/pgtest"
)

// The scenario tests run every scenario briefly, with tiny sizes, against a
// real `vaxcert serve` process (the binary, built once) on SQLite and on
// PostgreSQL, and require every invariant to hold. They check outcomes,
// never timings.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// vaxcertBinary builds cmd/vaxcert once per test run.
func vaxcertBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "vaxload-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "vaxcert")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/vaxcert/vaxcert/cmd/vaxcert").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/vaxcert: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// loadLimits raise the server's per-client limits: every vaxload client
// comes from 127.0.0.1.
var loadLimits = []string{
	"--otp-cooldown", "0", "--otp-per-mobile", "1000000", "--otp-per-ip", "100000000",
	"--search-rate", "100000000", "--search-burst", "100000000",
	"--booking-rate", "100000000", "--booking-burst", "100000000",
}

// server is a running `vaxcert serve`.
type server struct {
	base, data, db string
	logs           *tailBuffer
}

// startServer runs `vaxcert serve` on a free loopback port until the test
// ends.
func startServer(t *testing.T, db string) *server {
	t.Helper()
	bin := vaxcertBinary(t)
	s := &server{data: t.TempDir(), db: db, logs: &tailBuffer{max: 64 << 10}}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", s.data, "--issuer-url", "https://vaxcert.test"}, loadLimits...)
	if db != "" {
		args = append(args, "--db", db)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			s.logs.Write(append(line, '\n'))
			var l struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &l) == nil && l.Msg == "vaxcert listening" {
				select {
				case addr <- l.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log (tail):\n%s", s.logs)
		}
	})
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-exited:
		t.Fatalf("vaxcert serve exited: %v\n%s", err, s.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("vaxcert serve did not start:\n%s", s.logs)
	}
	return s
}

// cleanEnv is the environment without VAXCERT_ settings that would change
// the server or vaxload under test.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAXCERT_") {
			out = append(out, kv)
		}
	}
	return out
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// runVaxload runs vaxload's realMain against s and decodes its JSON report.
func runVaxload(t *testing.T, s *server, scenario string, args ...string) (int, jsonReport, string) {
	t.Helper()
	// vaxload's flags must not come from the environment here.
	newFlagSet(&options{}, io.Discard).VisitAll(func(f *flag.Flag) {
		if name := config.EnvName(f.Name); os.Getenv(name) != "" {
			t.Setenv(name, "") // restored when the test ends
			os.Unsetenv(name)
		}
	})
	full := append([]string{scenario, "--target", s.base, "--data", s.data, "--vaxcert", vaxcertBinary(t), "--json",
		"--duration", "2m", "--timeout", "4m"}, args...)
	if s.db != "" {
		full = append(full, "--db", s.db)
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code := realMain(ctx, full, &stdout, &stderr)
	var rep jsonReport
	if code != exitUsage {
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("vaxload %s: exit %d, report not JSON: %v\nstdout: %s\nstderr: %s", scenario, code, err, stdout.String(), stderr.String())
		}
	}
	return code, rep, stderr.String()
}

// jsonReport is the --json report as a user would read it.
type jsonReport struct {
	Scenario string `json:"scenario"`
	Passed   bool   `json:"passed"`
	Measured []struct {
		Name      string      `json:"name"`
		Requests  int         `json:"requests"`
		Statuses  map[int]int `json:"statuses"`
		Errors    int         `json:"errors"`
		StoppedBy string      `json:"stopped_by"`
		Latency   struct {
			P50 int64 `json:"p50_ns"`
			P99 int64 `json:"p99_ns"`
		} `json:"latency"`
	} `json:"measured"`
	Checks []check `json:"checks"`
}

func TestScenariosSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	testScenarios(t, startServer(t, ""))
}

func TestScenariosPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	testScenarios(t, startServer(t, pgtest.URL(t)))
}

func testScenarios(t *testing.T, s *server) {
	tests := []struct {
		scenario string
		args     []string
		checks   []string // that must be in the report (and pass)
		statuses map[int]int
	}{
		{"search", []string{"--centres", "5", "--pincodes", "2", "--requests", "60", "--workers", "4"},
			[]string{"answers findByPin"}, map[int]int{200: 60}},
		{"rush", []string{"--clients", "30", "--slots", "7"},
			[]string{"answers book", "booked == capacity", "session places left", "centre list"}, map[int]int{201: 7, 409: 23}},
		{"rush", []string{"--clients", "5", "--slots", "9"}, // fewer clients than places: all get one
			[]string{"booked == capacity", "session places left", "centre list"}, map[int]int{201: 5}},
		{"issue", []string{"--beneficiaries", "6", "--requests", "14", "--vaccinators", "2", "--workers", "3"},
			[]string{"answers record dose", "every 2xx has its certificate"}, map[int]int{201: 14}},
		{"issue", []string{"--beneficiaries", "3", "--requests", "50", "--vaccinators", "1", "--workers", "2"}, // runs out of doses: 3×3
			[]string{"every 2xx has its certificate"}, map[int]int{201: 9}},
		{"download", []string{"--certs", "4", "--requests", "10", "--vaccinators", "2", "--workers", "3"},
			[]string{"answers first download", "answers repeat download"}, nil},
		{"verify", []string{"--certs", "3", "--requests", "12", "--workers", "2"},
			[]string{"answers verify", "tampered card refused"}, map[int]int{200: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			code, rep, stderr := runVaxload(t, s, tt.scenario, tt.args...)
			if code != exitOK || !rep.Passed {
				t.Fatalf("exit %d, report %+v\nstderr: %s", code, rep, stderr)
			}
			for _, name := range tt.checks {
				found := false
				for _, c := range rep.Checks {
					found = found || (c.Name == name && c.OK)
				}
				if !found {
					t.Errorf("no passed check %q in %+v", name, rep.Checks)
				}
			}
			if len(rep.Measured) == 0 {
				t.Fatal("no measured phase")
			}
			if tt.statuses != nil {
				got := rep.Measured[0].Statuses
				if fmt.Sprint(got) != fmt.Sprint(tt.statuses) {
					t.Errorf("statuses %v, want %v", got, tt.statuses)
				}
			}
			for _, p := range rep.Measured {
				if p.Requests == 0 || p.Latency.P50 <= 0 || p.Latency.P99 < p.Latency.P50 {
					t.Errorf("phase %s: %d requests, p50 %d ns, p99 %d ns", p.Name, p.Requests, p.Latency.P50, p.Latency.P99)
				}
			}
		})
	}
}
