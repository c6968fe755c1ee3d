// Package vectors finds what tests read from outside the repository: the
// shared test vectors in ../shared/testdata beside the repository root (never
// copied in), and the root itself; and puts vectors in the form a reader is
// handed them.
package vectors

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot is the directory holding go.mod, found by walking up from the
// test's working directory (its package's folder).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("vectors: go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// Path is the path of parts below ../shared/testdata.
func Path(t testing.TB, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{RepoRoot(t), "..", "shared", "testdata"}, parts...)...)
}

// Read reads the file at parts below ../shared/testdata.
func Read(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, parts...))
	if err != nil {
		t.Fatalf("shared test vector: %v", err)
	}
	return b
}

// DCCSigner is the document signer certificate (DER) of an EU DCC test
// vector: TESTCTX.CERTIFICATE of the file at parts below dcc/.
func DCCSigner(t testing.TB, parts ...string) []byte {
	t.Helper()
	var vec struct {
		TestCtx struct {
			Certificate string `json:"CERTIFICATE"`
		} `json:"TESTCTX"`
	}
	if err := json.Unmarshal(Read(t, append([]string{"dcc"}, parts...)...), &vec); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(vec.TestCtx.Certificate)
	if err != nil || len(der) == 0 {
		t.Fatalf("vectors: no document signer in dcc/%s: %v", filepath.Join(parts...), err)
	}
	return der
}

// CoWINQR packs a CoWIN certificate.json as a CoWIN QR code carries it: the
// bytes of a ZIP archive holding that one file.
func CoWINQR(t testing.TB, certificate []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("certificate.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(certificate); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
