package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// State is the life-cycle state of a key.
type State string

const (
	// StateActive keys sign (the newest one does) and are published.
	StateActive State = "active"
	// StateRetired keys no longer sign but stay published so that what they signed still verifies.
	StateRetired State = "retired"
	// StateRevoked keys are withdrawn from the JWKS, so what they signed no longer verifies. Final.
	StateRevoked State = "revoked"
)

func (st State) valid() bool {
	return st == StateActive || st == StateRetired || st == StateRevoked
}

// Key describes a stored key. It has no private part. Public is shared: treat it as read-only.
type Key struct {
	KID     string
	State   State
	Created time.Time
	Public  *ecdsa.PublicKey
}

var (
	// ErrUnknownKey: no key with that kid is in the store.
	ErrUnknownKey = errors.New("keys: unknown key")
	// ErrNoActiveKey: the store has no active key (EnsureActive or Rotate creates one).
	ErrNoActiveKey = errors.New("keys: no active key")
	// ErrLastActiveKey: retiring the only active key would leave nothing to sign with; Rotate
	// instead, which retires it and activates a new key in one step.
	ErrLastActiveKey = errors.New("keys: cannot retire the only active key; rotate instead")
	// ErrKeyRevoked: a revoked key cannot change state again.
	ErrKeyRevoked = errors.New("keys: key is revoked")
)

// metadata is the content of <kid>.json.
type metadata struct {
	KID     string     `json:"kid"`
	State   State      `json:"state"`
	Created time.Time  `json:"created"`
	Retired *time.Time `json:"retired,omitempty"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

const (
	keySuffix  = ".pem"
	metaSuffix = ".json"
)

// FileStore is a directory of ES256 signing keys; see the package documentation for the layout.
// Print it freely: its String, GoString and Format show only the directory.
type FileStore struct {
	dir           string
	passphrase    redacted
	now           func() time.Time
	maxIterations int

	mu   sync.Mutex // serialises Reload and mutations; readers use snap
	snap atomic.Pointer[snapshot]

	keyFilesParsed atomic.Int64 // lets tests see that an unchanged Reload decrypts nothing
}

// redacted holds a secret that fmt, JSON and slog must not show, even when they reach it through
// a copy of the struct that holds it.
type redacted []byte

func (redacted) String() string                 { return "[redacted]" }
func (r redacted) GoString() string             { return r.String() }
func (r redacted) Format(f fmt.State, _ rune)   { fmt.Fprint(f, r.String()) }
func (r redacted) LogValue() slog.Value         { return slog.StringValue(r.String()) }
func (r redacted) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// snapshot is an immutable view of the directory.
type snapshot struct {
	stamps  map[string]fileStamp // every store file by name, to detect changes cheaply
	byKID   map[string]*entry
	ordered []*entry // oldest first
	active  *entry   // newest active key, or nil
}

type entry struct {
	key      Key
	meta     metadata
	keyStamp fileStamp
	priv     *ecdsa.PrivateKey
	signer   *fileSigner
}

// fileStamp identifies a version of a file without reading it. Every write is a rename of a new
// file, so the inode (where the system has one) changes on each write; size and modification time
// cover the rest.
type fileStamp struct {
	size  int64
	mod   time.Time
	mode  fs.FileMode
	inode uint64
}

func stampOf(info fs.FileInfo) fileStamp {
	return fileStamp{size: info.Size(), mod: info.ModTime(), mode: info.Mode(), inode: inodeOf(info)}
}

// OpenFileStore opens the key store in dir, creating the directory (mode 0700) if needed, and loads
// and checks every key: file and directory permissions, syntax, that each key's kid matches its file, and a probe
// signature. passphrase encrypts the keys this store creates and decrypts encrypted ones; empty
// means new keys are stored unencrypted. A store may hold both kinds (for instance after a
// passphrase was introduced); unencrypted keys still load. OpenFileStore does not create a key:
// call EnsureActive.
func OpenFileStore(dir string, passphrase []byte) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("keys: no key directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	s := &FileStore{
		dir:           dir,
		passphrase:    redacted(bytes.Clone(passphrase)),
		now:           func() time.Time { return time.Now().UTC() },
		maxIterations: maxPBKDF2Iterations,
	}
	s.snap.Store(&snapshot{byKID: map[string]*entry{}})
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// String describes the store without any secret.
func (s *FileStore) String() string { return "keys.FileStore(" + s.dir + ")" }

// GoString is String, so that %#v cannot reach the passphrase or the keys.
func (s *FileStore) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *FileStore) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue keeps slog from walking into the store.
func (s *FileStore) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reload brings the store up to date with the directory, picking up changes made by another process
// (the `vaxcert keys` CLI while the server runs). When no file changed it only lists and stats the
// directory; a changed key file is re-read and, if encrypted, decrypted again. If the directory now
// holds something invalid, Reload returns the error and keeps serving the previous view.
func (s *FileStore) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

func (s *FileStore) reloadLocked() error {
	old := s.snap.Load()
	stamps, err := s.scan()
	if err != nil {
		return err
	}
	if sameStamps(stamps, old.stamps) {
		return nil
	}
	next := &snapshot{stamps: stamps, byKID: map[string]*entry{}}
	for name := range stamps {
		kid, ok := strings.CutSuffix(name, metaSuffix)
		if !ok {
			continue
		}
		// A key file without metadata is a creation in progress (or one that crashed before its
		// metadata was written): skipped. Metadata without its key file is damage.
		keyStamp, ok := stamps[kid+keySuffix]
		if !ok {
			return fmt.Errorf("keys: %s: its key file %s is missing", s.path(name), kid+keySuffix)
		}
		e, err := s.loadEntry(kid, keyStamp, old.byKID[kid])
		if err != nil {
			return err
		}
		next.byKID[kid] = e
		next.ordered = append(next.ordered, e)
	}
	slices.SortFunc(next.ordered, func(a, b *entry) int {
		if c := a.key.Created.Compare(b.key.Created); c != 0 {
			return c
		}
		return strings.Compare(a.key.KID, b.key.KID)
	})
	for _, e := range next.ordered {
		if e.key.State == StateActive {
			next.active = e // the last one wins: the newest
		}
	}
	s.snap.Store(next)
	return nil
}

// scan lists the store files with their stamps. Files being written (temporary names) and files
// that are none of ours are ignored; a .pem or .json whose name is not a kid is an error, because
// it is most likely a key someone expected us to use.
func (s *FileStore) scan() (map[string]fileStamp, error) {
	dirents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	stamps := make(map[string]fileStamp, len(dirents))
	for _, de := range dirents {
		name := de.Name()
		if strings.HasPrefix(name, tempPrefix) {
			continue
		}
		base, isKey := strings.CutSuffix(name, keySuffix)
		if !isKey {
			var isMeta bool
			if base, isMeta = strings.CutSuffix(name, metaSuffix); !isMeta {
				continue
			}
		}
		if !validKID(base) {
			return nil, fmt.Errorf("keys: %s: file name is not <kid>%s or <kid>%s", s.path(name), keySuffix, metaSuffix)
		}
		info, err := os.Stat(s.path(name)) // follows symlinks, as reading will
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // vanished between listing and stat: not ours to judge
			}
			return nil, fmt.Errorf("keys: %w", err)
		}
		stamps[name] = stampOf(info)
	}
	return stamps, nil
}

// loadEntry reads <kid>.json and, unless it is unchanged since prev was loaded, <kid>.pem.
func (s *FileStore) loadEntry(kid string, keyStamp fileStamp, prev *entry) (*entry, error) {
	metaPath := s.path(kid + metaSuffix)
	data, _, err := readPrivateFile(metaPath)
	if err != nil {
		return nil, err
	}
	meta, err := parseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %v", metaPath, err)
	}
	if meta.KID != kid {
		return nil, fmt.Errorf("keys: %s: kid %q does not match the file name", metaPath, meta.KID)
	}

	var priv *ecdsa.PrivateKey
	if prev != nil && prev.keyStamp == keyStamp {
		priv = prev.priv
	} else {
		keyPath := s.path(kid + keySuffix)
		data, _, err := readPrivateFile(keyPath)
		if err != nil {
			return nil, err
		}
		s.keyFilesParsed.Add(1)
		priv, err = decodeKeyPEM(data, s.passphrase, s.maxIterations)
		clear(data)
		if err != nil {
			return nil, fmt.Errorf("keys: %s: %v", keyPath, err)
		}
		if got := Thumbprint(&priv.PublicKey); got != kid {
			return nil, fmt.Errorf("keys: %s: holds the key with kid %s, not %s", keyPath, got, kid)
		}
		if err := probe(priv, kid); err != nil {
			return nil, fmt.Errorf("keys: %s: %v", keyPath, err)
		}
	}
	pub := priv.PublicKey // a copy, so that nothing handed out points into the private key
	e := &entry{
		key:      Key{KID: kid, State: meta.State, Created: meta.Created, Public: &pub},
		meta:     meta,
		keyStamp: keyStamp,
		priv:     priv,
	}
	e.signer = newFileSigner(s, kid, priv)
	return e, nil
}

func parseMetadata(data []byte) (metadata, error) {
	var m metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return metadata{}, errors.New("not valid key metadata JSON")
	}
	if !m.State.valid() {
		return metadata{}, fmt.Errorf("unknown state %q", m.State)
	}
	if m.Created.IsZero() {
		return metadata{}, errors.New("no creation time")
	}
	return m, nil
}

func sameStamps(a, b map[string]fileStamp) bool {
	if a == nil || b == nil || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// validKID reports whether s looks like an RFC 7638 SHA-256 thumbprint: 43 base64url characters.
func validKID(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *FileStore) path(name string) string { return filepath.Join(s.dir, name) }

// EnsureActive returns the newest active key, first generating one if there is none (first start,
// or after every active key was revoked). created reports whether it generated the key.
func (s *FileStore) EnsureActive() (k Key, created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(); err != nil {
		return Key{}, false, err
	}
	if e := s.snap.Load().active; e != nil {
		return e.key, false, nil
	}
	k, err = s.createLocked()
	return k, err == nil, err
}

// Rotate generates a new active key and retires every previously active key (they stay published).
// The new key is written before the old ones are retired, so an interruption leaves two active keys
// (the newest signs) rather than none.
func (s *FileStore) Rotate() (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(); err != nil {
		return Key{}, err
	}
	previous := s.snap.Load().ordered
	k, err := s.createLocked()
	if err != nil {
		return Key{}, err
	}
	for _, e := range previous {
		if e.key.State == StateActive {
			if err := s.setStateLocked(e, StateRetired); err != nil {
				return k, err
			}
		}
	}
	return k, s.reloadLocked()
}

// Retire stops kid from signing; it stays published. Retiring a retired key does nothing; a revoked
// key gives ErrKeyRevoked and the only active key ErrLastActiveKey.
func (s *FileStore) Retire(kid string) error {
	return s.transition(kid, StateRetired)
}

// Revoke withdraws kid from the JWKS and stops it from signing, for good. Revoking the only active
// key is allowed (a compromised key must go at once); signing then fails with ErrNoActiveKey until
// EnsureActive or Rotate creates a new key. Revoking a revoked key does nothing.
func (s *FileStore) Revoke(kid string) error {
	return s.transition(kid, StateRevoked)
}

func (s *FileStore) transition(kid string, to State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(); err != nil {
		return err
	}
	snap := s.snap.Load()
	e := snap.byKID[kid]
	if e == nil {
		return fmt.Errorf("%w %q", ErrUnknownKey, kid)
	}
	switch {
	case e.key.State == to:
		return nil
	case e.key.State == StateRevoked:
		return fmt.Errorf("%w: %s cannot become %s", ErrKeyRevoked, kid, to)
	case to == StateRetired && e.key.State == StateActive:
		actives := 0
		for _, o := range snap.ordered {
			if o.key.State == StateActive {
				actives++
			}
		}
		if actives == 1 {
			return fmt.Errorf("%w (%s)", ErrLastActiveKey, kid)
		}
	}
	if err := s.setStateLocked(e, to); err != nil {
		return err
	}
	return s.reloadLocked()
}

// setStateLocked rewrites e's metadata with the new state.
func (s *FileStore) setStateLocked(e *entry, to State) error {
	meta := e.meta
	meta.State = to
	now := s.now()
	switch to {
	case StateRetired:
		meta.Retired = &now
	case StateRevoked:
		meta.Revoked = &now
	}
	return s.writeMetadata(meta, true)
}

// createLocked generates a key and writes it as active: key file first, then metadata, which is
// what makes the key exist (see reloadLocked).
func (s *FileStore) createLocked() (Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("keys: generating a key: %w", err)
	}
	kid := Thumbprint(&priv.PublicKey)
	pemBytes, err := encodeKeyPEM(priv, s.passphrase)
	if err != nil {
		return Key{}, fmt.Errorf("keys: encoding a key: %w", err)
	}
	err = writeFileAtomic(s.dir, kid+keySuffix, pemBytes, false)
	clear(pemBytes)
	if err != nil {
		return Key{}, err
	}
	if err := s.writeMetadata(metadata{KID: kid, State: StateActive, Created: s.now()}, false); err != nil {
		return Key{}, err
	}
	if err := s.reloadLocked(); err != nil {
		return Key{}, err
	}
	e := s.snap.Load().byKID[kid]
	if e == nil {
		return Key{}, fmt.Errorf("keys: %s: written but not found on reload", s.path(kid+metaSuffix))
	}
	return e.key, nil
}

func (s *FileStore) writeMetadata(meta metadata, replace bool) error {
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return writeFileAtomic(s.dir, meta.KID+metaSuffix, append(data, '\n'), replace)
}

// List returns every key, revoked ones included, oldest first.
func (s *FileStore) List() []Key {
	snap := s.snap.Load()
	out := make([]Key, len(snap.ordered))
	for i, e := range snap.ordered {
		out[i] = e.key
	}
	return out
}

// Lookup returns the key with this kid, in whatever state.
func (s *FileStore) Lookup(kid string) (Key, bool) {
	e := s.snap.Load().byKID[kid]
	if e == nil {
		return Key{}, false
	}
	return e.key, true
}

// ActiveSigner returns a Signer for the newest active key, or ErrNoActiveKey. Ask for it at each
// signing: a Signer refuses to sign once its key is no longer active in the store.
func (s *FileStore) ActiveSigner() (Signer, error) {
	e := s.snap.Load().active
	if e == nil {
		return nil, ErrNoActiveKey
	}
	return e.signer, nil
}

// SelfCheck signs a random probe with every active key, through the same Signer the issuer uses,
// and verifies it with the key's public half; it also checks each kid against its public key. The
// service should refuse to start when it fails. With no active key it returns ErrNoActiveKey.
func (s *FileStore) SelfCheck() error {
	snap := s.snap.Load()
	if snap.active == nil {
		return ErrNoActiveKey
	}
	for _, e := range snap.ordered {
		if e.key.State != StateActive {
			continue
		}
		if err := probe(e.signer, e.key.KID); err != nil {
			return fmt.Errorf("keys: %s: self-check failed: %v", s.path(e.key.KID+keySuffix), err)
		}
	}
	return nil
}

// JWKS returns the public keys that verifiers may use: active and retired, oldest first, never
// revoked ones and never a private part. crlVersion, if not nil, gives each key's crlVersion
// (SMART Health Cards §6); 0 leaves it out.
func (s *FileStore) JWKS(crlVersion func(kid string) int) JWKS {
	set := JWKS{Keys: []JWK{}} // "keys":[] rather than null when empty
	for _, e := range s.snap.Load().ordered {
		if e.key.State == StateRevoked {
			continue
		}
		jwk := PublicJWK(e.key.Public)
		if crlVersion != nil {
			jwk.CRLVersion = crlVersion(e.key.KID)
		}
		set.Keys = append(set.Keys, jwk)
	}
	return set
}
