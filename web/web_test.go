package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vaxcert/vaxcert/web/internal/wasmbuild"
)

// TestWasmUpToDate fails when the committed verifier module no longer
// matches its sources (this module's packages, dependency versions, build
// flags, Go release): run `go generate ./web` and commit the result.
func TestWasmUpToDate(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the module's inputs")
	}
	root, err := wasmbuild.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	stamp, err := os.ReadFile(filepath.Join(root, wasmbuild.StampPath))
	if err != nil {
		t.Fatal(err)
	}
	recorded, output, err := wasmbuild.ParseStamp(stamp)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(VerifierWasmGz)
	if hex.EncodeToString(sum[:]) != output {
		t.Fatalf("%s is not the module its stamp describes (an interrupted or partial update?): run go generate ./web", wasmbuild.ModulePath)
	}
	current, err := wasmbuild.Inputs(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if diff := lineDiff(recorded, current); diff != "" {
		t.Fatalf("the browser verifier module is stale; run `go generate ./web` and commit web/wasm/ and web/static/vendor/wasm_exec.js.\nchanged inputs (- stamp, + now):\n%s", diff)
	}
}

func lineDiff(old, cur []string) string {
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	for _, l := range old {
		if !in(cur, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range cur {
		if !in(old, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

func TestWasmModule(t *testing.T) {
	raw, err := wasmbuild.Gunzip(VerifierWasmGz)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\x00asm\x01\x00\x00\x00")) {
		t.Fatal("the module is not WebAssembly")
	}
}

// TestWasmExecMatchesToolchain: the loader must come from the Go release
// that compiled the module.
func TestWasmExecMatchesToolchain(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("no go command")
	}
	want, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Skip("this toolchain ships no wasm_exec.js")
	}
	got, err := Static.ReadFile("static/vendor/wasm_exec.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("static/vendor/wasm_exec.js differs from the toolchain's: run go generate ./web")
	}
}

// TestVendoredFiles: vendored files are byte-for-byte what the README says,
// each with its licence.
func TestVendoredFiles(t *testing.T) {
	readme, err := Static.ReadFile("static/vendor/README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*\\| `([0-9a-f]{64})` \\|$")
	rows := row.FindAllStringSubmatch(string(readme), -1)
	if len(rows) == 0 {
		t.Fatal("README lists no hashes")
	}
	for _, m := range rows {
		b, err := Static.ReadFile("static/vendor/" + m[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != m[2] {
			t.Errorf("%s does not match its sha256 in vendor/README.md", m[1])
		}
		lic := strings.TrimSuffix(m[1], filepath.Ext(m[1])) + ".LICENSE"
		if _, err := Static.ReadFile("static/vendor/" + lic); err != nil {
			t.Errorf("%s has no licence file %s", m[1], lic)
		}
	}
	if _, err := Static.ReadFile("static/vendor/wasm_exec.LICENSE"); err != nil {
		t.Error("wasm_exec.js has no licence file")
	}
}

func TestParseStampRoundTrip(t *testing.T) {
	in := []string{"go go1.26", "pkg ./x abc"}
	got, out, err := wasmbuild.ParseStamp(wasmbuild.FormatStamp(in, []byte("gz")))
	if err != nil || strings.Join(got, "|") != strings.Join(in, "|") || len(out) != 64 {
		t.Fatalf("%v %q %v", got, out, err)
	}
	if _, _, err := wasmbuild.ParseStamp([]byte("go go1.26\n")); err == nil {
		t.Error("a stamp without an output line is accepted")
	}
}
