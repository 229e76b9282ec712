package lsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The capspec binary the tests drive, built once per test binary.
var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// capspecBinary builds cmd/capspec with go build into a temporary
// directory and returns its path.
func capspecBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "capspec-lsp-test-")
		if buildErr != nil {
			return
		}
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			gobin = "go"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		buildPath = filepath.Join(buildDir, "capspec")
		out, err := exec.CommandContext(ctx, gobin, "build", "-o", buildPath, "github.com/capspec/capspec/cmd/capspec").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// process is a running capspec lsp.
type process struct {
	*testClient
	cmd    *exec.Cmd
	stdin  interface{ Close() error }
	stderr *bytes.Buffer
}

// startBinary starts capspec lsp and a client talking to it over its
// standard input and output.
func startBinary(t *testing.T) *process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, capspecBinary(t), "lsp")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &process{testClient: newTestClient(t, stdout, stdin), cmd: cmd, stdin: stdin, stderr: &stderr}
}

// exitCode waits for the process and returns its exit status.
func (p *process) exitCode(t *testing.T) int {
	t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("capspec lsp: %v", err)
	return -1
}

// capspecRun runs the capspec command line in dir and returns its
// standard output.
func capspecRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(capspecBinary(t), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("capspec %v: %v\n%s", args, err, errb.String())
		}
	}
	return out.String()
}

// TestBinary drives the built capspec lsp over standard input and output
// as an editor does, on flags files and shell scripts: the lifecycle,
// diagnostics on open and change, code actions, formatting, hover,
// completion, configuration, a 10,000-flag document and hostile input.
// Fixing and formatting give what capspec lint --fix and capspec fmt give.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t)
	res := p.initialize(map[string]any{"capspec": map[string]any{"minSeverity": "info"}}, "utf-16")
	if res.Capabilities.PositionEncoding != "utf-16" || res.ServerInfo.Name != "capspec" {
		t.Fatalf("initialize: %+v", res)
	}

	// A flags file.
	flags := "# ｆｕｌｌ😀 policy\n" +
		"--allow-outbound=tpc://example.com:443\n" +
		"--allow-inbound=tcp://*:8080 --allow-resolve=example.com\n" +
		"--allow-outbound=TCP://a.example:80\n--allow-outbound=tcp://a.example:443\n"
	os.WriteFile(filepath.Join(dir, "p.flags"), []byte(flags), 0o644)
	uri := "file://" + filepath.ToSlash(filepath.Join(dir, "p.flags"))
	ds := p.open(uri, "capspec", flags)
	if got := codes(ds); !slices.Contains(got, "CS001") || !slices.Contains(got, "CS204") || !slices.Contains(got, "CS303") {
		t.Fatalf("diagnostics on open: %v", got)
	}
	var acts []CodeAction
	p.mustCall("textDocument/codeAction", actionParams(uri, Range{}, "source.fixAll"), &acts)
	if len(acts) != 1 {
		t.Fatalf("fix all: %+v", acts)
	}
	if got, want := applyEdits(t, flags, acts[0].Edit.Changes[uri], encodingUTF16), capspecRun(t, dir, "lint", "--fix", "p.flags"); got != want {
		t.Errorf("fix all gives\n%s\ncapspec lint --fix gives\n%s", got, want)
	}
	// Fix the typo by an incremental change; then format.
	p.notify("textDocument/didChange", DidChangeTextDocumentParams{
		TextDocument:   VersionedTextDocumentIdentifier{URI: uri, Version: 2},
		ContentChanges: []TextDocumentContentChangeEvent{{Range: &Range{Start: Position{1, 17}, End: Position{1, 20}}, Text: "tcp"}}})
	ds = p.diagnostics(uri, 2)
	if slices.Contains(codes(ds), "CS001") {
		t.Errorf("CS001 after the fix: %v", codes(ds))
	}
	flags = strings.Replace(flags, "tpc", "tcp", 1)
	os.WriteFile(filepath.Join(dir, "p.flags"), []byte(flags), 0o644)
	var edits []TextEdit
	p.mustCall("textDocument/formatting", docParams(uri), &edits)
	if got, want := applyEdits(t, flags, edits, encodingUTF16), capspecRun(t, dir, "fmt", "p.flags"); got != want {
		t.Errorf("formatting gives\n%s\ncapspec fmt gives\n%s", got, want)
	}
	var h *Hover
	p.mustCall("textDocument/hover", posParams(uri, 2, 3), &h)
	if h == nil || !strings.Contains(h.Contents.Value, "Allow listening for TCP connections") {
		t.Errorf("hover: %+v", h)
	}
	var list CompletionList
	p.mustCall("textDocument/completion", posParams(uri, 1, 17), &list)
	if len(list.Items) != 2 || list.Items[0].Label != "tcp://" {
		t.Errorf("completion: %+v", list)
	}
	p.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"capspec": map[string]any{"minSeverity": "error"}}})
	p.change(uri, 3, flags)
	if ds := p.diagnostics(uri, 3); len(ds) != 0 {
		t.Errorf("minSeverity error: %v", codes(ds))
	}
	p.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"capspec": map[string]any{}}})

	// A shell script.
	script := "#!/bin/sh\n# capspec:ignore CS204 the API is public\n" +
		"RUST_LOG=info wasmtime serve --allow-inbound='tcp://*:8080' \\\n" +
		"  --allow-outbound=\"tcp://DB.internal:5432\" \\\n  --allow-resolve 'db.internal' \\\n  --allow-outboud=tcp://x.example:1 app.wasm\n"
	os.WriteFile(filepath.Join(dir, "run.sh"), []byte(script), 0o644)
	suri := "file://" + filepath.ToSlash(filepath.Join(dir, "run.sh"))
	ds = p.open(suri, "shellscript", script)
	if got := codes(ds); !slices.Contains(got, "CS001") || slices.Contains(got, "CS204") {
		t.Errorf("script diagnostics: %v", got)
	}
	p.mustCall("textDocument/codeAction", actionParams(suri, Range{}, "source.fixAll"), &acts)
	if got, want := applyEdits(t, script, acts[0].Edit.Changes[suri], encodingUTF16), capspecRun(t, dir, "lint", "--fix", "--shell", "run.sh"); got != want {
		t.Errorf("script fix all gives\n%s\ncapspec lint --fix gives\n%s", got, want)
	}
	script = strings.Replace(script, "outboud", "outbound", 1)
	os.WriteFile(filepath.Join(dir, "run.sh"), []byte(script), 0o644)
	p.change(suri, 2, script)
	p.diagnostics(suri, 2)
	p.mustCall("textDocument/formatting", docParams(suri), &edits)
	if got, want := applyEdits(t, script, edits, encodingUTF16), capspecRun(t, dir, "fmt", "--shell", "run.sh"); got != want {
		t.Errorf("script formatting gives\n%s\ncapspec fmt --shell gives\n%s", got, want)
	}

	// 10,000 flags: diagnostics on open and after a change (the time it
	// takes is BenchmarkDiagnosticsAfterChange10k's).
	big := genFlags(10_000)
	buri := "file:///w/big.flags"
	if ds := p.open(buri, "capspec", big); len(ds) != maxDiagnostics+1 {
		t.Errorf("10k flags: %d diagnostics, want %d and one that counts the rest", len(ds), maxDiagnostics+1)
	}
	p.notify("textDocument/didChange", DidChangeTextDocumentParams{
		TextDocument:   VersionedTextDocumentIdentifier{URI: buri, Version: 2},
		ContentChanges: []TextDocumentContentChangeEvent{{Range: &Range{Start: Position{0, 0}, End: Position{0, 0}}, Text: "--allow-outbound=tpc://new.example:1\n"}}})
	if ds := p.diagnostics(buri, 2); len(ds) == 0 || ds[0].Code != "CS001" || ds[0].Range.Start.Line != 0 {
		t.Errorf("10k flags after a change: first %+v", ds[:min(1, len(ds))])
	}

	// Hostile input: a frame that is no JSON, a 1 MiB word, NUL bytes.
	p.sendRaw("Content-Length: 9\r\n\r\n{not json")
	p.open("file:///w/huge.flags", "capspec", "--allow-outbound=tcp://"+strings.Repeat("ｘ", 1<<18)+":80\x00\n")
	p.mustCall("textDocument/hover", posParams("file:///w/huge.flags", 0, 5), nil)

	p.shutdown()
	if code := p.exitCode(t); code != 0 {
		t.Errorf("exit status %d after shutdown and exit; stderr:\n%s", code, p.stderr)
	}

	// Exit without shutdown: status 1.
	p = startBinary(t)
	p.initialize(nil)
	p.notify("exit", nil)
	if code := p.exitCode(t); code != 1 {
		t.Errorf("exit status %d after exit without shutdown", code)
	}
	// The end of input without exit: status 1.
	p = startBinary(t)
	p.initialize(nil)
	p.stdin.Close()
	if code := p.exitCode(t); code != 1 {
		t.Errorf("exit status %d at the end of input", code)
	}
}
