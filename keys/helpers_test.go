package keys

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// Real stores use 600k PBKDF2 iterations; tests would spend seconds per encrypted key.
	pbkdf2Iterations = 1000
	os.Exit(m.Run())
}

// fakeClock returns strictly increasing times, one second apart, so that creation order is exact.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// openTestStore opens a store in dir (a fresh temporary one if dir is "") with a fake clock.
func openTestStore(t testing.TB, dir string, passphrase []byte) *FileStore {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "keys")
	}
	s, err := OpenFileStore(dir, passphrase)
	if err != nil {
		t.Fatalf("OpenFileStore: %v", err)
	}
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// Continue after the newest existing key so that new keys stay newest.
	for _, k := range s.List() {
		if k.Created.After(clock.t) {
			clock.t = k.Created
		}
	}
	s.now = clock.now
	return s
}

func mustEnsure(t testing.TB, s *FileStore) Key {
	t.Helper()
	k, _, err := s.EnsureActive()
	if err != nil {
		t.Fatalf("EnsureActive: %v", err)
	}
	return k
}

func mustRotate(t testing.TB, s *FileStore) Key {
	t.Helper()
	k, err := s.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return k
}

// checkOneLineNaming fails unless err is a one-line error whose message names path.
func checkOneLineNaming(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one naming %s", path)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("error %q does not name %s", msg, path)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
}

func kidsOf(keys []Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KID
	}
	return out
}
