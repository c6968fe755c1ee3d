package e2e

import (
	"bytes"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// requestLog wraps the service and keeps every request it receives
// (method, URL, headers and body), so a test can prove what the browser
// did and did not send.
type requestLog struct {
	next http.Handler
	mu   sync.Mutex
	reqs []loggedRequest
}

type loggedRequest struct {
	Method, URL, Header string
	Body                []byte
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 64<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	var hdr []string
	for k, vs := range r.Header {
		hdr = append(hdr, k+": "+strings.Join(vs, ", "))
	}
	sort.Strings(hdr)
	l.mu.Lock()
	l.reqs = append(l.reqs, loggedRequest{Method: r.Method, URL: r.URL.String(), Header: strings.Join(hdr, "\n"), Body: body})
	l.mu.Unlock()
	l.next.ServeHTTP(w, r)
}

// since returns the requests from index i on, and the new end.
func (l *requestLog) since(i int) ([]loggedRequest, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]loggedRequest(nil), l.reqs[i:]...)
	return out, len(l.reqs)
}

func (l *requestLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}
