// Package wasmbuild builds the browser verifier (cmd/vaxverify-wasm) and
// describes what it was built from. The module is committed, gzipped, so
// that `go run ./cmd/vaxcert serve` serves a working /verify with no build
// step; the stamp next to it lists every input, so a test can tell when the
// committed module no longer matches the sources.
package wasmbuild

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Paths relative to the module root.
const (
	MainPackage = "./cmd/vaxverify-wasm"
	ModulePath  = "web/wasm/verify.wasm.gz"
	StampPath   = "web/wasm/verify.wasm.stamp"
	WasmExecJS  = "web/static/vendor/wasm_exec.js"
)

// Flags are the build flags; they are part of the stamp.
var Flags = []string{"-trimpath", "-ldflags=-s -w"}

// ModuleRoot walks up from dir to the directory holding go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// GoVersion is the toolchain's language version ("go1.26"): the compiled
// module and wasm_exec.js must come from the same release line.
func GoVersion() string {
	v := runtime.Version()
	if parts := strings.SplitN(v, ".", 3); len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	EmbedFiles []string
	Module     *struct {
		Path    string
		Version string
		Main    bool
		Replace *struct {
			Path    string
			Version string
		}
	}
}

// Inputs lists what the module is built from, one line per input, sorted:
// the toolchain line, the flags, each of this module's packages with a hash
// of its compiled files, and each dependency module with its version.
func Inputs(ctx context.Context, root string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-json", MainPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	// go test caches a passing test until a file it opened changes, and
	// it cannot see what the go list above read. Opening go.mod here and
	// each package directory below makes a changed dependency, a changed
	// file or a new file in a package run the staleness test again.
	if _, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil {
		return nil, err
	}
	lines := []string{"go " + GoVersion(), "flags " + strings.Join(Flags, " ")}
	mods := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		switch {
		case p.Standard:
		case p.Module != nil && p.Module.Main:
			if _, err := os.ReadDir(p.Dir); err != nil {
				return nil, err
			}
			sum, err := hashFiles(p.Dir, append(append([]string{}, p.GoFiles...), p.EmbedFiles...))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.ImportPath, err)
			}
			rel := strings.TrimPrefix(p.ImportPath, p.Module.Path)
			lines = append(lines, "pkg ."+rel+" "+sum)
		case p.Module != nil:
			m := p.Module.Path + " " + p.Module.Version
			if r := p.Module.Replace; r != nil {
				m += " => " + r.Path + " " + r.Version
			}
			mods["mod "+m] = true
		default:
			return nil, fmt.Errorf("package %s has no module", p.ImportPath)
		}
	}
	for m := range mods {
		lines = append(lines, m)
	}
	sort.Strings(lines[2:])
	return lines, nil
}

func hashFiles(dir string, names []string) (string, error) {
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// stampHeader opens the stamp file.
const stampHeader = "# Inputs of web/wasm/verify.wasm.gz. Regenerate both with: go generate ./web"

// FormatStamp is the stamp file for inputs and the gzipped module's bytes.
func FormatStamp(inputs []string, gz []byte) []byte {
	sum := sha256.Sum256(gz)
	var b bytes.Buffer
	b.WriteString(stampHeader + "\n")
	for _, l := range inputs {
		b.WriteString(l + "\n")
	}
	b.WriteString("output " + hex.EncodeToString(sum[:]) + "\n")
	return b.Bytes()
}

// ParseStamp splits a stamp file into its input lines and the recorded
// output hash.
func ParseStamp(b []byte) (inputs []string, output string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "output "):
			output = strings.TrimPrefix(line, "output ")
		default:
			inputs = append(inputs, line)
		}
	}
	if output == "" {
		return nil, "", errors.New("stamp has no output line")
	}
	return inputs, output, sc.Err()
}

// Build compiles the module and returns it gzipped (best compression, no
// name or time in the header, so equal modules give equal bytes).
func Build(ctx context.Context, root string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "vaxverify-wasm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "verify.wasm")
	args := append([]string{"build"}, Flags...)
	args = append(args, "-o", out, MainPackage)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Gunzip returns the module's raw bytes.
func Gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
