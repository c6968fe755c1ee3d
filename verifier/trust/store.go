// Package trust is the verifier's trust store: for each trusted SMART Health
// Card issuer (by its exact iss), its display name, its ES256 public keys and
// its revocation lists.
//
// On disk it is a directory (vaxverify's --trust DIR) whose shc/ sub-folder
// holds one JSON file per issuer. Other formats keep their own material in
// other sub-folders of the same directory (dsc/ for EU DCC, did/ for CoWIN),
// which this package never touches. A Store can also be loaded from any
// fs.FS, so the web verifier can embed one.
package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vaxcert/vaxcert/shc"
)

// Subdir is the folder of the trust directory that holds SHC issuers.
const Subdir = "shc"

// MaxIssuerFileSize bounds one issuer file.
const MaxIssuerFileSize = 8 << 20

// Issuer is one trusted issuer.
type Issuer struct {
	Iss       string
	Name      string
	Website   string
	Source    string // how it was added: "import", "https", "vci"
	UpdatedAt time.Time
	Keys      map[string]*Key // by kid
	CRLs      map[string]*CRL // by kid
}

// Key returns the trusted key with this kid, or nil.
func (is *Issuer) Key(kid string) *Key {
	if is == nil {
		return nil
	}
	return is.Keys[kid]
}

// CRL returns the revocation list for kid, or nil.
func (is *Issuer) CRL(kid string) *CRL {
	if is == nil {
		return nil
	}
	return is.CRLs[kid]
}

// DisplayName is the name, or the iss when none was given.
func (is *Issuer) DisplayName() string {
	if is.Name != "" {
		return is.Name
	}
	return is.Iss
}

// Store is an in-memory set of trusted issuers, safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	issuers map[string]*Issuer
}

// NewStore returns a store holding the given issuers.
func NewStore(issuers ...*Issuer) *Store {
	s := &Store{issuers: make(map[string]*Issuer)}
	for _, is := range issuers {
		s.Put(is)
	}
	return s
}

// Put adds or replaces an issuer.
func (s *Store) Put(is *Issuer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.issuers == nil {
		s.issuers = make(map[string]*Issuer)
	}
	s.issuers[is.Iss] = is
}

// Lookup finds an issuer by its exact iss string. Trust is decided on that
// string alone, before and without any network access.
func (s *Store) Lookup(iss string) (*Issuer, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	is, ok := s.issuers[iss]
	return is, ok
}

// KeysWithKid returns the distinct trusted keys with this kid, whatever
// issuer trusts them: a verifier can then check a card's signature before it
// reads the payload that names the issuer. A kid is the key's thumbprint, so
// this is normally one key, possibly trusted under several issuers.
func (s *Store) KeysWithKid(kid string) []*Key {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Key
	for _, is := range s.issuers {
		k := is.Keys[kid]
		if k != nil && k.Public != nil && !slices.ContainsFunc(out, func(o *Key) bool { return o.Public.Equal(k.Public) }) {
			out = append(out, k)
		}
	}
	return out
}

// Issuers lists the issuers sorted by iss.
func (s *Store) Issuers() []*Issuer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Issuer, 0, len(s.issuers))
	for _, is := range s.issuers {
		out = append(out, is)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Iss < out[j].Iss })
	return out
}

// issuerFile is the on-disk form of an Issuer.
type issuerFile struct {
	Iss       string            `json:"iss"`
	Name      string            `json:"name,omitempty"`
	Website   string            `json:"website,omitempty"`
	Source    string            `json:"source,omitempty"`
	UpdatedAt time.Time         `json:"updated_at"`
	JWKS      json.RawMessage   `json:"jwks"`
	CRLs      []json.RawMessage `json:"crls,omitempty"`
}

// ParseIssuerFile reads one issuer file of the trust directory.
func ParseIssuerFile(b []byte) (*Issuer, error) {
	if len(b) > MaxIssuerFileSize {
		return nil, fmt.Errorf("issuer file larger than %d bytes", MaxIssuerFileSize)
	}
	var f issuerFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("issuer file is not valid JSON: %w", err)
	}
	if err := shc.CheckIss(f.Iss); err != nil {
		return nil, err
	}
	is := &Issuer{Iss: f.Iss, Name: f.Name, Website: f.Website, Source: f.Source, UpdatedAt: f.UpdatedAt,
		Keys: map[string]*Key{}, CRLs: map[string]*CRL{}}
	if len(f.JWKS) > 0 && string(f.JWKS) != "null" {
		keys, _, err := ParseJWKS(f.JWKS)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			is.Keys[k.Kid] = k
		}
	}
	for i, raw := range f.CRLs {
		c, err := ParseCRL(raw)
		if err != nil {
			return nil, fmt.Errorf("CRL %d: %w", i, err)
		}
		is.CRLs[c.Kid] = c
	}
	return is, nil
}

// MarshalIssuerFile writes the on-disk form of an issuer.
func MarshalIssuerFile(is *Issuer) ([]byte, error) {
	kids := make([]string, 0, len(is.Keys))
	for kid := range is.Keys {
		kids = append(kids, kid)
	}
	sort.Strings(kids)
	keys := make([]json.RawMessage, 0, len(kids))
	for _, kid := range kids {
		keys = append(keys, is.Keys[kid].JWK)
	}
	jwks, err := json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{keys})
	if err != nil {
		return nil, err
	}
	f := issuerFile{Iss: is.Iss, Name: is.Name, Website: is.Website, Source: is.Source, UpdatedAt: is.UpdatedAt.UTC(), JWKS: jwks}
	crlKids := make([]string, 0, len(is.CRLs))
	for kid := range is.CRLs {
		crlKids = append(crlKids, kid)
	}
	sort.Strings(crlKids)
	for _, kid := range crlKids {
		raw, err := json.Marshal(is.CRLs[kid])
		if err != nil {
			return nil, err
		}
		f.CRLs = append(f.CRLs, raw)
	}
	return json.MarshalIndent(f, "", "  ")
}

// FileName is the name of an issuer's file inside shc/: a hash of the iss,
// so that any iss maps to one safe file name.
func FileName(iss string) string {
	sum := sha256.Sum256([]byte(iss))
	return hex.EncodeToString(sum[:16]) + ".json"
}

// Load reads every issuer file under shc/ of fsys. A missing shc/ folder is
// an empty store; an unreadable or invalid issuer file is an error naming it.
func Load(fsys fs.FS) (*Store, error) {
	s := NewStore()
	entries, err := fs.ReadDir(fsys, Subdir)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		name := path.Join(Subdir, e.Name())
		b, err := readBounded(fsys, name, MaxIssuerFileSize)
		if err != nil {
			return nil, fmt.Errorf("trust store: %s: %w", name, err)
		}
		is, err := ParseIssuerFile(b)
		if err != nil {
			return nil, fmt.Errorf("trust store: %s: %w", name, err)
		}
		s.Put(is)
	}
	return s, nil
}

func readBounded(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("file larger than %d bytes", limit)
	}
	return b, nil
}

// LoadDir loads the trust directory dir (a missing directory is empty).
func LoadDir(dir string) (*Store, error) {
	return Load(os.DirFS(dir))
}

// SaveIssuer writes an issuer's file into dir/shc/, atomically (a temporary
// file renamed into place), creating the folders as needed.
func SaveIssuer(dir string, is *Issuer) error {
	if err := shc.CheckIss(is.Iss); err != nil {
		return err
	}
	b, err := MarshalIssuerFile(is)
	if err != nil {
		return err
	}
	sub := filepath.Join(dir, Subdir)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(sub, ".issuer-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
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
	return os.Rename(tmp.Name(), filepath.Join(sub, FileName(is.Iss)))
}

// DefaultDir is the trust directory used without --trust:
// <user config dir>/vaxverify.
func DefaultDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory (use --trust DIR): %w", err)
	}
	return filepath.Join(base, "vaxverify"), nil
}
