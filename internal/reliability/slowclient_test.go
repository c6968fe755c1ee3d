package reliability

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/internal/httpserver"
)

// withSmallTimeouts shrinks the server timeouts for one test, so that slow
// clients are cut off in a fraction of a second instead of tens.
func withSmallTimeouts(t *testing.T) {
	saved := []time.Duration{httpserver.ReadHeaderTimeout, httpserver.ReadTimeout, httpserver.WriteTimeout, httpserver.IdleTimeout}
	httpserver.ReadHeaderTimeout = 300 * time.Millisecond
	httpserver.ReadTimeout = 800 * time.Millisecond
	httpserver.WriteTimeout = 800 * time.Millisecond
	httpserver.IdleTimeout = 800 * time.Millisecond
	t.Cleanup(func() {
		httpserver.ReadHeaderTimeout, httpserver.ReadTimeout, httpserver.WriteTimeout, httpserver.IdleTimeout =
			saved[0], saved[1], saved[2], saved[3]
	})
}

// serveInProcess runs h through httpserver.Serve (what vaxcert serve uses)
// on a loopback port until the test ends.
func serveInProcess(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpserver.Serve(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// trickle writes s one byte at a time, every gap, and reports whether the
// server closed the connection before all of it was sent.
func trickle(conn net.Conn, s string, gap time.Duration) (cutOff bool) {
	for i := 0; i < len(s); i++ {
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte{s[i]}); err != nil {
			return true
		}
		// A closed connection shows on the read side first.
		conn.SetReadDeadline(time.Now().Add(gap))
		var b [512]byte
		if _, err := conn.Read(b[:]); err != nil {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				return true
			}
		} else {
			return true // the server answered (a 408 or 400) and will close
		}
	}
	return false
}

// TestSlowClientsAreCutOff: slow-loris headers, a trickled body, an idle
// keep-alive connection and a client that never reads its answer are each
// disconnected by the server's timeouts, and while two hundred of them hang
// on, an ordinary request is still served.
func TestSlowClientsAreCutOff(t *testing.T) {
	withSmallTimeouts(t)
	big := strings.Repeat("x", 64<<20)
	type writeResult struct {
		n   int
		err error
	}
	bigWritten := make(chan writeResult, 1)
	addr := serveInProcess(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			n, err := io.WriteString(w, big)
			bigWritten <- writeResult{n, err}
		default:
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "read %d bytes\n", n)
		}
	}))
	dial := func(t *testing.T) net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	t.Run("slow-loris headers", func(t *testing.T) {
		conn := dial(t)
		// 200 bytes at 50 ms each would take 10 s; the header timeout is 0.3 s.
		// The headers never end, so only a timeout can end the request.
		headers := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)
		if !trickle(conn, headers, 50*time.Millisecond) {
			t.Fatal("a client sending its headers one byte every 50 ms was never cut off")
		}
	})
	t.Run("trickled body", func(t *testing.T) {
		conn := dial(t)
		fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
		// One byte short of the announced length: only a timeout ends it.
		if !trickle(conn, strings.Repeat("b", 999), 50*time.Millisecond) {
			t.Fatal("a client sending its body one byte every 50 ms was never cut off")
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dial(t)
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := br.ReadByte(); err == nil {
			t.Fatal("the server sent data on an idle connection")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("an idle keep-alive connection was kept open for 30 s")
		}
	})
	t.Run("client that never reads", func(t *testing.T) {
		conn := dial(t)
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetReadBuffer(4096)
		}
		fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
		// The client never reads. The server must give up on it (its write
		// fails at the write timeout), freeing the handler and the
		// connection, rather than wait for it for ever. What the kernel
		// still holds of the orphaned socket is no longer the server's.
		select {
		case res := <-bigWritten:
			if res.err == nil || res.n >= len(big) {
				t.Fatalf("the whole answer was written to a client that never reads (%d bytes, err %v)", res.n, res.err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the handler writing to a client that never reads was still blocked after 30 s")
		}
	})
	t.Run("others are served while slow clients hang", func(t *testing.T) {
		for range 200 {
			conn := dial(t)
			fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // and nothing more
		}
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("an ordinary request failed while 200 slow clients hung on: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

// TestSlowLorisAgainstService: the real service, with its default timeouts,
// cuts off a client that sends its headers a byte at a time. Part of -long
// (it takes the default header timeout, seconds).
func TestSlowLorisAgainstService(t *testing.T) {
	if !long() {
		t.Skip("part of -long (VAXCERT_LONG=1)")
	}
	svc := startService(t, serviceOptions{})
	conn, err := net.Dial("tcp", svc.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	// 200 header bytes at 400 ms each would take 80 s.
	if !trickle(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 200), 400*time.Millisecond) {
		t.Fatal("the service never cut off a slow-loris client")
	}
	t.Logf("cut off after %s (ReadHeaderTimeout %s)", time.Since(start).Round(100*time.Millisecond), httpserver.ReadHeaderTimeout)
	svc.client("").must(t, http.StatusOK, "GET", "/healthz", nil)
}
