//go:build ignore

// gen rebuilds the playground's WebAssembly files in static/ (run by
// `go generate ./playground/...`; see docs/playground.md).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/capspec/capspec/playground/internal/wasmbuild"
)

func main() {
	dir := "static"
	version, err := wasmbuild.Build(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(dir, wasmbuild.VersionFile), []byte(version+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Printf("gen: built %s and %s with %s\n", filepath.Join(dir, wasmbuild.WasmGzFile), filepath.Join(dir, wasmbuild.ExecJSFile), version)
}
