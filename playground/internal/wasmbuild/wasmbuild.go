// Package wasmbuild builds the playground's WebAssembly files: the wasm
// build of package playground/wasm, and the wasm_exec.js of the Go
// toolchain that runs it. `go generate ./playground/...` writes them into
// playground/web/static; a test builds them into a temporary directory and
// compares, so that the committed files never fall behind the sources.
package wasmbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/capspec/capspec/playground/internal/gz"
)

// Package is the import path of the command compiled to WebAssembly.
const Package = "github.com/capspec/capspec/playground/wasm"

// The files Build writes. The wasm is kept gzipped: browsers take it so
// (Content-Encoding: gzip), it is a third of the size in the repository and
// in the capspec binary, and a server does not compress it on every start.
const (
	WasmFile    = "capspec.wasm"    // the name the page fetches
	WasmGzFile  = "capspec.wasm.gz" // the file Build writes: WasmFile, gzipped
	ExecJSFile  = "wasm_exec.js"
	VersionFile = "wasm.version" // the Go version that built the wasm
)

// Flags are the build flags: a small binary (no symbol table, no DWARF)
// that is the same bytes on every machine with the same Go version
// (-trimpath, -buildvcs=false).
var Flags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// Build compiles the wasm into dir as WasmGzFile (gzip, best compression),
// copies wasm_exec.js there, and returns the Go version that built them
// ("go1.26.8"). It runs the go command found on PATH, in the current
// directory (which must be inside the module).
func Build(ctx context.Context, dir string) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build the playground: %w", err)
	}
	version, err := goEnv(ctx, goCmd, "GOVERSION")
	if err != nil {
		return "", err
	}
	goroot, err := goEnv(ctx, goCmd, "GOROOT")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "capspec-wasm-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	raw := filepath.Join(tmp, WasmFile)
	args := append([]string{"build"}, Flags...)
	args = append(args, "-o", raw, Package)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=", "GOWASM=", "GOEXPERIMENT=", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("GOOS=js GOARCH=wasm go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	wasm, err := os.ReadFile(raw)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, WasmGzFile), gz.Compress(wasm), 0o644); err != nil {
		return "", err
	}
	js, err := execJS(goroot)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ExecJSFile), js, 0o644); err != nil {
		return "", err
	}
	return version, nil
}

// execJS reads wasm_exec.js from a Go root: lib/wasm since Go 1.24,
// misc/wasm before.
func execJS(goroot string) ([]byte, error) {
	var errs []error
	for _, p := range []string{filepath.Join(goroot, "lib", "wasm", ExecJSFile), filepath.Join(goroot, "misc", "wasm", ExecJSFile)} {
		b, err := os.ReadFile(p)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("cannot find wasm_exec.js in %s: %w", goroot, errors.Join(errs...))
}

// goEnv returns one variable of `go env`.
func goEnv(ctx context.Context, goCmd, name string) (string, error) {
	out, err := exec.CommandContext(ctx, goCmd, "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
