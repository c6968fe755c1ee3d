package registration

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/vaxcert/vaxcert/keys"
)

// Secrets are the server-side keys of registration. They live in
// <data>/secrets/ (mode 0600, created on first start) and must be backed up
// with the database: without IDHash no duplicate can be found, and without
// IDSeal no sealed ID number can be read again.
type Secrets struct {
	OTP    []byte // HMAC key for stored OTPs
	IDHash []byte // HMAC key for the ID-number de-duplication hash
	IDSeal []byte // AES-256-GCM key for the sealed ID number
}

// LoadSecrets loads (creating on first use) the secrets in dir.
func LoadSecrets(dir string) (Secrets, error) {
	var s Secrets
	var err error
	for name, dst := range map[string]*[]byte{"otp-hmac": &s.OTP, "id-hmac": &s.IDHash, "id-seal": &s.IDSeal} {
		if *dst, err = keys.LoadOrCreateSecret(dir, name); err != nil {
			return Secrets{}, err
		}
	}
	return s, nil
}

// SecretsDir is where LoadSecrets keeps them under a data directory.
func SecretsDir(dataDir string) string { return filepath.Join(dataDir, "secrets") }

// IDVault turns a photo-ID number into what the database keeps: a keyed hash
// that finds duplicates without revealing the number, and a sealed copy
// (AES-GCM) that only the server can open, for the travel certificate that
// must print the passport number.
type IDVault struct {
	hashKey []byte
	aead    cipher.AEAD
}

// NewIDVault builds a vault from the two secrets.
func NewIDVault(hashKey, sealKey []byte) (*IDVault, error) {
	if len(hashKey) < 16 {
		return nil, errors.New("registration: ID hash key is too short")
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("registration: ID seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &IDVault{hashKey: hashKey, aead: aead}, nil
}

// Hash is the de-duplication key of a normalised ID number: HMAC-SHA-256 over
// type and number, hex. The type is included because a number of one kind
// may, by chance, equal one of another.
func (v *IDVault) Hash(t IDType, normalized string) string {
	m := hmac.New(sha256.New, v.hashKey)
	m.Write([]byte(t))
	m.Write([]byte{0})
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

// Seal encrypts a normalised ID number for the beneficiary refID. The
// reference and type are authenticated with it, so a sealed number copied to
// another row no longer opens.
func (v *IDVault) Seal(refID string, t IDType, normalized string) ([]byte, error) {
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return v.aead.Seal(nonce, nonce, []byte(normalized), sealAAD(refID, t)), nil
}

// Open reverses Seal.
func (v *IDVault) Open(refID string, t IDType, sealed []byte) (string, error) {
	n := v.aead.NonceSize()
	if len(sealed) < n+v.aead.Overhead() {
		return "", errors.New("registration: sealed ID is too short")
	}
	plain, err := v.aead.Open(nil, sealed[:n], sealed[n:], sealAAD(refID, t))
	if err != nil {
		return "", errors.New("registration: sealed ID does not open (wrong key, or not this beneficiary's)")
	}
	return string(plain), nil
}

func sealAAD(refID string, t IDType) []byte {
	return []byte("vaxcert-id/v1\x00" + refID + "\x00" + string(t))
}
