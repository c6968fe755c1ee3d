package reliability

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgCluster is a private, throwaway PostgreSQL server that a test may stop
// and start at will. The shared server other tests use is never touched.
type pgCluster struct {
	bin  string // the PostgreSQL bin directory
	dir  string // owned by the server's user: data/, the socket, the log
	port string
	// owner runs a command as the user owning the cluster (postgres when
	// the tests run as root, which PostgreSQL refuses to run as).
	owner func(name string, args ...string) *exec.Cmd
}

// pgBinDir finds the newest installed PostgreSQL's bin directory.
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// newPGCluster initialises and starts a cluster on a free loopback port. It
// is removed when the test ends. Without PostgreSQL installed the test is
// skipped, except in CI, where it fails.
func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL (initdb, pg_ctl) is not installed: the outage tests must run in CI")
		}
		t.Skip("PostgreSQL (initdb, pg_ctl) is not installed")
	}
	dir, err := os.MkdirTemp("", "vaxcert-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{bin: bin, dir: dir, owner: exec.Command}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			t.Fatal("running as root without runuser(1) to start PostgreSQL as postgres")
		}
		c.owner = func(name string, args ...string) *exec.Cmd {
			return exec.Command(runuser, append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	t.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	_, port, _ := net.SplitHostPort(freePort(t))
	c.port = port
	if out, err := c.owner(filepath.Join(bin, "initdb"), "-D", c.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.start(t)
	conn, err := pgx.Connect(context.Background(), c.adminURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE vaxcert"); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// URL is the connection URL of the cluster's vaxcert database.
func (c *pgCluster) URL() string { return c.adminURL("vaxcert") }

func (c *pgCluster) adminURL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s?sslmode=disable", c.port, db)
}

func (c *pgCluster) pgctl(args ...string) ([]byte, error) {
	full := append([]string{"-D", c.data(), "-w", "-t", "120"}, args...)
	return c.owner(filepath.Join(c.bin, "pg_ctl"), full...).CombinedOutput()
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := strings.Join([]string{"-p " + c.port, "-c listen_addresses=127.0.0.1", "-k " + c.dir,
		"-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=100"}, " ")
	if out, err := c.pgctl("-l", filepath.Join(c.dir, "log"), "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, tail(string(log), 2000))
	}
}

// stop stops the server: mode "fast" (connections terminated, a clean
// shutdown) or "immediate" (as if it crashed).
func (c *pgCluster) stop(t *testing.T, mode string) {
	t.Helper()
	if out, err := c.pgctl("-m", mode, "stop"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// waitGone waits until nothing answers on the cluster's port.
func (c *pgCluster) waitGone(t *testing.T) {
	t.Helper()
	waitFor(t, 30*time.Second, "PostgreSQL to stop listening", func() bool {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+c.port, time.Second)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	})
}
