package api

import (
	"hash/maphash"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vaxcert/vaxcert/internal/problem"
)

// RateLimits configures the per-client token buckets of the public and
// citizen endpoints. A client is a session's account when the request
// carries a valid token, and otherwise its IP address.
type RateLimits struct {
	SearchPerMinute  int // public search, places and Co-WIN metadata (default 60)
	SearchBurst      int // (default 100, as Co-WIN allowed 100 calls per 5 minutes)
	BookingPerMinute int // booking, beneficiary changes and OTP requests (default 10)
	BookingBurst     int // (default 10)
}

// DefaultRateLimits apply to zero fields.
var DefaultRateLimits = RateLimits{SearchPerMinute: 60, SearchBurst: 100, BookingPerMinute: 10, BookingBurst: 10}

func (l RateLimits) withDefaults() RateLimits {
	d := DefaultRateLimits
	if l.SearchPerMinute <= 0 {
		l.SearchPerMinute = d.SearchPerMinute
	}
	if l.SearchBurst <= 0 {
		l.SearchBurst = d.SearchBurst
	}
	if l.BookingPerMinute <= 0 {
		l.BookingPerMinute = d.BookingPerMinute
	}
	if l.BookingBurst <= 0 {
		l.BookingBurst = d.BookingBurst
	}
	return l
}

// limiter is a set of token buckets, one per client key, refilled lazily.
// It is sharded so that concurrent requests rarely share a lock, and each
// shard forgets full buckets when it grows, so memory stays bounded by the
// number of clients active within one refill period.
type limiter struct {
	name   string
	rate   float64 // tokens per second
	burst  float64
	now    func() time.Time
	seed   maphash.Seed
	shards [64]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBucketsPerShard triggers a sweep of full (idle) buckets.
const maxBucketsPerShard = 4096

func newLimiter(name string, perMinute, burst int, now func() time.Time) *limiter {
	l := &limiter{name: name, rate: float64(perMinute) / 60, burst: float64(burst), now: now, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = map[string]*bucket{}
	}
	return l
}

// allow takes a token for key, or says how long until one is available.
func (l *limiter) allow(key string) (ok bool, wait time.Duration) {
	sh := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	now := l.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= maxBucketsPerShard {
			l.sweep(sh, now)
		}
		b = &bucket{tokens: l.burst, at: now}
		sh.buckets[key] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep drops buckets that would be full by now: forgetting them changes
// nothing for their clients.
func (l *limiter) sweep(sh *limiterShard, now time.Time) {
	for k, b := range sh.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(sh.buckets, k)
		}
	}
}

// middleware answers 429 with Retry-After when the client's bucket is empty.
func (l *limiter) middleware(key func(*http.Request) string, onLimit func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, wait := l.allow(key(r)); !ok {
				onLimit(w, r, &problem.Error{Kind: problem.TooMany, Slug: "rate-limited", RetryAfter: wait,
					Detail: "Too many requests from you for " + l.name + "; slow down and retry after the time in Retry-After."})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientIP is the caller's address: from header (set by a trusted reverse
// proxy) when configured, else the connection's remote address.
func clientIP(r *http.Request, header string) string {
	if header != "" {
		if v := r.Header.Get(header); v != "" {
			first, _, _ := strings.Cut(v, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
