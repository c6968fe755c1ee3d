package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretSize is the length of a server secret in bytes.
const SecretSize = 32

// LoadOrCreateSecret returns the SecretSize-byte secret stored raw in dir/name, first creating the
// directory (0700) and the file (0600, written atomically, with fresh random bytes) if they do not
// exist. The directory must not be writable by group or others. Use it for the server's HMAC keys (OTPs, ID-number hashing, SHC rid). A file that grants
// group or others access, or has another length, gives an error naming it. If two processes create
// the same secret at once, both end up with the one that was written first.
func LoadOrCreateSecret(dir, name string) ([]byte, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, tempPrefix) {
		return nil, fmt.Errorf("keys: %q is not a valid secret file name", name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	for attempt := 0; ; attempt++ {
		secret, err := readSecret(path)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt > 0 {
			return secret, err
		}
		fresh := make([]byte, SecretSize)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		err = writeFileAtomic(dir, name, fresh, false)
		if err == nil {
			return fresh, nil
		}
		clear(fresh)
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Another process created it first: loop once more to read theirs.
	}
}

func readSecret(path string) ([]byte, error) {
	data, _, err := readPrivateFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) != SecretSize {
		clear(data)
		return nil, fmt.Errorf("keys: %s: secret is %d bytes, want %d", path, len(data), SecretSize)
	}
	return data, nil
}
