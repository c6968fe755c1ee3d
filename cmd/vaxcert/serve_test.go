package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxcert/vaxcert/keys"
)

// lockedBuffer is a bytes.Buffer safe to read while the server writes logs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `vaxcert serve` in-process until the test ends and waits
// until it answers.
func startServe(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	base, _, stop = startServeLogs(t, args...)
	return base, stop
}

// startServeLogs is startServe that also hands over the service's log.
func startServeLogs(t *testing.T, args ...string) (base string, logs *lockedBuffer, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs = &lockedBuffer{}
	go func() { done <- realMain(ctx, append([]string{"serve", "--addr", addr}, args...), logs, logs) }()
	base = "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d:\n%s", code, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not answer:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited with %d:\n%s", code, logs)
			}
		})
	}
	t.Cleanup(stop)
	return base, logs, stop
}

func fetchJWKS(t *testing.T, base string) keys.JWKS {
	t.Helper()
	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age") || resp.Header.Get("ETag") == "" {
		t.Fatalf("jwks: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	var raw map[string][]map[string]any
	var set keys.JWKS
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range raw["keys"] {
		if _, ok := k["d"]; ok {
			t.Fatal("the JWKS publishes a private key")
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	return set
}

// checkThumbprint recomputes the RFC 7638 thumbprint from x and y.
func checkThumbprint(t *testing.T, k keys.JWK) {
	t.Helper()
	if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.Use != "sig" {
		t.Fatalf("key %+v is not an ES256 signing key", k)
	}
	canonical := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, k.X, k.Y)
	x, _ := base64.RawURLEncoding.DecodeString(k.X)
	y, _ := base64.RawURLEncoding.DecodeString(k.Y)
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	if k.KID != keys.Thumbprint(pub) || len(k.KID) != 43 {
		t.Fatalf("kid %s is not the thumbprint of %s", k.KID, canonical)
	}
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = realMain(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestServeKeysLifecycle(t *testing.T) {
	data := t.TempDir()
	base, stop := startServe(t, "--data", data)
	first := fetchJWKS(t, base)
	if len(first.Keys) != 1 {
		t.Fatalf("want one key on first start, got %d", len(first.Keys))
	}
	checkThumbprint(t, first.Keys[0])
	oldKID := first.Keys[0].KID
	stop()

	base, _ = startServe(t, "--data", data)
	if again := fetchJWKS(t, base); len(again.Keys) != 1 || again.Keys[0].KID != oldKID {
		t.Fatalf("restart changed the keys: %+v", again)
	}

	// Rotation and revocation through the CLI reach the running service.
	if code, out, errOut := run(t, "keys", "--data", data, "rotate"); code != 0 {
		t.Fatalf("rotate: %d %s %s", code, out, errOut)
	}
	rotated := fetchJWKS(t, base)
	if len(rotated.Keys) != 2 {
		t.Fatalf("after rotate want 2 published keys, got %+v", rotated)
	}
	code, list, _ := run(t, "keys", "--data", data, "list")
	if code != 0 || !strings.Contains(list, oldKID+"  retired") {
		t.Fatalf("keys list after rotate:\n%s", list)
	}
	if code, _, errOut := run(t, "keys", "--data", data, "revoke", oldKID); code != 0 {
		t.Fatalf("revoke: %s", errOut)
	}
	revoked := fetchJWKS(t, base)
	if len(revoked.Keys) != 1 || revoked.Keys[0].KID == oldKID {
		t.Fatalf("revoked key still published: %+v", revoked)
	}
	checkThumbprint(t, revoked.Keys[0])

	code, out, _ := run(t, "audit", "--data", data, "verify")
	if code != 0 || !strings.Contains(out, "3 entries") { // generated, rotated, revoked
		t.Fatalf("audit verify: %d %s", code, out)
	}
}

func TestServeRefusesBadKeys(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, keyFile string)
		env   string
	}{
		{"world-readable", func(t *testing.T, f string) { os.Chmod(f, 0o644) }, ""},
		{"corrupt", func(t *testing.T, f string) {
			os.WriteFile(f, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
		}, ""},
		{"wrong passphrase", func(t *testing.T, f string) {}, "wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			t.Setenv("VAXCERT_KEY_PASSPHRASE", "right")
			if code, _, errOut := run(t, "keys", "--data", data, "rotate"); code != 0 {
				t.Fatalf("rotate: %s", errOut)
			}
			pems, _ := filepath.Glob(filepath.Join(data, "keys", "*.pem"))
			if len(pems) != 1 {
				t.Fatalf("want one key file, got %v", pems)
			}
			tt.spoil(t, pems[0])
			if tt.env != "" {
				t.Setenv("VAXCERT_KEY_PASSPHRASE", tt.env)
			}
			code, _, errOut := run(t, "serve", "--data", data, "--addr", freeAddr(t))
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			last := lines[len(lines)-1]
			if code != exitError || !strings.Contains(last, filepath.Base(pems[0])) {
				t.Fatalf("exit %d, want a one-line error naming %s; got:\n%s", code, filepath.Base(pems[0]), errOut)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"frobnicate"},
		{"serve", "--no-such-flag"},
		{"serve", "--issuer-url", "ftp://x"},
		{"keys"},
		{"keys", "retire"},
		{"audit", "check"},
		{"audit", "verify", "--head", "12"},
		{"audit", "head", "extra"},
		{"serve", "--audit-head-interval", "-1s"},
	} {
		if code, _, errOut := run(t, args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with a message", args, code, errOut)
		}
	}
}
