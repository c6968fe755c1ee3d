package divoc

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/internal/vectors"
)

// testdataDir is ../shared/testdata/divoc.
func testdataDir(t testing.TB) string { return vectors.Path(t, "divoc") }

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir(t), "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// qrText decodes a sample in the WHO test convention: "B64:" followed by
// the base64 of the bytes the QR code carries.
func qrText(t testing.TB, name string) []byte {
	t.Helper()
	text := strings.TrimSpace(string(readSample(t, name)))
	payload, ok := strings.CutPrefix(text, "B64:")
	if !ok {
		t.Fatalf("%s does not start with B64:", name)
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func unzipped(t testing.TB, archive []byte) []byte {
	t.Helper()
	data, err := ExtractCertificate(archive)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// zipOf builds a deflated archive of the files, in name order.
func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
