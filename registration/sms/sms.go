// Package sms sends text messages (OTPs) to mobiles. Two senders exist: the
// development Outbox, which appends each message as one JSON line to a file
// (<data>/sms-outbox.jsonl) so tests and people can read the OTPs, and
// Webhook, which POSTs each message to an SMS gateway.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Sender delivers one message. to is a 10-digit Indian mobile number.
type Sender interface {
	Send(ctx context.Context, to, text string) error
}

// OutboxFile is the dev sink's file name in the data directory.
const OutboxFile = "sms-outbox.jsonl"

// Message is one line of the outbox.
type Message struct {
	Time time.Time `json:"time"`
	To   string    `json:"to"`
	Text string    `json:"text"`
}

// Outbox is the development sender: nothing leaves the machine.
type Outbox struct {
	path string
	log  *slog.Logger
	now  func() time.Time
	mu   sync.Mutex
}

// NewOutbox appends to path (created 0600 on first message).
func NewOutbox(path string, log *slog.Logger) *Outbox {
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{path: path, log: log, now: time.Now}
}

// Path is the outbox file.
func (o *Outbox) Path() string { return o.path }

// Send appends the message as one line. The log line names the outbox and a
// masked recipient, never the text: it may hold an OTP.
func (o *Outbox) Send(ctx context.Context, to, text string) error {
	line, err := json.Marshal(Message{Time: o.now().UTC(), To: to, Text: text})
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	// One write call per line: with O_APPEND, concurrent processes never
	// interleave within a line.
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	o.log.InfoContext(ctx, "sms written to the dev outbox", "to", mask(to), "outbox", o.path)
	return nil
}

// ReadOutbox returns every message in an outbox file, oldest first.
func ReadOutbox(path string) ([]Message, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Message
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var m Message
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("sms outbox %s: %w", path, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Webhook POSTs {"to","text"} as JSON to a gateway URL. A 2xx answer is
// success; network errors, 429 and 5xx are retried with backoff; other
// answers fail at once.
type Webhook struct {
	URL     string
	Token   string // sent as "Authorization: Bearer <token>" when set
	Client  *http.Client
	Retries int           // extra attempts after the first
	Backoff time.Duration // first wait; doubles each retry
	log     *slog.Logger
}

// NewWebhook returns a sender with a 10-second timeout per attempt and two
// retries.
func NewWebhook(rawURL, token string, log *slog.Logger) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("sms: webhook URL %q: want an absolute http(s) URL", rawURL)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Webhook{URL: rawURL, Token: token, Client: &http.Client{Timeout: 10 * time.Second},
		Retries: 2, Backoff: 500 * time.Millisecond, log: log}, nil
}

// Send delivers the message or returns the last failure.
func (w *Webhook) Send(ctx context.Context, to, text string) error {
	body, err := json.Marshal(map[string]string{"to": to, "text": text})
	if err != nil {
		return err
	}
	wait := w.Backoff
	var last error
	for attempt := 0; attempt <= w.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(last, ctx.Err())
			case <-time.After(wait):
			}
			wait *= 2
		}
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		w.log.WarnContext(ctx, "sms gateway failed", "to", mask(to), "attempt", attempt+1, "err", err)
		if !retry {
			break
		}
	}
	return fmt.Errorf("sms: %w", last)
}

func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	resp, err := w.Client.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("gateway answered %s", resp.Status)
	default:
		return false, fmt.Errorf("gateway answered %s", resp.Status)
	}
}

// FromConfig picks the sender for --sms: "" or "outbox" is the dev outbox in
// dataDir; an http(s) URL is a webhook (token from --sms-token).
func FromConfig(spec, token, dataDir string, log *slog.Logger) (Sender, error) {
	switch {
	case spec == "" || spec == "outbox":
		return NewOutbox(filepath.Join(dataDir, OutboxFile), log), nil
	case strings.HasPrefix(spec, "https://") || strings.HasPrefix(spec, "http://"):
		return NewWebhook(spec, token, log)
	}
	return nil, fmt.Errorf("sms: %q: want \"outbox\" or a gateway URL https://…", spec)
}

func mask(m string) string {
	if len(m) < 3 {
		return "***"
	}
	return strings.Repeat("*", len(m)-3) + m[len(m)-3:]
}
