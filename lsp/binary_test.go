package lsp

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestBinaryWithin drives the within setting of the built capspec lsp: a
// document gets the diagnostics capspec lint --within MAX gives (CS401
// among them), MAX named relative to the workspace root; the maximum is
// read again when it changes on disk (seen at the next change or save)
// and when the settings change; a missing maximum or one with errors is
// said on every document and to the user.
func TestBinaryWithin(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fileURI := func(name string) string { return "file://" + filepath.ToSlash(filepath.Join(dir, name)) }
	write("max.flags", "--allow-outbound=tcp://10.1.0.0/16:5432\n--allow-outbound=tcp://*.example.com:443\n--allow-inbound=tcp://localhost:8000-8999\n")
	app := "--allow-outbound=tcp://api.example.com:443\n--allow-outbound=tcp://10.0.0.0/8:5432\n" +
		"--allow-outbound=tcp://db.internal->10.1.0.5:5432\n--allow-inbound=tcp://*:8080\n"
	write("app.flags", app)
	script := "#!/bin/sh\nwasmtime serve --allow-outbound=tcp://10.0.0.0/8:5432 app.wasm\n"
	write("run.sh", script)

	// asLint is what capspec lint --within max.flags FILE says, as the
	// language server says it.
	asLint := func(args ...string) []string {
		t.Helper()
		var out struct {
			Diagnostics []struct {
				ID, Summary, Detail string
				Line, Column        int
			}
		}
		if err := json.Unmarshal([]byte(capspecRun(t, dir, append([]string{"lint", "--format", "json", "--within", "max.flags"}, args...)...)), &out); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range out.Diagnostics {
			msg := d.Summary
			if d.Detail != "" {
				msg += "\n" + d.Detail
			}
			got = append(got, fmt.Sprintf("%d:%d %s %s", d.Line, d.Column, d.ID, msg))
		}
		return got
	}
	asLSP := func(ds []Diagnostic) []string {
		var got []string
		for _, d := range ds {
			got = append(got, fmt.Sprintf("%d:%d %s %s", d.Range.Start.Line+1, d.Range.Start.Character+1, d.Code, d.Message))
		}
		return got
	}
	count := func(ds []Diagnostic, code string) int {
		n := 0
		for _, d := range ds {
			if d.Code == code {
				n++
			}
		}
		return n
	}

	p := startBinary(t)
	root := fileURI("")
	p.initializeIn(&root, map[string]any{"capspec": map[string]any{"within": "max.flags"}})
	uri, suri := fileURI("app.flags"), fileURI("run.sh")
	ds := p.open(uri, "capspec", app)
	if got, want := asLSP(ds), asLint("app.flags"); !slices.Equal(got, want) || count(ds, "CS401") != 3 {
		t.Errorf("within max.flags, the server says\n%s\ncapspec lint --within says\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The nearest rule of the maximum is a related place: its line.
	if rel := ds[0].RelatedInformation; len(rel) != 1 || rel[0].Location.URI != fileURI("max.flags") ||
		rel[0].Location.Range != (Range{Start: Position{Line: 0}, End: Position{Line: 1}}) || !strings.HasPrefix(rel[0].Message, "note: nearest in max.flags:1: ") {
		t.Errorf("related places of %q: %+v", ds[0].Message, rel)
	}
	sds := p.open(suri, "shellscript", script)
	if got, want := asLSP(sds), asLint("--shell", "run.sh"); !slices.Equal(got, want) || count(sds, "CS401") != 1 {
		t.Errorf("script within max.flags, the server says\n%s\ncapspec lint --within says\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The maximum widened on disk and saved in the editor: both documents
	// are analysed again, without CS401.
	write("max.flags", "--allow-outbound=tcp://10.0.0.0/8:5432\n--allow-outbound=tcp://*.example.com:443\n--allow-resolve=db.internal\n--allow-inbound=tcp://*:8080\n")
	p.notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": fileURI("max.flags")}})
	if ds := p.diagnostics(uri, 1); count(ds, "CS401") != 0 || !slices.Equal(asLSP(ds), asLint("app.flags")) {
		t.Errorf("after widening the maximum: %v", asLSP(ds))
	}
	if ds := p.diagnostics(suri, 1); count(ds, "CS401") != 0 {
		t.Errorf("script after widening the maximum: %v", asLSP(ds))
	}
	// Narrowed on disk, no save: the next change of a document sees it.
	write("max.flags", "--allow-outbound=tcp://*.example.com:443\n")
	p.change(uri, 2, app)
	if ds := p.diagnostics(uri, 2); count(ds, "CS401") != 3 || !slices.Equal(asLSP(ds), asLint("app.flags")) {
		t.Errorf("after narrowing the maximum: %v", asLSP(ds))
	}

	// A maximum with errors: said on every document and to the user, and
	// no CS401 (the maximum is never half-used).
	write("max.flags", "--allow-outbound=tcp://example.com:70000\n")
	n := p.noteCount()
	p.notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": fileURI("max.flags")}})
	m, _ := p.waitNote(n, func(m rpcMessage) bool { return m.Method == "window/showMessage" })
	var mp MessageParams
	json.Unmarshal(m.Params, &mp)
	if mp.Type != messageError || !strings.Contains(mp.Message, "max.flags:1:36: error[CS002]") || !strings.Contains(mp.Message, "CS401 is not checked") {
		t.Errorf("a maximum with errors: %+v", mp)
	}
	ds = p.diagnostics(uri, 2)
	if len(ds) == 0 || ds[0].Severity != severityError || ds[0].Range.Start != (Position{}) || !strings.Contains(ds[0].Message, "error[CS002]") || count(ds, "CS401") != 0 {
		t.Errorf("a maximum with errors: %v", asLSP(ds))
	}

	// A missing maximum, from didChangeConfiguration; then an absolute
	// path to a good one.
	n = p.noteCount()
	p.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"capspec": map[string]any{"within": []string{"nowhere/max.flags"}}}})
	m, _ = p.waitNote(n, func(m rpcMessage) bool { return m.Method == "window/showMessage" })
	json.Unmarshal(m.Params, &mp)
	missing := "cannot read " + filepath.Join(dir, "nowhere", "max.flags") + ": no such file or directory"
	if !strings.Contains(mp.Message, missing) {
		t.Errorf("a missing maximum: %+v", mp)
	}
	p.diagnosticsWhere(uri, 2, func(ds []Diagnostic) bool { return len(ds) > 0 && strings.Contains(ds[0].Message, missing) })
	write("other.flags", "--allow-outbound=tcp://api.example.com:443\n")
	p.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"capspec": map[string]any{"within": []string{filepath.Join(dir, "other.flags")}}}})
	p.diagnosticsWhere(uri, 2, func(ds []Diagnostic) bool {
		return count(ds, "CS401") == 3 && ds[0].Code == "CS401" && strings.Contains(ds[0].Message, "which "+filepath.Join(dir, "other.flags")+" does not allow")
	})

	p.shutdown()
	if code := p.exitCode(t); code != 0 {
		t.Errorf("exit status %d after shutdown and exit; stderr:\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "CS401 is not checked") {
		t.Errorf("the log does not say the maximum was unusable:\n%s", p.stderr)
	}
}
