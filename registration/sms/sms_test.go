package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), OutboxFile)
	o := NewOutbox(path, quiet)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := o.Send(context.Background(), fmt.Sprintf("98765%05d", i), fmt.Sprintf("%06d is your OTP", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	msgs, err := ReadOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 50 {
		t.Fatalf("%d messages", len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if m.Time.IsZero() || len(m.To) != 10 || m.Text == "" {
			t.Fatalf("message %+v", m)
		}
		seen[m.To] = true
	}
	if len(seen) != 50 {
		t.Fatalf("%d distinct recipients", len(seen))
	}
}

func TestWebhook(t *testing.T) {
	var calls atomic.Int32
	fail := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		if r.Header.Get("Authorization") != "Bearer secret" || body["to"] != "9876543210" || body["text"] != "hello" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if int(n) <= fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	w, err := NewWebhook(srv.URL, "secret", quiet)
	if err != nil {
		t.Fatal(err)
	}
	w.Backoff = time.Millisecond
	if err := w.Send(context.Background(), "9876543210", "hello"); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3 (two retries)", calls.Load())
	}
	// A 400 is not retried; too many failures give up.
	calls.Store(0)
	w.Token = "wrong"
	if err := w.Send(context.Background(), "9876543210", "hello"); err == nil || calls.Load() != 1 {
		t.Fatalf("400: err %v after %d calls", err, calls.Load())
	}
	calls.Store(0)
	fail = 100
	w.Token = "secret"
	if err := w.Send(context.Background(), "9876543210", "hello"); err == nil || calls.Load() != 3 {
		t.Fatalf("503s: err %v after %d calls", err, calls.Load())
	}
	// A slow gateway hits the timeout.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(200 * time.Millisecond) }))
	defer slow.Close()
	ws, _ := NewWebhook(slow.URL, "", quiet)
	ws.Client.Timeout, ws.Retries = 20*time.Millisecond, 0
	if err := ws.Send(context.Background(), "9876543210", "x"); err == nil {
		t.Fatal("no timeout")
	}
}

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	for spec, ok := range map[string]bool{"": true, "outbox": true, "https://sms.example/send": true, "ftp://x": false, "https://": false, "nonsense": false} {
		s, err := FromConfig(spec, "", dir, quiet)
		if (err == nil) != ok {
			t.Errorf("FromConfig(%q) = %v, %v", spec, s, err)
		}
	}
	s, _ := FromConfig("outbox", "", dir, quiet)
	if o, ok := s.(*Outbox); !ok || o.Path() != filepath.Join(dir, OutboxFile) {
		t.Fatalf("outbox sender %#v", s)
	}
}
