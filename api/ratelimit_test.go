package api

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	l := newLimiter("tests", 60, 3, func() time.Time { return now }) // one a second, three at once
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("over the burst: ok %v wait %v", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another client was refused")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); ok {
		t.Fatal("allowed before a token refilled")
	}
	now = now.Add(time.Second)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("refused after a refill")
	}
	// Idle clients are forgotten when a shard fills up, so memory stays bounded.
	for i := range maxBucketsPerShard * len(l.shards) * 2 {
		l.allow(fmt.Sprint("client-", i))
		now = now.Add(10 * time.Millisecond)
	}
	total := 0
	for i := range l.shards {
		total += len(l.shards[i].buckets)
	}
	if total > maxBucketsPerShard*len(l.shards) {
		t.Fatalf("%d buckets kept", total)
	}
}

func TestClientIP(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:4444"
	r.Header.Set("X-Real-IP", "203.0.113.9")
	if got := clientIP(r, ""); got != "192.0.2.1" {
		t.Fatalf("peer address: %s", got)
	}
	if got := clientIP(r, "X-Real-IP"); got != "203.0.113.9" {
		t.Fatalf("from the header: %s", got)
	}
	r.Header.Set("X-Forwarded-For", "198.51.100.4, 10.0.0.1")
	if got := clientIP(r, "X-Forwarded-For"); got != "198.51.100.4" {
		t.Fatalf("first of X-Forwarded-For: %s", got)
	}
	r.Header.Set("X-Real-IP", "not an ip")
	if got := clientIP(r, "X-Real-IP"); got != "192.0.2.1" {
		t.Fatalf("a bad header falls back to the peer: %s", got)
	}
}
