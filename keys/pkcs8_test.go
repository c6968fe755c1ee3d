package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEncryptedPEMRoundTrip(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name      string
		pass      []byte
		readPass  []byte
		maxIter   int
		wantError string
	}{
		{"plain", nil, nil, maxPBKDF2Iterations, ""},
		{"plain read with a passphrase", nil, []byte("x"), maxPBKDF2Iterations, ""},
		{"encrypted", []byte("pw"), []byte("pw"), maxPBKDF2Iterations, ""},
		{"unicode passphrase", []byte("pässwörd ✓"), []byte("pässwörd ✓"), maxPBKDF2Iterations, ""},
		{"wrong passphrase", []byte("pw"), []byte("pW"), maxPBKDF2Iterations, "wrong passphrase"},
		{"missing passphrase", []byte("pw"), nil, maxPBKDF2Iterations, "no passphrase"},
		{"too many iterations", []byte("pw"), []byte("pw"), 10, "iteration count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := encodeKeyPEM(priv, tt.pass)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeKeyPEM(data, tt.readPass, tt.maxIter)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(priv) {
				t.Error("decoded a different key")
			}
		})
	}
	// Fresh salt and IV each time: the same key never encrypts to the same bytes.
	a, _ := encodeKeyPEM(priv, []byte("pw"))
	b, _ := encodeKeyPEM(priv, []byte("pw"))
	if bytes.Equal(a, b) {
		t.Error("two encryptions are identical")
	}
}

func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// Interoperability with OpenSSL in both directions, so operators can inspect, back up and import
// keys with standard tools.
func TestOpenSSLInterop(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	plainDER, _ := x509.MarshalPKCS8PrivateKey(priv)
	plainPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: plainDER})

	t.Run("openssl decrypts ours", func(t *testing.T) {
		ours, err := encodeKeyPEM(priv, []byte("pass word"))
		if err != nil {
			t.Fatal(err)
		}
		out := openssl(t, ours, "pkcs8", "-passin", "pass:pass word")
		got, err := decodeKeyPEM(out, nil, 1)
		if err != nil {
			t.Fatalf("openssl's output: %v\n%s", err, out)
		}
		if !got.Equal(priv) {
			t.Error("openssl decrypted a different key")
		}
	})

	for _, args := range [][]string{
		{"-v2", "aes-256-cbc"},
		{"-v2", "aes-128-cbc"},
		{"-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"},
		{"-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1", "-iter", "5000"},
		{"-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA384"},
	} {
		t.Run("we decrypt openssl "+strings.Join(args, " "), func(t *testing.T) {
			enc := openssl(t, plainPEM, append([]string{"pkcs8", "-topk8", "-passout", "pass:secret"}, args...)...)
			got, err := decodeKeyPEM(enc, []byte("secret"), maxPBKDF2Iterations)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(priv) {
				t.Error("decrypted a different key")
			}
			if _, err := decodeKeyPEM(enc, []byte("Secret"), maxPBKDF2Iterations); err == nil {
				t.Error("wrong passphrase accepted")
			}
		})
	}

	t.Run("a key encrypted by openssl loads in a store", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "keys")
		os.MkdirAll(dir, 0o700)
		kid := Thumbprint(&priv.PublicKey)
		enc := openssl(t, plainPEM, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:secret")
		meta, _ := json.Marshal(metadata{KID: kid, State: StateActive, Created: time.Now().UTC()})
		os.WriteFile(filepath.Join(dir, kid+".pem"), enc, 0o600)
		os.WriteFile(filepath.Join(dir, kid+".json"), meta, 0o600)
		s, err := OpenFileStore(dir, []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		if sg, err := s.ActiveSigner(); err != nil || sg.KID() != kid {
			t.Fatalf("ActiveSigner = %v, %v", sg, err)
		}
		if err := s.SelfCheck(); err != nil {
			t.Error(err)
		}
	})
}

func FuzzDecodeKeyPEM(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	plain, _ := encodeKeyPEM(priv, nil)
	saved := pbkdf2Iterations
	pbkdf2Iterations = 50
	enc, _ := encodeKeyPEM(priv, []byte("pw"))
	pbkdf2Iterations = saved
	f.Add(plain, []byte(nil))
	f.Add(enc, []byte("pw"))
	f.Add(enc, []byte("wrong"))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte("pw"))
	f.Add([]byte("garbage"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		// A small iteration cap keeps each run fast; the parser must reject larger counts cleanly.
		got, err := decodeKeyPEM(data, pass, 100)
		if err == nil && (got == nil || got.Curve != elliptic.P256() || Thumbprint(&got.PublicKey) == "") {
			t.Fatalf("accepted an unusable key: %v", got)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("multi-line error: %q", err)
		}
	})
}

func FuzzDecryptPKCS8(f *testing.F) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	enc, _ := encryptPKCS8(der, []byte("pw"), 10)
	f.Add(enc, []byte("pw"))
	f.Add(enc[:len(enc)-16], []byte("pw"))
	f.Add([]byte{0x30, 0x00}, []byte(nil))
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		plain, err := decryptPKCS8(data, pass, 100)
		if err == nil && len(plain) >= len(data) {
			t.Fatalf("plaintext (%d bytes) not shorter than its envelope (%d)", len(plain), len(data))
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","state":"active","created":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"kid":"x","state":"revoked","created":"2026-01-01T00:00:00Z","revoked":"2026-02-01T00:00:00Z"}`))
	f.Add([]byte(`{"state":"paused"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMetadata(data)
		if err == nil && (!m.State.valid() || m.Created.IsZero()) {
			t.Fatalf("accepted invalid metadata %+v", m)
		}
	})
}
