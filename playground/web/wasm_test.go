package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/capspec/capspec/playground/internal/wasmbuild"
)

// fresh is one build of the wasm from the current sources, shared by the
// tests of this package (building it takes a while).
var fresh struct {
	once    sync.Once
	dir     string
	version string
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fresh.dir != "" {
		os.RemoveAll(fresh.dir)
	}
	os.Exit(code)
}

// freshBuild builds capspec.wasm and wasm_exec.js from the current sources
// into a temporary directory, once per test run.
func freshBuild(t *testing.T) (dir, version string) {
	t.Helper()
	fresh.once.Do(func() {
		fresh.dir, fresh.err = os.MkdirTemp("", "capspec-wasm-")
		if fresh.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		fresh.version, fresh.err = wasmbuild.Build(ctx, fresh.dir)
	})
	if fresh.err != nil {
		t.Fatalf("building the wasm: %v", fresh.err)
	}
	return fresh.dir, fresh.version
}

// freshFS is the page with the wasm built from the current sources.
func freshFS(t *testing.T) fs.FS {
	dir, _ := freshBuild(t)
	m := fstest.MapFS{}
	for _, name := range Files {
		name = stored(name)
		b, err := fs.ReadFile(Static(), name)
		if name == wasmbuild.WasmGzFile || name == wasmbuild.ExecJSFile {
			b, err = os.ReadFile(filepath.Join(dir, name))
		}
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	return m
}

// TestCommittedWasmIsCurrent fails when static/capspec.wasm.gz or
// static/wasm_exec.js differ from what the sources build: the committed
// files are what `go install` users run. The build is reproducible
// (-trimpath, -buildvcs=false) for one Go version, the one recorded in
// static/wasm.version.
func TestCommittedWasmIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm; skipped with -short")
	}
	recorded, err := os.ReadFile(filepath.Join("static", wasmbuild.VersionFile))
	if err != nil {
		t.Fatal(err)
	}
	dir, version := freshBuild(t)
	if want := strings.TrimSpace(string(recorded)); version != want {
		t.Skipf("the committed wasm was built with %s and this toolchain is %s: builds of different Go versions differ, so they cannot be compared (CI uses %s)", want, version, want)
	}
	for _, name := range []string{wasmbuild.WasmGzFile, wasmbuild.ExecJSFile} {
		committed, err := fs.ReadFile(Static(), name)
		if err != nil {
			t.Fatal(err)
		}
		built, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, built) {
			t.Errorf("playground/web/static/%s is stale (committed sha256 %x, %d bytes; the sources build %x, %d bytes): run `go generate ./playground/...` and commit the result",
				name, sha256.Sum256(committed), len(committed), sha256.Sum256(built), len(built))
		}
	}
}

// TestWasmBuildIsReproducible builds the wasm twice and compares: the
// staleness test above relies on it.
func TestWasmBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm; skipped with -short")
	}
	dir, _ := freshBuild(t)
	again := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := wasmbuild.Build(ctx, again); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(dir, wasmbuild.WasmGzFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(again, wasmbuild.WasmGzFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds differ: %x and %x", sha256.Sum256(a), sha256.Sum256(b))
	}
}
