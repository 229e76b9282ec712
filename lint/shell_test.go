package lint

import (
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// scriptInput builds the input a shell source reads from a one-line
// script holding one flag word: the value between the quotes of quoted
// is taken literally, every unquoted '*' is a glob.
func scriptInput(t *testing.T, script, word string) *source.Input {
	t.Helper()
	file := diag.NewFile("run.sh", script)
	start := strings.Index(script, word)
	if start < 0 {
		t.Fatalf("%q not in %q", word, script)
	}
	var text strings.Builder
	var segs diag.Mapped
	var globs []diag.Range
	quote := byte(0)
	for i := start; i < start+len(word); i++ {
		c := script[i]
		switch {
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
			continue
		case quote != 0 && c == quote:
			quote = 0
			continue
		case quote == 0 && c == '*':
			globs = append(globs, file.Range(i, i+1))
		}
		segs = append(segs, diag.Segment{Text: text.Len(), File: file, Origin: i, Len: 1})
		text.WriteByte(c)
	}
	r := file.Range(start, start+len(word))
	return &source.Input{Name: "run.sh:1 wasmtime", Files: []*diag.File{file},
		Flags: []*source.Flag{{Text: text.String(), Loc: segs, Words: []diag.Range{r}, Globs: globs}}}
}

func TestUnquotedGlob(t *testing.T) {
	tests := []struct {
		script, word string
		want         bool
		fixed        string
	}{
		{"wasmtime run --allow-outbound=tcp://*:443 app.wasm\n", "--allow-outbound=tcp://*:443", true,
			"wasmtime run --allow-outbound='tcp://*:443' app.wasm\n"},
		{"wasmtime run --allow-resolve=*.example.com app.wasm\n", "--allow-resolve=*.example.com", true,
			"wasmtime run --allow-resolve='*.example.com' app.wasm\n"},
		{"wasmtime run --allow-outbound=\"tcp://\"*:443 app.wasm\n", "--allow-outbound=\"tcp://\"*:443", true,
			"wasmtime run --allow-outbound=\"tcp://\"'*':443 app.wasm\n"},
		// Close, not reported: quoted stars.
		{"wasmtime run --allow-outbound='tcp://*:443' app.wasm\n", "--allow-outbound='tcp://*:443'", false, ""},
		{"wasmtime run \"--allow-resolve=*.example.com\" app.wasm\n", "\"--allow-resolve=*.example.com\"", false, ""},
	}
	for _, tt := range tests {
		in := scriptInput(t, tt.script, tt.word)
		ds := lintInput(in, Options{})
		var got []diag.Diagnostic
		for _, d := range ds {
			if d.ID == "CS212" {
				got = append(got, d)
			}
		}
		if (len(got) > 0) != tt.want {
			t.Errorf("%s: CS212 reported %v, want %v (%v)", tt.script, len(got) > 0, tt.want, ds)
			continue
		}
		if !tt.want {
			continue
		}
		edits, _ := diag.SelectFixes(got)
		fixed, err := diag.ApplyEdits(tt.script, edits["run.sh"])
		if err != nil {
			t.Fatal(err)
		}
		if fixed != tt.fixed {
			t.Errorf("fixed %q, want %q", fixed, tt.fixed)
		}
	}
}
