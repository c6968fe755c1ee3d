package reliability

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var longFlag = flag.Bool("long", false, "run the long versions of the reliability tests (also VAXCERT_LONG=1)")

// long reports whether the long runs were asked for.
func long() bool { return *longFlag || os.Getenv("VAXCERT_LONG") == "1" }

// sized returns ci normally and full under -long.
func sized(ci, full int) int {
	if long() {
		return full
	}
	return ci
}

// repoRoot walks up to the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// binaries are built once per test process, into a directory removed by
// TestMain.
var (
	binMu    sync.Mutex
	binDir   string
	binBuilt = map[string]string{}
)

func TestMain(m *testing.M) {
	if os.Getenv(launchEnv) != "" {
		os.Exit(launch())
	}
	flag.Parse()
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds ./cmd/<name> of this repository (once) and returns its path.
func binary(t testing.TB, name string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binBuilt[name]; ok {
		return p
	}
	// Prebuilt binaries (a release to check, or a snapshot while the tree
	// is mid-edit) may be given instead.
	if dir := os.Getenv("RELIABILITY_BIN_DIR"); dir != "" {
		binBuilt[name] = filepath.Join(dir, name)
		return binBuilt[name]
	}
	if binDir == "" {
		d, err := os.MkdirTemp("", "vaxcert-reliability-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = d
	}
	out := filepath.Join(binDir, name)
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, b)
	}
	binBuilt[name] = out
	return out
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// allocated runs f and returns the bytes it allocated on the heap (an upper
// bound on the memory it could have held at once) and how long it took.
func allocated(f func()) (bytes uint64, took time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// mib formats a byte count.
func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// cleanEnv is this process's environment without any VAXCERT_ setting (a
// developer's own configuration must not leak into the binaries under
// test), plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAXCERT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// launchEnv turns the test binary into a small launcher (see measuredRun).
const launchEnv = "RELIABILITY_LAUNCH_RSS_FILE"

// launch runs os.Args[1:] with this process's standard streams and writes
// the child's peak resident set, in bytes, to the file named by launchEnv.
func launch() int {
	out := os.Getenv(launchEnv)
	os.Unsetenv(launchEnv)
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		return 125
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		os.WriteFile(out, []byte(strconv.FormatInt(ru.Maxrss<<10, 10)), 0o600)
	}
	return code
}

// measuredCommand returns a command that runs bin through a launcher (this
// test binary, small at the time it forks), so that the peak resident set
// it reports is the child's own. On Linux a child started straight from a
// big process inherits that process's high-water mark, which would make
// every measurement read the size of the test process. rss reads the figure
// once the command has finished.
func measuredCommand(t *testing.T, bin string, args ...string) (cmd *exec.Cmd, rss func() int64) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "rss")
	cmd = exec.Command(self, append([]string{bin}, args...)...)
	cmd.Env = cleanEnv(launchEnv + "=" + f)
	return cmd, func() int64 {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("no resident-set figure from the launcher: %v", err)
		}
		n, _ := strconv.ParseInt(string(b), 10, 64)
		return n
	}
}
