package divoc

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// The Government of India's production key, published by CoWIN at
// https://verify.cowin.gov.in/did:india (a public key). It is trusted by
// default; see BuiltinDisabledMarker for how to stop trusting it.
//
//go:embed builtin/did-india.pem
var builtinIndiaPEM []byte

// DIVOC's development key, shipped in DIVOC's sample configuration with its
// PRIVATE key published beside it, so anyone can sign with it. It is never
// trusted unless the user imports it; it is bundled only so that a
// certificate signed with it is reported as "not trusted: signed with the
// public DIVOC development key" instead of as a broken signature.
//
//go:embed builtin/divoc-dev-untrusted.pem
var builtinDevPEM []byte

const (
	// IndiaDID is the verification method of every CoWIN certificate.
	IndiaDID = "did:india"
	// IndiaKeyName is the display name of the built-in production key.
	IndiaKeyName = "Government of India (CoWIN)"
	// devKeyName names the bundled, never-trusted development key.
	devKeyName = "DIVOC public development key (its private key is published)"

	// didSubdir is where DID keys live inside a trust directory.
	didSubdir = "did"
	// BuiltinDisabledMarker, when present as <trustDir>/did/did-india.disabled
	// (any content), stops the built-in production key from being trusted.
	// DisableBuiltin creates it; EnableBuiltin (or deleting it) trusts the
	// built-in key again.
	// A key imported with ImportKey is trusted regardless of the marker.
	BuiltinDisabledMarker = "did-india.disabled"

	maxKeyFileSize = 64 << 10
	minRSABits     = 2048
	maxRSABits     = 8192
)

// Key is one RSA public key bound to a DID.
type Key struct {
	DID         string
	Name        string
	PublicKey   *rsa.PublicKey
	Fingerprint string // hex SHA-256 of the DER SubjectPublicKeyInfo
	Builtin     bool   // bundled in the binary rather than read from the trust dir
}

// KeyRing is what a verification checks signatures against. Trusted keys
// make a certificate VALID. Known keys are recognised but not trusted: a
// certificate that verifies only with one of them is NOT TRUSTED, naming
// the key, rather than INVALID.
type KeyRing struct {
	Trusted []Key
	Known   []Key
}

// storedKey is the on-disk form of an imported key:
// <trustDir>/did/<first 16 hex digits of the fingerprint>.json.
type storedKey struct {
	DID          string `json:"did"`
	Name         string `json:"name"`
	Fingerprint  string `json:"fingerprint_sha256"`
	PublicKeyPEM string `json:"public_key_pem"`
}

// LoadKeyRing reads the DID keys of a trust directory and adds the built-in
// keys: the production did:india key is trusted unless the
// BuiltinDisabledMarker file exists; the DIVOC development key is known but
// never trusted unless imported. An empty trustDir means the built-in keys
// alone. A missing <trustDir>/did directory is not an error.
func LoadKeyRing(trustDir string) (KeyRing, error) {
	india, err := builtinKey(builtinIndiaPEM, IndiaDID, IndiaKeyName)
	if err != nil {
		return KeyRing{}, err
	}
	dev, err := builtinKey(builtinDevPEM, IndiaDID, devKeyName)
	if err != nil {
		return KeyRing{}, err
	}

	var imported []Key
	indiaDisabled := false
	if trustDir != "" {
		dir := filepath.Join(trustDir, didSubdir)
		imported, err = readStoredKeys(dir)
		if err != nil {
			return KeyRing{}, err
		}
		if _, err := os.Stat(filepath.Join(dir, BuiltinDisabledMarker)); err == nil {
			indiaDisabled = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return KeyRing{}, fmt.Errorf("trust store: %v", err)
		}
	}

	var ring KeyRing
	ring.Trusted = append(ring.Trusted, imported...)
	for _, k := range []struct {
		key     Key
		trusted bool
	}{{india, !indiaDisabled}, {dev, false}} {
		if hasKey(imported, k.key) {
			continue // the user's own import (and name) wins
		}
		if k.trusted {
			ring.Trusted = append(ring.Trusted, k.key)
		} else {
			ring.Known = append(ring.Known, k.key)
		}
	}
	return ring, nil
}

// TrustedKeys lists the keys a verification with this trust directory would
// trust, built-in ones included.
func TrustedKeys(trustDir string) ([]Key, error) {
	ring, err := LoadKeyRing(trustDir)
	return ring.Trusted, err
}

// DisableBuiltin stops trusting the built-in Government of India key by
// creating <trustDir>/did/did-india.disabled.
func DisableBuiltin(trustDir string) error {
	if trustDir == "" {
		return errors.New("no trust directory given")
	}
	dir := filepath.Join(trustDir, didSubdir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	note := []byte("The built-in did:india key is not trusted while this file exists.\n")
	return writeFileAtomic(filepath.Join(dir, BuiltinDisabledMarker), note)
}

// EnableBuiltin trusts the built-in Government of India key again by
// removing the marker DisableBuiltin created (no error if there is none).
func EnableBuiltin(trustDir string) error {
	if trustDir == "" {
		return nil
	}
	err := os.Remove(filepath.Join(trustDir, didSubdir, BuiltinDisabledMarker))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ImportKey trusts the RSA public key in pemPath for did, shown as name:
// `vaxverify trust import --did did:india --name "…" KEY.pem`. The key is
// written to <trustDir>/did/<fingerprint prefix>.json; importing the same
// key again updates its DID and name. Private keys are refused (and never
// copied); RSA keys must have 2048 to 8192 bits.
func ImportKey(trustDir, did, name, pemPath string) error {
	if trustDir == "" {
		return errors.New("no trust directory given")
	}
	if err := checkDID(did); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errors.New("the key name must be 1 to 200 printable characters")
	}
	f, err := os.Open(pemPath)
	if err != nil {
		return err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return err
	}
	if len(raw) > maxKeyFileSize {
		return fmt.Errorf("%s is larger than %d bytes; not a public key file", pemPath, maxKeyFileSize)
	}
	pub, err := ParsePublicKeyPEM(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", pemPath, err)
	}
	key, err := newKey(pub, did, name, false)
	if err != nil {
		return err
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	stored := storedKey{
		DID:          did,
		Name:         name,
		Fingerprint:  key.Fingerprint,
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}
	body, err := json.MarshalIndent(stored, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Join(trustDir, didSubdir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, key.Fingerprint[:16]+".json"), append(body, '\n'))
}

// ParsePublicKeyPEM reads one RSA public key from PEM ("PUBLIC KEY" or
// "RSA PUBLIC KEY"). Private keys are refused with an error that says so.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if strings.Contains(block.Type, "PRIVATE") {
		return nil, errors.New("this is a private key; import the public key only")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("more than one PEM block; give exactly one public key")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("unreadable public key: %v", err)
	}
	rsaKey, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T; CoWIN signatures (PS256) need an RSA key", pub)
	}
	if bits := rsaKey.N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("RSA key of %d bits; accepted are %d to %d", bits, minRSABits, maxRSABits)
	}
	return rsaKey, nil
}

func builtinKey(data []byte, did, name string) (Key, error) {
	pub, err := ParsePublicKeyPEM(data)
	if err != nil {
		return Key{}, fmt.Errorf("built-in key %s: %v", name, err)
	}
	return newKey(pub, did, name, true)
}

func newKey(pub *rsa.PublicKey, did, name string, builtin bool) (Key, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256(der)
	return Key{DID: did, Name: name, PublicKey: pub, Fingerprint: hex.EncodeToString(sum[:]), Builtin: builtin}, nil
}

// readStoredKeys loads every *.json key file of dir, sorted by file name so
// results are deterministic. A malformed file is an error: silently skipping
// it would make a trusted key vanish without a word.
func readStoredKeys(dir string) ([]Key, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trust store: %v", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var keys []Key
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		key, err := readStoredKey(path)
		if err != nil {
			return nil, fmt.Errorf("trust store %s: %v", path, err)
		}
		if !hasKey(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

func readStoredKey(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return Key{}, err
	}
	if len(raw) > maxKeyFileSize {
		return Key{}, errors.New("file too large")
	}
	var sk storedKey
	if err := json.Unmarshal(raw, &sk); err != nil {
		return Key{}, err
	}
	if err := checkDID(sk.DID); err != nil {
		return Key{}, err
	}
	pub, err := ParsePublicKeyPEM([]byte(sk.PublicKeyPEM))
	if err != nil {
		return Key{}, err
	}
	key, err := newKey(pub, sk.DID, sk.Name, false)
	if err != nil {
		return Key{}, err
	}
	if sk.Fingerprint != "" && !strings.EqualFold(sk.Fingerprint, key.Fingerprint) {
		return Key{}, errors.New("fingerprint does not match the key")
	}
	return key, nil
}

func hasKey(keys []Key, k Key) bool {
	for _, have := range keys {
		if have.DID == k.DID && have.Fingerprint == k.Fingerprint {
			return true
		}
	}
	return false
}

// checkDID accepts "did:<method>:<id…>" or "did:<method>" (CoWIN uses the
// bare "did:india"), without whitespace.
func checkDID(did string) error {
	rest, ok := strings.CutPrefix(did, "did:")
	if !ok || rest == "" || len(did) > 200 || strings.IndexFunc(did, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}) >= 0 {
		return fmt.Errorf("%q is not a DID (expected e.g. %q)", did, IndiaDID)
	}
	method, _, _ := strings.Cut(rest, ":")
	for _, r := range method {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return fmt.Errorf("%q: a DID method is lowercase letters and digits", did)
		}
	}
	return nil
}

// writeFileAtomic writes via a temporary file and a rename, so a crash
// never leaves a half-written key that would break every later verification.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // harmless after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
