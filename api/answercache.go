package api

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// answerCache keeps the answers of the public, anonymous reads (session
// search, places) for a short time, so that a crowd polling the same
// pincode on a rush morning costs one database query per answer lifetime,
// not one per request: the search was the most frequent request of Co-WIN's
// peak days, and the database its largest cost. The answers are already
// public and allowed to be 30 seconds old in shared caches (publicCache); the
// server keeps them for far less (Config.SearchCacheTTL).
//
// Concurrent misses for one answer wait for a single computation. Only 200
// answers are kept, bounded in total size; the key is the path and the raw
// query, so every parameter a handler may read is part of it.
type answerCache struct {
	ttl      time.Duration
	now      func() time.Time
	maxBytes int

	mu      sync.Mutex
	entries map[string]*cachedAnswer
	bytes   int
}

type cachedAnswer struct {
	ready   chan struct{} // closed when filled
	ok      bool          // a 200 answer that may be served to others
	header  http.Header
	body    []byte
	expires time.Time
}

// answerCacheBytes bounds the memory the cached answers take.
const answerCacheBytes = 32 << 20

func newAnswerCache(ttl time.Duration, now func() time.Time) *answerCache {
	return &answerCache{ttl: ttl, now: now, maxBytes: answerCacheBytes, entries: map[string]*cachedAnswer{}}
}

// cachedHeaders are the answer headers a cached copy keeps.
var cachedHeaders = []string{"Content-Type", "Cache-Control", "ETag"}

func (c *answerCache) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		key := r.URL.Path + "?" + r.URL.RawQuery
		now := c.now()
		c.mu.Lock()
		e := c.entries[key]
		if e != nil && e.ok && !now.Before(e.expires) {
			c.drop(key, e)
			e = nil
		}
		filling := e == nil
		if filling {
			e = &cachedAnswer{ready: make(chan struct{})}
			c.entries[key] = e
		}
		c.mu.Unlock()

		if !filling {
			select {
			case <-e.ready:
			case <-r.Context().Done():
				return
			}
			if e.ok {
				e.serve(w, r)
				return
			}
			// The computation this request waited for failed or was not
			// cacheable: compute its own answer.
			next.ServeHTTP(w, r)
			return
		}

		// Compute the full answer (never a 304: the copy serves others).
		inner := r.Clone(r.Context())
		inner.Header.Del("If-None-Match")
		rec := &answerRecorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, inner)

		ok := rec.status == http.StatusOK
		header := http.Header{}
		for _, h := range cachedHeaders {
			if v := rec.header.Values(h); len(v) > 0 {
				header[http.CanonicalHeaderKey(h)] = v
			}
		}
		body := rec.body.Bytes()
		c.mu.Lock()
		if ok && (c.bytes+len(body) <= c.maxBytes || c.sweep(now, len(body))) {
			e.ok, e.header, e.body, e.expires = true, header, body, now.Add(c.ttl)
			c.bytes += len(body)
		} else if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
		close(e.ready)

		if e.ok {
			e.serve(w, r)
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
	})
}

// drop removes an entry (the lock held).
func (c *answerCache) drop(key string, e *cachedAnswer) {
	if c.entries[key] == e {
		delete(c.entries, key)
		if e.ok {
			c.bytes -= len(e.body)
		}
	}
}

// sweep drops expired answers until need more bytes fit (the lock held),
// and reports whether they do.
func (c *answerCache) sweep(now time.Time, need int) bool {
	for k, e := range c.entries {
		if c.bytes+need <= c.maxBytes {
			break
		}
		if e.ok && !now.Before(e.expires) {
			c.drop(k, e)
		}
	}
	return c.bytes+need <= c.maxBytes
}

// serve writes a cached answer, or 304 when the client has it.
func (e *cachedAnswer) serve(w http.ResponseWriter, r *http.Request) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	if etag := e.header.Get("ETag"); etag != "" && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(e.body)
}

// answerRecorder captures a handler's answer.
type answerRecorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (a *answerRecorder) Header() http.Header { return a.header }

func (a *answerRecorder) WriteHeader(status int) {
	if !a.wroteHeader {
		a.status, a.wroteHeader = status, true
	}
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	a.wroteHeader = true
	return a.body.Write(p)
}
