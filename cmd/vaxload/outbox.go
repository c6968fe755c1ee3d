package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// outbox follows the server's dev SMS outbox (<data>/sms-outbox.jsonl, one
// JSON object per line) from where it was when vaxload started, so OTPs of
// earlier runs are never used. It reads only what was appended since its
// last look, so thousands of logins cost linear, not quadratic, reading.
type outbox struct {
	path string

	mu     sync.Mutex
	offset int64
	otps   map[string]string // newest unclaimed OTP by mobile
}

// openOutbox starts following path at its current end.
func openOutbox(path string) (*outbox, error) {
	o := &outbox{path: path, otps: map[string]string{}}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("sms outbox: %w", err)
	default:
		o.offset = fi.Size()
	}
	return o, nil
}

// maxOutboxRead bounds one read of new lines.
const maxOutboxRead = 16 << 20

// poll reads the complete lines appended since the last poll.
func (o *outbox) poll() error {
	f, err := os.Open(o.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(o.offset, io.SeekStart); err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxOutboxRead))
	if err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	n, err := scanOTPs(data, o.otps)
	o.offset += int64(n)
	if err != nil {
		return fmt.Errorf("sms outbox %s: %w", o.path, err)
	}
	return nil
}

// scanOTPs reads the complete lines of data (outbox messages), records the
// newest OTP sent to each mobile in otps, and returns how many bytes it
// consumed: a last line still being written (no newline yet) is left for
// the next look.
func scanOTPs(data []byte, otps map[string]string) (int, error) {
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return 0, nil
	}
	for _, line := range bytes.Split(data[:end], []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m struct {
			To   string `json:"to"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			return 0, fmt.Errorf("a line is not a JSON message: %v", err)
		}
		// Every OTP message starts with the OTP.
		otp, _, _ := strings.Cut(m.Text, " ")
		if m.To != "" && len(otp) == 6 && strings.Trim(otp, "0123456789") == "" {
			otps[m.To] = otp
		}
	}
	return end + 1, nil
}

// otp waits (up to 10 s) for an OTP to mobile sent after the outbox was
// opened, and claims it.
func (o *outbox) otp(ctx context.Context, mobile string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		o.mu.Lock()
		err := o.poll()
		otp, ok := o.otps[mobile]
		delete(o.otps, mobile)
		o.mu.Unlock()
		switch {
		case err != nil:
			return "", err
		case ok:
			return otp, nil
		case time.Now().After(deadline):
			return "", fmt.Errorf("no OTP to %s appeared in %s within 10 s: is --data the server's data directory, and does the server use the dev SMS outbox?", mobile, o.path)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
	}
}
