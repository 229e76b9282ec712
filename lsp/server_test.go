package lsp

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/normalize"
	"github.com/capspec/capspec/source"
)

// applyEdits applies LSP edits to a text, as a client does.
func applyEdits(t testing.TB, s string, edits []TextEdit, enc string) string {
	t.Helper()
	tx := newText(s)
	type off struct {
		start, end int
		text       string
	}
	var offs []off
	for _, e := range edits {
		offs = append(offs, off{tx.offset(e.Range.Start, enc), tx.offset(e.Range.End, enc), e.NewText})
	}
	sort.SliceStable(offs, func(i, j int) bool { return offs[i].start > offs[j].start })
	for i, o := range offs {
		if i > 0 && o.end > offs[i-1].start {
			t.Fatalf("overlapping edits: %+v", edits)
		}
		s = s[:o.start] + o.text + s[o.end:]
	}
	return s
}

// codes returns the rule IDs of diagnostics, in order.
func codes(ds []Diagnostic) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Code)
	}
	return out
}

// start starts an in-process session and ends it at the end of the test,
// checking that it ends cleanly.
func start(t *testing.T, opts Options, initOptions any, encodings ...string) (*testClient, InitializeResult) {
	t.Helper()
	c, wait := newPipeClient(t, opts)
	res := c.initialize(initOptions, encodings...)
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		c.shutdown()
		if err := wait(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return c, res
}

func docParams(uri string) map[string]any {
	return map[string]any{"textDocument": map[string]any{"uri": uri}}
}

func posParams(uri string, line, ch uint32) map[string]any {
	return map[string]any{"textDocument": map[string]any{"uri": uri}, "position": Position{line, ch}}
}

func actionParams(uri string, r Range, only ...string) map[string]any {
	ctx := map[string]any{"diagnostics": []any{}}
	if len(only) > 0 {
		ctx["only"] = only
	}
	return map[string]any{"textDocument": map[string]any{"uri": uri}, "range": r, "context": ctx}
}

func TestLifecycle(t *testing.T) {
	c, wait := newPipeClient(t, Options{})
	var rerr *rpcError
	if err := c.call("textDocument/hover", posParams("file:///x.flags", 0, 0), nil); !errors.As(err, &rerr) || rerr.Code != codeServerNotInitialized {
		t.Errorf("hover before initialize: %v, want ServerNotInitialized", err)
	}
	res := c.initialize(nil)
	if res.ServerInfo.Name != "capspec" || res.Capabilities.TextDocumentSync.Change != 2 || !res.Capabilities.HoverProvider ||
		!res.Capabilities.DocumentFormattingProvider || !slices.Contains(res.Capabilities.CodeActionProvider.CodeActionKinds, "source.fixAll") {
		t.Errorf("initialize result: %+v", res)
	}
	if err := c.call("initialize", map[string]any{"capabilities": map[string]any{}}, nil); !errors.As(err, &rerr) || rerr.Code != -32600 {
		t.Errorf("second initialize: %v, want InvalidRequest", err)
	}
	c.mustCall("shutdown", nil, nil)
	if err := c.call("textDocument/hover", posParams("file:///x.flags", 0, 0), nil); !errors.As(err, &rerr) || rerr.Code != -32600 {
		t.Errorf("hover after shutdown: %v, want InvalidRequest", err)
	}
	c.notify("exit", nil)
	if err := wait(); err != nil {
		t.Errorf("Serve after shutdown and exit = %v, want nil", err)
	}

	// exit without shutdown, and the end of the stream without exit.
	c, wait = newPipeClient(t, Options{})
	c.initialize(nil)
	c.notify("exit", nil)
	if err := wait(); !errors.Is(err, ErrExitWithoutShutdown) {
		t.Errorf("Serve after exit without shutdown = %v", err)
	}
	c, wait = newPipeClient(t, Options{})
	c.initialize(nil)
	c.w.(interface{ Close() error }).Close()
	if err := wait(); !errors.Is(err, ErrExitWithoutShutdown) {
		t.Errorf("Serve after the end of input = %v", err)
	}
}

func TestPositionEncodingNegotiation(t *testing.T) {
	tests := []struct {
		offered []string
		want    string
	}{
		{nil, "utf-16"},
		{[]string{"utf-16"}, "utf-16"},
		{[]string{"utf-32", "utf-16"}, "utf-16"},
		{[]string{"utf-8", "utf-16"}, "utf-8"},
		{[]string{"utf-16", "utf-8"}, "utf-8"},
	}
	for _, tt := range tests {
		_, res := start(t, Options{}, nil, tt.offered...)
		if res.Capabilities.PositionEncoding != tt.want {
			t.Errorf("offered %v: chose %s, want %s", tt.offered, res.Capabilities.PositionEncoding, tt.want)
		}
	}
}

// TestDiagnosticPositions checks diagnostic ranges in both encodings on
// lines with fullwidth letters and emoji before the finding, against the
// byte offsets of the findings converted by the test's oracle.
func TestDiagnosticPositions(t *testing.T) {
	content := "# ｆｕｌｌ😀 comment\n" +
		"--allow-resolve=😀.example --allow-outbound=tcp://ｅｘａｍｐｌｅ.com:70000\r\n" +
		"--allow-outbound=tcp://a.example:443 # 🙂🙂 --allow-inbound=tcp://*:99999\n"
	for _, enc := range []string{encodingUTF8, encodingUTF16} {
		t.Run(enc, func(t *testing.T) {
			c, res := start(t, Options{}, nil, enc)
			if res.Capabilities.PositionEncoding != enc {
				t.Fatalf("encoding %s not chosen", enc)
			}
			ds := c.open("file:///w/pos.flags", "capspec", content)
			var want []Diagnostic
			ins, _ := source.FlagsFile{Name: "pos.flags", Content: content}.Read()
			p, pds := grammar.Parse(ins[0])
			for _, d := range lint.Lint(ins[0], p, pds, lint.Options{}) {
				want = append(want, Diagnostic{Code: d.ID, Range: Range{
					Start: naivePosition(content, d.Range.Start.Offset, enc),
					End:   naivePosition(content, d.Range.End.Offset, enc)}})
			}
			if len(ds) != len(want) || len(ds) < 2 {
				t.Fatalf("got %v, want %v", codes(ds), want)
			}
			for i := range ds {
				if ds[i].Code != want[i].Code || ds[i].Range != want[i].Range {
					t.Errorf("diagnostic %d: %s %+v, want %s %+v", i, ds[i].Code, ds[i].Range, want[i].Code, want[i].Range)
				}
			}
			// The port 70000 is on line 1 after the emoji and fullwidth host.
			port := strings.Index(content, "70000")
			wantPort := naivePosition(content, port, enc)
			found := false
			for _, d := range ds {
				if d.Code == "CS002" && d.Range.Start == wantPort {
					found = true
				}
			}
			if !found {
				t.Errorf("no CS002 at %+v in %+v", wantPort, ds)
			}
		})
	}
}

func TestDiagnosticsOnOpenAndChange(t *testing.T) {
	c, _ := start(t, Options{Debounce: 20 * time.Millisecond}, nil)
	const uri = "file:///w/policy.flags"
	ds := c.open(uri, "capspec", "--allow-outbound=tpc://example.com:80\n--allow-inbound=tcp://*:8080\n")
	if got := codes(ds); !slices.Equal(got, []string{"CS001", "CS204"}) {
		t.Fatalf("on open: %v", got)
	}
	d := ds[0]
	if d.Severity != severityError || d.Source != "capspec" || d.CodeDescription == nil ||
		d.CodeDescription.Href != lint.DocsURL+"#cs001-syntax" || !strings.Contains(d.Message, "tcp") {
		t.Errorf("CS001: %+v", d)
	}
	if ds[1].Severity != severityWarning {
		t.Errorf("CS204 severity %d", ds[1].Severity)
	}
	// An incremental change: fix the scheme.
	c.notify("textDocument/didChange", DidChangeTextDocumentParams{
		TextDocument: VersionedTextDocumentIdentifier{URI: uri, Version: 2},
		ContentChanges: []TextDocumentContentChangeEvent{{
			Range: &Range{Start: Position{0, 17}, End: Position{0, 20}}, Text: "tcp"}}})
	if got := codes(c.diagnostics(uri, 2)); !slices.Equal(got, []string{"CS204"}) {
		t.Errorf("after the change: %v", got)
	}
	// Related information: the rules that merge point at each other;
	// redundant rules are marked unnecessary; infos are Information.
	c.change(uri, 3, "--allow-outbound=tcp://a.example:80\n--allow-resolve=a.example\n--allow-outbound=tcp://a.example:443\n")
	ds = c.diagnostics(uri, 3)
	var merge, implied *Diagnostic
	for i := range ds {
		switch ds[i].Code {
		case "CS303":
			merge = &ds[i]
		case "CS304":
			implied = &ds[i]
		}
	}
	if merge == nil || implied == nil {
		t.Fatalf("want CS303 and CS304: %v", codes(ds))
	}
	wantRel := []DiagnosticRelatedInformation{{
		Location: Location{URI: uri, Range: Range{Start: Position{2, 0}, End: Position{2, 36}}},
		Message:  "the others are at policy.flags:3:1"}}
	if diff := jsonDiff(wantRel, merge.RelatedInformation); diff != "" {
		t.Errorf("CS303 related information: %s", diff)
	}
	if merge.Severity != severityInformation {
		t.Errorf("CS303 severity %d", merge.Severity)
	}
	if !slices.Equal(implied.Tags, []int{diagnosticTagUnnecessary}) || len(implied.RelatedInformation) != 1 ||
		implied.RelatedInformation[0].Location.Range.Start != (Position{0, 0}) {
		t.Errorf("CS304: %+v", implied)
	}
	// Closing clears the diagnostics.
	n := c.noteCount()
	c.notify("textDocument/didClose", DidCloseTextDocumentParams{TextDocument: TextDocumentIdentifier{URI: uri}})
	m, _ := c.waitNote(n, func(m rpcMessage) bool { return m.Method == "textDocument/publishDiagnostics" })
	var p PublishDiagnosticsParams
	if json.Unmarshal(m.Params, &p); p.URI != uri || len(p.Diagnostics) != 0 {
		t.Errorf("on close: %+v", p)
	}
}

// TestStaleRunsCancelled sends changes faster than the debounce: only the
// last version is analysed and published.
func TestStaleRunsCancelled(t *testing.T) {
	c, _ := start(t, Options{Debounce: 300 * time.Millisecond}, nil)
	const uri = "file:///w/fast.flags"
	c.open(uri, "capspec", "--allow-outbound=tcp://a.example:80\n")
	for v := int32(2); v <= 6; v++ {
		c.change(uri, v, strings.Repeat("--allow-inbound=tcp://*:80\n", int(v)))
	}
	ds := c.diagnostics(uri, 6)
	if got := codes(ds); len(got) < 6 || got[0] != "CS204" {
		t.Errorf("version 6: %v", got)
	}
	// A last change to know that nothing else was published meanwhile.
	c.change(uri, 7, "")
	c.diagnostics(uri, 7)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.notes {
		var p PublishDiagnosticsParams
		if m.Method == "textDocument/publishDiagnostics" && json.Unmarshal(m.Params, &p) == nil && p.Version != nil && *p.Version > 1 && *p.Version < 6 {
			t.Errorf("stale version %d was published", *p.Version)
		}
	}
}

func TestShellScriptDiagnostics(t *testing.T) {
	c, _ := start(t, Options{}, nil)
	script := "#!/bin/sh\n" +
		"wasmtime serve \\\n" +
		"  --allow-inbound='tcp://*:8080' \\\n" +
		"  --allow-outbound=\"tcp://db.internal:$PORT\" \\\n" +
		"  --allow-outboud=tcp://ｅｘ.com:80 \\\n" +
		"  app.wasm\n"
	ds := c.open("file:///w/run.sh", "shellscript", script)
	got := map[string]Range{}
	for _, d := range ds {
		got[d.Code] = d.Range
	}
	for id, at := range map[string]string{"CS204": "*:8080", "CS013": "$PORT", "CS001": "outboud"} {
		r, ok := got[id]
		if !ok {
			t.Errorf("no %s in %v", id, codes(ds))
			continue
		}
		want := naivePosition(script, strings.Index(script, at), encodingUTF16)
		if r.Start.Line != want.Line {
			t.Errorf("%s at %+v, want line %d", id, r, want.Line)
		}
	}
	// A script that does not parse: one error, no code.
	ds = c.open("file:///w/bad.sh", "sh", "echo 'unterminated\n")
	if len(ds) != 1 || ds[0].Code != "" || ds[0].Severity != severityError || !strings.Contains(ds[0].Message, "shell syntax error") {
		t.Errorf("unparsable script: %+v", ds)
	}
	// By extension when the language id says nothing.
	ds = c.open("file:///w/x.sh", "", "run --allow-inbound 'tcp://*:80'\n")
	if !slices.Contains(codes(ds), "CS204") {
		t.Errorf("x.sh: %v", codes(ds))
	}
}

func TestCodeActions(t *testing.T) {
	c, _ := start(t, Options{}, nil)
	const uri = "file:///w/fix.flags"
	content := "--allow-outbound=tpc://example.com:80\n" +
		"--allow-inbound=tcp://*:8080\n" +
		"--allow-outbound=tcp://a.example:80\n" +
		"--allow-outbound=tcp://a.example:443\n"
	c.open(uri, "capspec", content)
	var acts []CodeAction
	c.mustCall("textDocument/codeAction", actionParams(uri, Range{Start: Position{0, 18}, End: Position{0, 18}}), &acts)
	var titles []string
	for _, a := range acts {
		titles = append(titles, a.Kind+": "+a.Title)
	}
	want := []string{"quickfix: use tcp", "quickfix: Ignore CS001 for this flag (# capspec:ignore)", "source.fixAll: Fix all capspec findings"}
	if !slices.Equal(titles, want) {
		t.Fatalf("actions at the typo: %q", titles)
	}
	if !acts[0].IsPreferred || len(acts[0].Diagnostics) != 1 || acts[0].Diagnostics[0].Code != "CS001" {
		t.Errorf("quick fix: %+v", acts[0])
	}
	fixed := applyEdits(t, content, acts[0].Edit.Changes[uri], encodingUTF16)
	if !strings.HasPrefix(fixed, "--allow-outbound=tcp://example.com:80\n") {
		t.Errorf("quick fix gives %q", fixed)
	}
	// Fix all: what capspec lint --fix gives (the typo, the merge).
	c.mustCall("textDocument/codeAction", actionParams(uri, Range{}, "source.fixAll"), &acts)
	if len(acts) != 1 || acts[0].Kind != kindFixAll {
		t.Fatalf("only source.fixAll: %+v", acts)
	}
	all := applyEdits(t, content, acts[0].Edit.Changes[uri], encodingUTF16)
	if want := "--allow-outbound=tcp://example.com:80\n--allow-inbound=tcp://*:8080\n--allow-outbound=tcp://a.example:80,443\n"; all != want {
		t.Errorf("fix all gives\n%s\nwant\n%s", all, want)
	}
	// Only quick fixes, of the diagnostics in the range or given in the
	// context (the cursor may be elsewhere on the line).
	c.mustCall("textDocument/codeAction", actionParams(uri, Range{Start: Position{1, 0}, End: Position{1, 28}}, "quickfix"), &acts)
	if len(acts) != 1 || acts[0].Title != "Ignore CS204 for this flag (# capspec:ignore)" {
		t.Fatalf("quick fixes of line 2: %+v", acts)
	}
	p := actionParams(uri, Range{Start: Position{1, 0}, End: Position{1, 0}}, "quickfix")
	p["context"].(map[string]any)["diagnostics"] = []Diagnostic{acts[0].Diagnostics[0]}
	c.mustCall("textDocument/codeAction", p, &acts)
	if len(acts) != 1 || acts[0].Title != "Ignore CS204 for this flag (# capspec:ignore)" {
		t.Fatalf("quick fixes of the context's diagnostic: %+v", acts)
	}
}

// TestIgnoreAction applies the "capspec:ignore" action and checks that the
// finding is gone, in each place the action writes it.
func TestIgnoreAction(t *testing.T) {
	tests := []struct {
		name, uri, lang, content, id string
		want                         string // the content after the action
	}{
		{"above", "file:///w/a.flags", "capspec",
			"--allow-outbound=tcp://a.example:80\n  --allow-inbound=tcp://*:8080\n", "CS204",
			"--allow-outbound=tcp://a.example:80\n  # capspec:ignore CS204 TODO: say why\n  --allow-inbound=tcp://*:8080\n"},
		{"above, CRLF", "file:///w/b.flags", "capspec",
			"--allow-inbound=tcp://*:8080\r\n", "CS204",
			"# capspec:ignore CS204 TODO: say why\r\n--allow-inbound=tcp://*:8080\r\n"},
		{"added to a directive", "file:///w/c.flags", "capspec",
			"# capspec:ignore CS204 the proxy needs it\n--allow-inbound=tcp://*:80\n", "CS206",
			"# capspec:ignore CS204,CS206 the proxy needs it\n--allow-inbound=tcp://*:80\n"},
		{"beside, after a continuation", "file:///w/d.flags", "capspec",
			"--allow-outbound=tcp://a.example:80 \\\n--allow-inbound=tcp://*:8080\n", "CS204",
			"--allow-outbound=tcp://a.example:80 \\\n--allow-inbound=tcp://*:8080  # capspec:ignore CS204 TODO: say why\n"},
		{"script, last line of a command", "file:///w/e.sh", "shellscript",
			"wasmtime serve \\\n  --allow-outbound=tcp://a.example:80 \\\n  --allow-inbound='tcp://*:8080'\n", "CS204",
			"wasmtime serve \\\n  --allow-outbound=tcp://a.example:80 \\\n  --allow-inbound='tcp://*:8080'  # capspec:ignore CS204 TODO: say why\n"},
		{"script, first line of a command", "file:///w/f.sh", "shellscript",
			"wasmtime --allow-inbound='tcp://*:8080' \\\n  app.wasm\n", "CS204",
			"# capspec:ignore CS204 TODO: say why\nwasmtime --allow-inbound='tcp://*:8080' \\\n  app.wasm\n"},
		{"script, middle of a command", "file:///w/g.sh", "shellscript",
			"  RUST_LOG=1 wasmtime \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm\n", "CS204",
			"  # capspec:ignore CS204 TODO: say why\n  RUST_LOG=1 wasmtime \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm\n"},
		{"script, middle of a command of several flags", "file:///w/h.sh", "shellscript",
			"# capspec:ignore CS206 port 80 is ours\nwasmtime \\\n  --allow-inbound='tcp://*:80' \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm\n", "CS204",
			"# capspec:ignore CS206,CS204 port 80 is ours\nwasmtime \\\n  --allow-inbound='tcp://*:80' \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm\n"},
		{"flags file, middle of a continued line", "file:///w/i.flags", "capspec",
			"--allow-resolve=a.example \\\n--allow-inbound=tcp://*:8080 \\\n--allow-resolve=b.example\n", "CS204",
			"# capspec:ignore CS204 TODO: say why\n--allow-resolve=a.example \\\n--allow-inbound=tcp://*:8080 \\\n--allow-resolve=b.example\n"},
	}
	c, _ := start(t, Options{Debounce: 10 * time.Millisecond}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := c.open(tt.uri, tt.lang, tt.content)
			var d *Diagnostic
			for i := range ds {
				if ds[i].Code == tt.id {
					d = &ds[i]
				}
			}
			if d == nil {
				t.Fatalf("no %s in %v", tt.id, codes(ds))
			}
			var acts []CodeAction
			c.mustCall("textDocument/codeAction", actionParams(tt.uri, d.Range, "quickfix"), &acts)
			var ignore *CodeAction
			for i := range acts {
				if strings.HasPrefix(acts[i].Title, "Ignore "+tt.id) {
					ignore = &acts[i]
				}
			}
			if ignore == nil {
				t.Fatalf("no ignore action among %+v", acts)
			}
			got := applyEdits(t, tt.content, ignore.Edit.Changes[tt.uri], encodingUTF16)
			if got != tt.want {
				t.Errorf("after the action:\n%q\nwant\n%q", got, tt.want)
			}
			c.change(tt.uri, 2, got)
			if slices.Contains(codes(c.diagnostics(tt.uri, 2)), tt.id) {
				t.Errorf("%s is still reported after the action", tt.id)
			}
		})
	}
	// No place where a comment is honoured and changes nothing else: a
	// command in a substitution over lines gets no ignore action.
	const uri = "file:///w/z.sh"
	content := "x=$(wasmtime \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm)\n"
	ds := c.open(uri, "shellscript", content)
	var acts []CodeAction
	c.mustCall("textDocument/codeAction", actionParams(uri, ds[0].Range, "quickfix"), &acts)
	for _, a := range acts {
		if strings.HasPrefix(a.Title, "Ignore") {
			t.Errorf("ignore action offered where lint would not honour it: %+v", a)
		}
	}
}

// TestIgnoreActionTitle checks that the title of the ignore action says
// what the comment silences.
func TestIgnoreActionTitle(t *testing.T) {
	tests := []struct{ uri, lang, content, want string }{
		{"file:///w/a.flags", "capspec", "--allow-inbound=tcp://*:8080\n", "Ignore CS204 for this flag (# capspec:ignore)"},
		{"file:///w/b.flags", "capspec", "--allow-inbound=tcp://*:8080 --allow-resolve=a.example\n", "Ignore CS204 for the 2 flags of this line (# capspec:ignore)"},
		{"file:///w/c.sh", "shellscript", "wasmtime \\\n  --allow-inbound='tcp://*:8080' \\\n  --allow-resolve=a.example \\\n  app.wasm\n", "Ignore CS204 for this command (# capspec:ignore)"},
	}
	c, _ := start(t, Options{Debounce: 10 * time.Millisecond}, nil)
	for _, tt := range tests {
		ds := c.open(tt.uri, tt.lang, tt.content)
		var titles []string
		for _, d := range ds {
			if d.Code != "CS204" {
				continue
			}
			var acts []CodeAction
			c.mustCall("textDocument/codeAction", actionParams(tt.uri, d.Range, "quickfix"), &acts)
			for _, a := range acts {
				if strings.HasPrefix(a.Title, "Ignore") {
					titles = append(titles, a.Title)
				}
			}
		}
		if !slices.Equal(titles, []string{tt.want}) {
			t.Errorf("%s: titles %q, want %q", tt.uri, titles, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	c, _ := start(t, Options{}, nil, "utf-8")
	flags := "# header\n\n--allow-resolve=example.com\n--allow-outbound=TCP://Example.com:443,80 # web\n--allow-outbound=tcp://ｅｘａｍｐｌｅ.org:1\n"
	const uri = "file:///w/f.flags"
	c.open(uri, "capspec", flags)
	var edits []TextEdit
	c.mustCall("textDocument/formatting", docParams(uri), &edits)
	ins, _ := source.FlagsFile{Name: "f.flags", Content: flags}.Read()
	p, _ := grammar.Parse(ins[0])
	want := normalize.Format(p, ins[0]).String()
	if got := applyEdits(t, flags, edits, encodingUTF8); got != want {
		t.Errorf("formatted:\n%s\nwant\n%s", got, want)
	}
	// Canonical text: no edit.
	c.change(uri, 2, want)
	c.diagnostics(uri, 2)
	c.mustCall("textDocument/formatting", docParams(uri), &edits)
	if len(edits) != 0 {
		t.Errorf("edits of canonical text: %+v", edits)
	}
	// Errors: the request fails, as capspec fmt refuses.
	c.change(uri, 3, "--allow-outbound=tcp://a:99999\n")
	var rerr *rpcError
	if err := c.call("textDocument/formatting", docParams(uri), &edits); !errors.As(err, &rerr) || rerr.Code != codeRequestFailed || !strings.Contains(rerr.Message, "CS002") {
		t.Errorf("formatting with errors: %v", err)
	}
	// A script: only the flag words change.
	script := "# start\nRUST_LOG=info wasmtime serve \\\n  --allow-outbound=\"tcp://DB.internal:5432\" \\\n  --allow-resolve 'db.internal' \\\n  app.wasm # done\n"
	c.open("file:///w/s.sh", "shellscript", script)
	c.mustCall("textDocument/formatting", docParams("file:///w/s.sh"), &edits)
	wantScript := "# start\nRUST_LOG=info wasmtime serve \\\n  --allow-outbound=tcp://db.internal:5432 \\\n  app.wasm # done\n"
	if got := applyEdits(t, script, edits, encodingUTF8); got != wantScript {
		t.Errorf("formatted script:\n%s\nwant\n%s", got, wantScript)
	}
}

func TestHover(t *testing.T) {
	c, _ := start(t, Options{}, nil)
	const uri = "file:///w/h.flags"
	content := "# capspec:ignore cs204 the load balancer needs it\n" +
		"--allow-inbound=tcp://*:8080\n" +
		"--allow-outbound=tcp://example.com:80\n" +
		"--allow-outbound=tcp://example.com:443\n" +
		"--allow-resolve=example.com\n" +
		"--allow-outbound=tcp://*.example.com:*\n" +
		"--allow-outbound=tcp://api.example.com:8443\n" +
		"--allow-outbound=tpc://broken:1\n"
	c.open(uri, "capspec", content)
	hover := func(line, ch uint32) string {
		t.Helper()
		var h *Hover
		c.mustCall("textDocument/hover", posParams(uri, line, ch), &h)
		if h == nil {
			return ""
		}
		if h.Contents.Kind != "markdown" {
			t.Errorf("hover kind %q", h.Contents.Kind)
		}
		return h.Contents.Value
	}
	tests := []struct {
		line, ch uint32
		want     []string // substrings
	}{
		{0, 19, []string{"## CS204 listen-all-interfaces", "Severity: **warning**", "Reported:", lint.DocsURL + "#cs204-listen-all-interfaces"}},
		{2, 30, []string{"`--allow-outbound=tcp://example.com:80`",
			"Allow TCP connections to any IP address resolved from example.com on port 80; this also allows looking up example.com.",
			"Implies `--allow-resolve=example.com`",
			"Merges with line 4 (`--allow-outbound=tcp://example.com:443`) into `--allow-outbound=tcp://example.com:80,443` (CS303)",
			"Implies the resolve rule line 5 (`--allow-resolve=example.com`) (CS304)"}},
		{4, 3, []string{"Allow looking up example.com", "Implies no other rule.",
			"Implied by the outbound rule line 3 (`--allow-outbound=tcp://example.com:80`) (CS304)"}},
		{5, 20, []string{"Subsumes line 7 (`--allow-outbound=tcp://api.example.com:8443`) (CS302)"}},
		{6, 20, []string{"Subsumed by line 6 (`--allow-outbound=tcp://*.example.com:*`) (CS302)"}},
		{1, 0, []string{"Allow listening for TCP connections", "Implies no other rule."}},
	}
	for _, tt := range tests {
		got := hover(tt.line, tt.ch)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("hover at %d:%d lacks %q:\n%s", tt.line, tt.ch, w, got)
			}
		}
	}
	for _, p := range [][2]uint32{{7, 5}, {0, 3}, {99, 0}} {
		if got := hover(p[0], p[1]); got != "" {
			t.Errorf("hover at %v: %q, want none", p, got)
		}
	}
	// A noncanonical spelling is shown.
	c.open("file:///w/h2.flags", "capspec", "--allow-outbound=TCP://Example.com:0443\n")
	var h *Hover
	c.mustCall("textDocument/hover", posParams("file:///w/h2.flags", 0, 2), &h)
	if h == nil || !strings.Contains(h.Contents.Value, "Canonical spelling: `--allow-outbound=tcp://example.com:443`") {
		t.Errorf("hover of a noncanonical flag: %+v", h)
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		text string // "|" marks the cursor
		want []string
		from int // the byte offset the items replace from; -1: no items
	}{
		{"|", []string{"--allow-resolve=", "--allow-outbound=", "--allow-inbound="}, 0},
		{"--al|", []string{"--allow-resolve=", "--allow-outbound=", "--allow-inbound="}, 0},
		{"--allow-resolve=a --allow-o|", []string{"--allow-resolve=", "--allow-outbound=", "--allow-inbound="}, 18},
		{"--allow-outbound=|", []string{"tcp://", "udp://"}, 17},
		{"--allow-inbound=u|", []string{"tcp://", "udp://"}, 16},
		{"--allow-outbound=tcp://|", []string{"*", "..."}, 23},
		{"--allow-outbound=tcp://.|", []string{"..."}, 23},
		{"--allow-outbound=tcp://example.com:|", []string{"*"}, 35},
		{"--allow-inbound=tcp://[::1]:|", []string{"*"}, 28},
		{"--allow-outbound=tcp://example.com:80#|", []string{"#ipv4-only", "#ipv6-only"}, 37},
		{"--allow-resolve=example.com#ipv|", []string{"#ipv4-only", "#ipv6-only"}, 27},
		{"--allow-resolve=|", []string{"*"}, 16},
		{"--allow-outbound 'tcp://|", []string{"*", "..."}, 24},
		{"run --allow-inbound='|", []string{"tcp://", "udp://"}, 21},
		{"--allow-outbound=tcp://exam|", nil, -1},
		{"# capspec:ignore CS2|", nil, 17},
		{"--allow-inbound=tcp://*:80 # capspec:ignore CS204, cs2|", nil, 51},
		{"# caps|", []string{"capspec:ignore"}, 2},
		{"# a comment --allow-|", nil, -1},
	}
	c, _ := start(t, Options{}, nil)
	for i, tt := range tests {
		cursor := strings.Index(tt.text, "|")
		content := tt.text[:cursor] + tt.text[cursor+1:]
		uri := "file:///w/c" + string(rune('a'+i)) + ".flags"
		c.open(uri, "capspec", content)
		var list CompletionList
		c.mustCall("textDocument/completion", posParams(uri, 0, uint32(cursor)), &list)
		var labels []string
		for _, it := range list.Items {
			labels = append(labels, it.Label)
			if it.TextEdit == nil || it.TextEdit.Range.Start.Character != uint32(tt.from) || it.TextEdit.Range.End.Character != uint32(cursor) {
				t.Errorf("%q: item %q replaces %+v, want from %d", tt.text, it.Label, it.TextEdit, tt.from)
			}
		}
		if strings.Contains(tt.text, "capspec:ignore") {
			// Rule IDs, without those already listed.
			if len(labels) < 30 || !slices.Contains(labels, "CS206") || slices.Contains(labels, "CS204") != !strings.Contains(tt.text, "CS204") {
				t.Errorf("%q: IDs %v", tt.text, labels)
			}
			continue
		}
		if !slices.Equal(labels, tt.want) {
			t.Errorf("%q: %q, want %q", tt.text, labels, tt.want)
		}
	}
}

func TestConfiguration(t *testing.T) {
	const uri = "file:///w/cfg.flags"
	content := "--allow-inbound=tcp://*:80\n--allow-outbound=TCP://a.example:80\n"
	// minSeverity from initializationOptions, with the "capspec" section.
	c, _ := start(t, Options{}, map[string]any{"capspec": map[string]any{"minSeverity": "warning"}})
	if got := codes(c.open(uri, "capspec", content)); !slices.Equal(got, []string{"CS204"}) {
		t.Errorf("minSeverity warning: %v", got)
	}
	// didChangeConfiguration replaces the settings: disable CS204 (by name
	// too), show infos again; the diagnostics are published again.
	n := c.noteCount()
	c.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"capspec": map[string]any{"disable": []string{"listen-all-interfaces"}}}})
	m, _ := c.waitNote(n, func(m rpcMessage) bool { return m.Method == "textDocument/publishDiagnostics" })
	var p PublishDiagnosticsParams
	json.Unmarshal(m.Params, &p)
	if got := codes(p.Diagnostics); !slices.Equal(got, []string{"CS206", "CS305"}) {
		t.Errorf("after disabling CS204: %v", got)
	}
	// Empty settings change nothing; bad values are shown to the user and
	// take their defaults.
	c.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{}})
	n = c.noteCount()
	n0 := n
	c.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{
		"minSeverity": "fatal", "disable": "CS999,CS206"}})
	var msgs []string
	for range 2 {
		var m rpcMessage
		m, n = c.waitNote(n, func(m rpcMessage) bool { return m.Method == "window/showMessage" })
		var mp MessageParams
		json.Unmarshal(m.Params, &mp)
		msgs = append(msgs, mp.Message)
	}
	if !strings.Contains(msgs[0], "minSeverity") || !strings.Contains(msgs[1], "CS999") {
		t.Errorf("messages: %q", msgs)
	}
	m, _ = c.waitNote(n0, func(m rpcMessage) bool { return m.Method == "textDocument/publishDiagnostics" })
	json.Unmarshal(m.Params, &p)
	if got := codes(p.Diagnostics); !slices.Equal(got, []string{"CS204", "CS305"}) {
		t.Errorf("after disable CS206 alone: %v", got)
	}
	// within without a workspace root: relative to the working directory;
	// a file missing there is said (TestBinaryWithin checks the rest).
	n = c.noteCount()
	c.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"capspec": map[string]any{"within": "no-such-max.flags"}}})
	m, _ = c.waitNote(n, func(m rpcMessage) bool { return m.Method == "window/showMessage" })
	var mp MessageParams
	json.Unmarshal(m.Params, &mp)
	if mp.Type != messageError || !strings.Contains(mp.Message, "within setting (no-such-max.flags)") || !strings.Contains(mp.Message, "cannot read no-such-max.flags") {
		t.Errorf("within: %+v", mp)
	}
}

// TestCacheDifferential checks that the parse cache changes nothing: after
// each of a series of edits, the diagnostics of the cached analysis are
// those of reading, parsing and linting the text afresh.
func TestCacheDifferential(t *testing.T) {
	base := genFlags(300)
	lines := strings.SplitAfter(base, "\n")
	var cache *grammar.Cache
	for step := 0; step < 40; step++ {
		// Move, duplicate, break and mend lines.
		i, j := (step*37)%len(lines), (step*91+5)%len(lines)
		switch step % 4 {
		case 0:
			lines[i], lines[j] = lines[j], lines[i]
		case 1:
			lines[i] = lines[j]
		case 2:
			lines[i] = strings.Replace(lines[i], "tcp", "tpc", 1)
		case 3:
			lines = append(lines[:i], append([]string{"--allow-inbound=tcp://*:80 --allow-resolve=x.example\n"}, lines[i:]...)...)
		}
		content := strings.Join(lines, "")
		for _, shell := range []bool{false, true} {
			snap := &snapshot{name: "d.flags", shell: shell, text: newText(content), enc: encodingUTF16, cfg: defaultConfig(), cache: cache}
			a := analyze(t.Context(), snap)
			if !shell {
				cache = a.cache
			}
			ins, err := read("d.flags", content, shell)
			if err != nil {
				t.Fatal(err)
			}
			var want []diag.Diagnostic
			for _, in := range ins {
				p, ds := grammar.Parse(in)
				want = append(want, lint.Lint(in, p, append(in.Diags, ds...), lint.Options{})...)
			}
			diag.Sort(want)
			if diff := jsonDiff(want, a.diags); diff != "" {
				t.Fatalf("step %d (shell %v): cached analysis differs: %s", step, shell, diff)
			}
		}
	}
}

// jsonDiff compares two values by their JSON.
func jsonDiff(want, got any) string {
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	if string(w) == string(g) {
		return ""
	}
	return "want " + string(w) + "\ngot  " + string(g)
}

// TestWhichDocuments: flags files and scripts by language id or extension;
// other documents are left alone.
func TestWhichDocuments(t *testing.T) {
	c, _ := start(t, Options{}, nil)
	// A plain-text document that is no flags file: nothing is published,
	// requests answer null; a .flags file sent as plain text is read.
	c.notify("textDocument/didOpen", DidOpenTextDocumentParams{TextDocument: TextDocumentItem{
		URI: "file:///w/notes.txt", LanguageID: "plaintext", Version: 1, Text: "--allow-inbound=tcp://*:80 and prose\n"}})
	if ds := c.open("file:///w/p.flags", "plaintext", "--allow-inbound=tcp://*:8080\n"); !slices.Equal(codes(ds), []string{"CS204"}) {
		t.Errorf("p.flags as plaintext: %v", codes(ds))
	}
	var res json.RawMessage
	c.mustCall("textDocument/hover", posParams("file:///w/notes.txt", 0, 3), &res)
	if string(res) != "null" {
		t.Errorf("hover of notes.txt: %s", res)
	}
	c.mu.Lock()
	for _, m := range c.notes {
		if strings.Contains(string(m.Params), "notes.txt") {
			t.Errorf("published for notes.txt: %s", m.Params)
		}
	}
	c.mu.Unlock()
	for _, tt := range []struct{ uri, lang string }{
		{"file:///w/any", "capspec"}, {"file:///w/run", "bash"}, {"file:///w/run2", "sh"},
		{"file:///w/a.sh", ""}, {"untitled:Untitled-1", "capspec"},
	} {
		if ds := c.open(tt.uri, tt.lang, "run --allow-inbound='tcp://*:8080'\n"); len(ds) == 0 {
			t.Errorf("%s (%s): nothing published", tt.uri, tt.lang)
		}
	}
}

// TestFixAllResolve: for a client that resolves code actions, "fix all" comes
// without its edit when the client asks for every action (at each move of
// the cursor), and codeAction/resolve computes it.
func TestFixAllResolve(t *testing.T) {
	c, wait := newPipeClient(t, Options{})
	caps := map[string]any{"textDocument": map[string]any{"codeAction": map[string]any{
		"resolveSupport": map[string]any{"properties": []string{"edit"}}}}}
	var res InitializeResult
	c.mustCall("initialize", map[string]any{"capabilities": caps}, &res)
	if !res.Capabilities.CodeActionProvider.ResolveProvider {
		t.Error("no resolveProvider")
	}
	c.notify("initialized", map[string]any{})
	const uri = "file:///w/r.flags"
	content := "--allow-outbound=tcp://a.example:80\n--allow-outbound=tcp://a.example:443\n"
	c.open(uri, "capspec", content)
	var acts []CodeAction
	c.mustCall("textDocument/codeAction", actionParams(uri, Range{}), &acts)
	var fa *CodeAction
	for i := range acts {
		if acts[i].Kind == kindFixAll {
			fa = &acts[i]
		}
	}
	if fa == nil || fa.Edit != nil || fa.Data == nil {
		t.Fatalf("fix all to resolve: %+v", acts)
	}
	var resolved CodeAction
	c.mustCall("codeAction/resolve", fa, &resolved)
	if resolved.Edit == nil || applyEdits(t, content, resolved.Edit.Changes[uri], encodingUTF16) != "--allow-outbound=tcp://a.example:80,443\n" {
		t.Errorf("resolved: %+v", resolved)
	}
	// Asked for explicitly (on save), it comes with its edit.
	c.mustCall("textDocument/codeAction", actionParams(uri, Range{}, "source.fixAll"), &acts)
	if len(acts) != 1 || acts[0].Edit == nil {
		t.Errorf("explicit fix all: %+v", acts)
	}
	var foreign json.RawMessage
	if c.mustCall("codeAction/resolve", CodeAction{Title: "x"}, &foreign); string(foreign) != "null" {
		t.Errorf("resolving a foreign action: %s", foreign)
	}
	c.shutdown()
	if err := wait(); err != nil {
		t.Error(err)
	}
}
