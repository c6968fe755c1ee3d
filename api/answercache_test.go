package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// countingHandler answers 200 with a body naming the query and how many
// times it ran, and what If-None-Match it saw.
type countingHandler struct {
	calls   atomic.Int64
	release chan struct{} // if set, each call waits for it
	status  int
}

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.calls.Add(1)
	if h.release != nil {
		<-h.release
	}
	if h.status != 0 && h.status != http.StatusOK {
		http.Error(w, "nope", h.status)
		return
	}
	body := r.URL.RawQuery + " #" + string(rune('0'+n)) + " inm=" + r.Header.Get("If-None-Match")
	serveCacheable(w, r, "application/json", []byte(body), publicCache)
}

func get(h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestAnswerCache(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	next := &countingHandler{}
	h := newAnswerCache(time.Second, clock.now).middleware(next)

	first := get(h, "/s?pincode=411011")
	if first.Code != 200 || first.Header().Get("ETag") == "" || first.Header().Get("Cache-Control") != publicCache {
		t.Fatalf("%d %v", first.Code, first.Header())
	}
	for range 5 {
		again := get(h, "/s?pincode=411011")
		if again.Body.String() != first.Body.String() || again.Header().Get("ETag") != first.Header().Get("ETag") {
			t.Fatalf("a cached answer differs: %q", again.Body)
		}
	}
	if n := next.calls.Load(); n != 1 {
		t.Fatalf("computed %d times within the lifetime", n)
	}
	if get(h, "/s?pincode=411027"); next.calls.Load() != 2 {
		t.Fatal("another query was answered from the cache")
	}
	// The client's copy: 304 from the cache.
	if rec := get(h, "/s?pincode=411011", "If-None-Match", first.Header().Get("ETag")); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("conditional hit: %d %q", rec.Code, rec.Body)
	}
	clock.advance(time.Second)
	if rec := get(h, "/s?pincode=411011"); !strings.Contains(rec.Body.String(), "#3") {
		t.Fatalf("an expired answer was served: %q", rec.Body)
	}
	// A conditional miss computes the whole answer (the handler never sees
	// If-None-Match) and still answers 304 to a client that has it.
	clock.advance(time.Second)
	rec := get(h, "/s?pincode=411011", "If-None-Match", `"stale"`)
	if rec.Code != 200 || !strings.HasSuffix(rec.Body.String(), "inm=") {
		t.Fatalf("conditional miss: %d %q", rec.Code, rec.Body)
	}
}

func TestAnswerCacheOneComputationForConcurrentMisses(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	next := &countingHandler{release: make(chan struct{})}
	h := newAnswerCache(time.Second, clock.now).middleware(next)
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = get(h, "/s?pincode=411011").Body.String()
		}()
	}
	for next.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind the first
	close(next.release)
	wg.Wait()
	if n := next.calls.Load(); n != 1 {
		t.Fatalf("computed %d times", n)
	}
	for _, b := range bodies {
		if b != bodies[0] || b == "" {
			t.Fatalf("answers differ: %q vs %q", b, bodies[0])
		}
	}
}

func TestAnswerCacheKeepsOnlySuccesses(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	next := &countingHandler{status: http.StatusServiceUnavailable}
	h := newAnswerCache(time.Second, clock.now).middleware(next)
	for range 3 {
		if rec := get(h, "/s?pincode=411011"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if n := next.calls.Load(); n != 3 {
		t.Fatalf("an error was cached: %d computations", n)
	}
	// Not GET: never cached.
	next.status = 0
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/s?pincode=411011", nil))
	}
	if n := next.calls.Load(); n != 5 {
		t.Fatalf("a POST was cached: %d computations", n)
	}
}

func TestAnswerCacheBounded(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	next := &countingHandler{}
	c := newAnswerCache(time.Second, clock.now)
	c.maxBytes = 100 // about two answers
	h := c.middleware(next)
	for _, q := range []string{"a=1", "a=2", "a=3", "a=4"} {
		if rec := get(h, "/s?"+q); rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), q) {
			t.Fatalf("%s: %d %q", q, rec.Code, rec.Body)
		}
	}
	if c.bytes > c.maxBytes {
		t.Fatalf("%d bytes kept, bound %d", c.bytes, c.maxBytes)
	}
	// Once the first ones expire, room is made.
	clock.advance(2 * time.Second)
	get(h, "/s?a=5")
	get(h, "/s?a=5")
	if n := next.calls.Load(); n != 5 {
		t.Fatalf("%d computations, want 5 (a=5 kept after the sweep)", n)
	}
}
