package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// api is an HTTP client of one vaxcert server.
type api struct {
	base *url.URL
	http *http.Client
}

// maxAnswerBytes bounds what vaxload reads of one answer (a certificate PDF
// is well under this).
const maxAnswerBytes = 8 << 20

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// problemSlug is the problem type's slug of an error answer, or "".
func (a answer) problemSlug() string {
	var p struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(a.body, &p) != nil {
		return ""
	}
	return strings.TrimPrefix(p.Type, "urn:vaxcert:problem:")
}

// describe names an unexpected answer for an error message.
func (a answer) describe() string {
	if slug := a.problemSlug(); slug != "" {
		return fmt.Sprintf("%d %s", a.status, slug)
	}
	body := a.body
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("%d %q", a.status, body)
}

// call sends one request. body, if not nil, is sent as JSON (or as is when it
// is a []byte, with contentType). The whole answer is read, so connections
// are reused.
func (c *api) call(ctx context.Context, method, path string, body any, token string, hdr map[string]string) (answer, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd, ctype = bytes.NewReader(b.data), b.contentType
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return answer{}, err
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return answer{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if len(data) > maxAnswerBytes {
		return answer{}, fmt.Errorf("%s %s: the answer is larger than %d bytes", method, path, maxAnswerBytes)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// rawBody is a request body sent as is.
type rawBody struct {
	data        []byte
	contentType string
}

// callJSON sends a request, wants the status want, and decodes the answer
// into out (if not nil). It is for setup and checks, where anything else is a
// failure.
func (c *api) callJSON(ctx context.Context, method, path string, body any, token string, want int, out any) error {
	a, err := c.call(ctx, method, path, body, token, nil)
	if err != nil {
		return err
	}
	if a.status != want {
		return fmt.Errorf("%s %s: got %s, want %d", method, path, a.describe(), want)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			return fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return nil
}
