package reliability

import (
	"bytes"
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
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/vectors"
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

// binaries are built once per test process, into a directory removed by
// TestMain.
var (
	binMu    sync.Mutex
	binDir   string
	binBuilt = map[string]string{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for i := len(atExit) - 1; i >= 0; i-- {
		atExit[i]()
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// atExit are cleanups of fixtures shared by several tests, run by TestMain.
var atExit []func()

// binary builds ./cmd/<name> of this repository (once) and returns its
// path. Prebuilt binaries (a release to check, or a snapshot while the tree
// is mid-edit) may be given instead in RELIABILITY_BIN_DIR.
func binary(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv("RELIABILITY_BIN_DIR"); dir != "" {
		return filepath.Join(dir, name)
	}
	return buildPackage(t, name, "./cmd/"+name)
}

// buildPackage builds a main package of this repository once per test
// process (without the race detector, whatever the tests run with).
func buildPackage(t testing.TB, name, pkg string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binBuilt[name]; ok {
		return p
	}
	if binDir == "" {
		d, err := os.MkdirTemp("", "vaxcert-reliability-bin-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = d
	}
	out := filepath.Join(binDir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = vectors.RepoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
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

// measuredCommand returns a command that runs bin through a small launcher
// (testdata/launcher), so that the peak resident set it reports is the
// child's own: on Linux a child started straight from a big process
// inherits that process's high-water mark. rss reads the figure once the
// command has finished.
func measuredCommand(t *testing.T, bin string, args ...string) (cmd *exec.Cmd, rss func() int64) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "rss")
	cmd = exec.Command(buildPackage(t, "launcher", "./internal/reliability/testdata/launcher"), append([]string{f, bin}, args...)...)
	cmd.Env = cleanEnv()
	return cmd, func() int64 {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("no resident-set figure from the launcher: %v", err)
		}
		n, _ := strconv.ParseInt(string(b), 10, 64)
		return n
	}
}
