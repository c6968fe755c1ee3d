// Command genwasm rebuilds the browser verifier: web/wasm/verify.wasm.gz,
// its stamp, and the vendored wasm_exec.js of the same toolchain. It is run
// by `go generate ./web`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vaxcert/vaxcert/web/internal/wasmbuild"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "genwasm:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	root, err := wasmbuild.ModuleRoot(".")
	if err != nil {
		return err
	}
	gz, err := wasmbuild.Build(ctx, root)
	if err != nil {
		return err
	}
	inputs, err := wasmbuild.Inputs(ctx, root)
	if err != nil {
		return err
	}
	goroot, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	// Write the module before the stamp: an interrupted run leaves a stamp
	// that does not match, which the staleness test reports.
	for _, f := range []struct {
		path string
		data []byte
	}{
		{wasmbuild.ModulePath, gz},
		{wasmbuild.WasmExecJS, execJS},
		{wasmbuild.StampPath, wasmbuild.FormatStamp(inputs, gz)},
	} {
		if err := writeAtomic(filepath.Join(root, f.path), f.data); err != nil {
			return err
		}
	}
	fmt.Printf("genwasm: wrote %s (%d bytes gzipped)\n", wasmbuild.ModulePath, len(gz))
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".genwasm-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
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
