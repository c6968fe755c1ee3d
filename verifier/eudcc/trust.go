package eudcc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
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
)

// The trust store's DSCs live in <trustDir>/dsc/, one PEM file per
// certificate, named <hex SHA-256 of the DER>.pem. The first 16 hex digits
// of the name are the certificate's kid. Files are written atomically with
// mode 0644; dotfiles are ignored (that is where an interrupted write leaves
// its temporary file); anything else in the folder is an error.
const dscSubdir = "dsc"

// Bounds on what is read, so a damaged or hostile trust directory or import
// file cannot exhaust memory.
const (
	maxDSCFileSize    = 64 << 10 // one stored certificate
	maxImportFileSize = 32 << 20 // one import file: a national trust list
	maxStoredDSCs     = 100_000  // files in <trustDir>/dsc
	maxImportFiles    = 10_000   // files in one imported folder
	kidSize           = 8        // bytes
)

// KID returns the kid of a DSC: the first 8 bytes of SHA-256 of its DER.
func KID(cert *x509.Certificate) []byte {
	sum := sha256.Sum256(cert.Raw)
	return sum[:kidSize]
}

// TrustStore indexes trusted DSCs by kid. Several DSCs may share a kid; a
// verifier must try each of them.
type TrustStore struct {
	byKID map[string][]*x509.Certificate
	n     int
}

// NewTrustStore trusts exactly certs (duplicates are dropped).
func NewTrustStore(certs ...*x509.Certificate) *TrustStore {
	s := &TrustStore{byKID: make(map[string][]*x509.Certificate)}
	for _, c := range certs {
		s.add(c)
	}
	return s
}

func (s *TrustStore) add(cert *x509.Certificate) {
	k := string(KID(cert))
	for _, have := range s.byKID[k] {
		if bytes.Equal(have.Raw, cert.Raw) {
			return
		}
	}
	s.byKID[k] = append(s.byKID[k], cert)
	s.n++
}

// Lookup returns the DSCs whose kid is kid.
func (s *TrustStore) Lookup(kid []byte) []*x509.Certificate {
	if s == nil {
		return nil
	}
	return s.byKID[string(kid)]
}

// Len is the number of trusted DSCs.
func (s *TrustStore) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Certificates lists the trusted DSCs, ordered by their DER bytes.
func (s *TrustStore) Certificates() []*x509.Certificate {
	if s == nil {
		return nil
	}
	certs := make([]*x509.Certificate, 0, s.n)
	for _, same := range s.byKID {
		certs = append(certs, same...)
	}
	sort.Slice(certs, func(i, j int) bool { return bytes.Compare(certs[i].Raw, certs[j].Raw) < 0 })
	return certs
}

// LoadTrustStore reads <trustDir>/dsc/. A missing folder is an empty store.
// Loading is strict: a file that is not <sha256>.pem holding exactly that
// one certificate fails the whole load, because a trust store that is
// silently half-read is worse than one that refuses to work.
func LoadTrustStore(trustDir string) (*TrustStore, error) {
	return loadTrustStore(trustDir, nil)
}

// loadTrustStore loads the DSCs whose kid is kid, or all of them when kid is
// nil. Every entry's name is checked either way; only matching files are
// read and parsed, which keeps a verification against thousands of stored
// DSCs to one directory listing and a file or two (the name starts with the
// kid in hex).
func loadTrustStore(trustDir string, kid []byte) (*TrustStore, error) {
	store := NewTrustStore()
	if trustDir == "" {
		return store, nil
	}
	dir := filepath.Join(trustDir, dscSubdir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return store, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	}
	if len(entries) > maxStoredDSCs {
		return nil, fmt.Errorf("trust store: %s holds %d entries, more than %d", dir, len(entries), maxStoredDSCs)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		fp, ok := strings.CutSuffix(name, ".pem")
		if !ok || !isLowerHex(fp, sha256.Size*2) || !e.Type().IsRegular() {
			return nil, fmt.Errorf("trust store: unexpected entry %s in %s (import certificates with `vaxverify trust import --dsc`)", name, dir)
		}
		if kid != nil && !strings.HasPrefix(fp, hex.EncodeToString(kid)) {
			continue
		}
		cert, err := readStoredDSC(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("trust store: %s: %w", name, err)
		}
		if fingerprint(cert) != fp {
			return nil, fmt.Errorf("trust store: %s holds a certificate with fingerprint %s", name, fingerprint(cert))
		}
		store.add(cert)
	}
	return store, nil
}

func readStoredDSC(path string) (*x509.Certificate, error) {
	data, err := readCapped(path, maxDSCFileSize)
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
		return nil, errors.New("not a single PEM CERTIFICATE")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("data after the certificate")
	}
	return ParseDSC(block.Bytes)
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

func fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// ParseDSC parses one DER certificate and checks that its key is one a DCC
// can be verified with (ECDSA or RSA).
func ParseDSC(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	switch cert.PublicKey.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
		return cert, nil
	default:
		return nil, fmt.Errorf("certificate %q has a %T key; DSCs use ECDSA or RSA", cert.Subject, cert.PublicKey)
	}
}

// ImportDSC adds the DSCs in paths to <trustDir>/dsc/ and returns how many
// distinct certificates the inputs held (certificates already in the store
// count, and are left as they are). Each path is a file or a folder, whose
// regular, non-hidden files are all imported (not recursively). A file may
// hold:
//
//   - PEM: one or more CERTIFICATE blocks (any other block type is an error,
//     so a private key is never taken in);
//   - DER: one certificate;
//   - base64 (standard or URL alphabet) of one DER certificate;
//   - a national trust list in JSON: {"certificates":[{"kid","rawData",…}]}
//     as served by the German and Austrian backends, optionally preceded by
//     the German list's signature line; or an array of such entries as the
//     EU gateway's trustList serves them, whose entries with a
//     certificateType other than "DSC" are skipped. A list's signature is
//     not checked: importing a list trusts whoever gave you the file. A kid
//     in the list must be the certificate's own.
//
// Every input is read and parsed before anything is written, so a bad file
// imports nothing.
func ImportDSC(trustDir string, paths []string) (int, error) {
	if trustDir == "" {
		return 0, errors.New("no trust directory given")
	}
	if len(paths) == 0 {
		return 0, errors.New("no certificate files given")
	}
	files, err := expandPaths(paths)
	if err != nil {
		return 0, err
	}
	byFP := make(map[string]*x509.Certificate)
	for _, path := range files {
		data, err := readCapped(path, maxImportFileSize)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		certs, err := ParseDSCs(data)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		for _, c := range certs {
			byFP[fingerprint(c)] = c
		}
	}
	if len(byFP) == 0 {
		return 0, errors.New("the inputs hold no document signer certificates")
	}
	dir := filepath.Join(trustDir, dscSubdir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	fps := make([]string, 0, len(byFP))
	for fp := range byFP {
		fps = append(fps, fp)
	}
	sort.Strings(fps)
	for _, fp := range fps {
		path := filepath.Join(dir, fp+".pem")
		data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: byFP[fp].Raw})
		if have, err := readCapped(path, maxDSCFileSize); err == nil && bytes.Equal(have, data) {
			continue // already stored; a damaged copy is rewritten
		}
		if err := writeFileAtomic(path, data); err != nil {
			return 0, err
		}
	}
	return len(fps), nil
}

func expandPaths(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
				continue
			}
			full := filepath.Join(p, e.Name())
			if fi, err := os.Stat(full); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if n++; n > maxImportFiles {
				return nil, fmt.Errorf("%s holds more than %d files", p, maxImportFiles)
			}
			files = append(files, full)
		}
		if n == 0 {
			return nil, fmt.Errorf("%s holds no files", p)
		}
	}
	return files, nil
}

// ParseDSCs reads the certificates of one import file in any of the forms
// ImportDSC accepts.
func ParseDSCs(data []byte) ([]*x509.Certificate, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("empty file")
	case bytes.Contains(trimmed, []byte("-----BEGIN")):
		return parsePEMCerts(trimmed)
	case trimmed[0] == 0x30 && data[0] == 0x30:
		c, err := ParseDSC(data)
		if err != nil {
			return nil, fmt.Errorf("DER certificate: %w", err)
		}
		return []*x509.Certificate{c}, nil
	case trimmed[0] == '{' || trimmed[0] == '[':
		return parseTrustList(trimmed)
	}
	// The German DSC list is "<base64 signature>\n<JSON>".
	if first, rest, ok := bytes.Cut(trimmed, []byte("\n")); ok {
		rest = bytes.TrimSpace(rest)
		if len(rest) > 0 && rest[0] == '{' && decodeBase64(first) != nil {
			return parseTrustList(rest)
		}
	}
	der := decodeBase64(trimmed)
	if der == nil {
		return nil, errors.New("neither PEM, DER, base64 DER nor a JSON trust list")
	}
	c, err := ParseDSC(der)
	if err != nil {
		return nil, fmt.Errorf("base64 certificate: %w", err)
	}
	return []*x509.Certificate{c}, nil
}

func parsePEMCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q: only CERTIFICATE blocks are accepted", block.Type)
		}
		c, err := ParseDSC(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(bytes.TrimSpace(rest)) != 0 || len(certs) == 0 {
		return nil, errors.New("malformed PEM")
	}
	return certs, nil
}

// trustListEntry is one certificate in the German, Austrian or EU gateway
// trust list JSON.
type trustListEntry struct {
	KID             string `json:"kid"`
	RawData         string `json:"rawData"`
	Country         string `json:"country"`
	CertificateType string `json:"certificateType"`
}

func parseTrustList(data []byte) ([]*x509.Certificate, error) {
	var entries []trustListEntry
	if data[0] == '[' {
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("trust list: %w", err)
		}
	} else {
		var list struct {
			Certificates *[]trustListEntry `json:"certificates"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("trust list: %w", err)
		}
		if list.Certificates == nil {
			return nil, errors.New(`trust list: no "certificates" array`)
		}
		entries = *list.Certificates
	}
	var certs []*x509.Certificate
	for i, e := range entries {
		if e.CertificateType != "" && !strings.EqualFold(e.CertificateType, "DSC") {
			continue
		}
		der := decodeBase64([]byte(e.RawData))
		if der == nil {
			return nil, fmt.Errorf("trust list entry %d: rawData is not base64", i)
		}
		c, err := ParseDSC(der)
		if err != nil {
			return nil, fmt.Errorf("trust list entry %d: %w", i, err)
		}
		if e.KID != "" {
			kid := decodeBase64([]byte(e.KID))
			if !bytes.Equal(kid, KID(c)) {
				return nil, fmt.Errorf("trust list entry %d: kid %s is not the certificate's kid %s", i, e.KID, base64.StdEncoding.EncodeToString(KID(c)))
			}
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("trust list: no DSC entries")
	}
	return certs, nil
}

// decodeBase64 decodes standard or URL-safe base64, padded or not, ignoring
// whitespace; it returns nil when data is not base64.
func decodeBase64(data []byte) []byte {
	clean := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, data)
	s := strings.TrimRight(string(clean), "=")
	if s == "" {
		return nil
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if out, err := enc.DecodeString(s); err == nil {
			return out
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary dotfile in the same
// folder, so a reader sees the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".import-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // after a successful rename this is a no-op error
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
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
	if err := os.Rename(name, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return nil
}
