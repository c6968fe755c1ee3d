package divoc

import (
	"os"
	"path/filepath"
	"testing"
)

// testdataDir locates ../shared/testdata/divoc from the repository root
// (the directory holding go.mod).
func testdataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "testdata", "divoc")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir(t), "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
