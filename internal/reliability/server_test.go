package reliability

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// service is a `vaxcert serve` process under test.
type service struct {
	t    testing.TB
	bin  string
	addr string
	url  string
	data string
	db   string
	env  []string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	logs *lockedBuffer // stderr (the JSON log) of every run, in order
}

type serviceOptions struct {
	data string   // data directory; a new temporary one if empty
	db   string   // --db; empty for SQLite
	env  []string // extra environment (VAXCERT_…)
	args []string // extra serve flags
}

// startService builds and starts vaxcert serve and waits until it answers
// /healthz. It is stopped (SIGKILL if need be) when the test ends.
func startService(t testing.TB, o serviceOptions) *service {
	t.Helper()
	s := &service{t: t, bin: binary(t, "vaxcert"), data: o.data, db: o.db, env: o.env, args: o.args, logs: &lockedBuffer{}}
	if s.data == "" {
		s.data = filepath.Join(t.TempDir(), "data")
	}
	s.addr = freePort(t)
	s.url = "http://" + s.addr
	t.Cleanup(func() { s.stop() })
	s.start()
	return s
}

// start (re)starts the process on the same address and data.
func (s *service) start() {
	s.t.Helper()
	s.launch(false)
}

// launch starts the process and waits until it answers /healthz or, when
// mayExit (a crash is expected), until it exits.
func (s *service) launch(mayExit bool) {
	s.t.Helper()
	args := []string{"serve", "--addr", s.addr, "--data", s.data}
	if s.db != "" {
		args = append(args, "--db", s.db)
	}
	s.cmd = exec.Command(s.bin, append(args, s.args...)...)
	s.cmd.Env = cleanEnv(s.env...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(s.cmd, s.done)
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-s.done:
			if mayExit {
				return
			}
			s.t.Fatalf("vaxcert serve exited during start-up: %v\n%s", s.cmd.ProcessState, tail(s.logs.String(), 4000))
		default:
		}
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("vaxcert serve did not answer /healthz: %v\n%s", err, tail(s.logs.String(), 4000))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (s *service) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// stop asks for a graceful shutdown, then kills after a while.
func (s *service) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
	s.cmd = nil
}

// smsOutbox reads the dev SMS sink: every message sent so far.
func (s *service) smsOutbox() []smsMessage {
	b, err := os.ReadFile(filepath.Join(s.data, "sms-outbox.jsonl"))
	if err != nil {
		return nil
	}
	var out []smsMessage
	for _, line := range strings.Split(string(b), "\n") {
		var m smsMessage
		if json.Unmarshal([]byte(line), &m) == nil && m.To != "" {
			out = append(out, m)
		}
	}
	return out
}

type smsMessage struct {
	Time string `json:"time"`
	To   string `json:"to"`
	Text string `json:"text"`
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// problemDoc is an RFC 9457 document as the API writes it.
type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// readProblem checks that resp is a problem+json document with its status
// and returns it.
func readProblem(resp *http.Response) (problemDoc, error) {
	var p problemDoc
	ct := resp.Header.Get("Content-Type")
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if !strings.HasPrefix(ct, "application/problem+json") {
		return p, fmt.Errorf("status %d with Content-Type %q, want application/problem+json: %.200s", resp.StatusCode, ct, body)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("status %d: problem document is not JSON: %v", resp.StatusCode, err)
	}
	if p.Status != resp.StatusCode || p.Type == "" || p.Title == "" {
		return p, fmt.Errorf("status %d: incomplete problem document %+v", resp.StatusCode, p)
	}
	return p, nil
}

// grepLines returns up to n lines of log that contain any of the needles.
func grepLines(log string, n int, needles ...string) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		for _, needle := range needles {
			if strings.Contains(line, needle) {
				out = append(out, line)
				break
			}
		}
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, "\n")
}
