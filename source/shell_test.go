package source_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/golden"
	"github.com/capspec/capspec/source"
)

// TestShellGolden reads every script of testdata/shell and compares what it
// found — inputs, flags, comments and the diagnostics of reading and
// parsing them — with the script's .golden file.
func TestShellGolden(t *testing.T) {
	scripts, err := filepath.Glob("testdata/shell/*.sh")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range scripts {
		t.Run(filepath.Base(path), func(t *testing.T) {
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := dumpShell(filepath.Base(path), string(content))
			golden.Check(t, strings.TrimSuffix(path, ".sh")+".golden", got)
		})
	}
}

// dumpShell describes what the shell source reads from a script.
func dumpShell(name, content string) string {
	var b strings.Builder
	ins, err := source.Shell{Name: name, Content: content}.Read()
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	files := diag.FileSet{}
	for _, in := range ins {
		files.Add(in.Files...)
		fmt.Fprintf(&b, "== %s\n", in.Name)
		for i, f := range in.Flags {
			fmt.Fprintf(&b, "flag %d %q at %s words %s", i, f.Text, span(f.Range()), spans(f.Words))
			if len(f.Globs) > 0 {
				fmt.Fprintf(&b, " globs %s", spans(f.Globs))
			}
			b.WriteString("\n")
		}
		for _, c := range in.Comments {
			fmt.Fprintf(&b, "comment %q at %s: flag %d %s blank-before=%v\n", c.Text, span(c.Range), c.Flag, place(c.Place), c.BlankBefore)
		}
		_, ds := grammar.Parse(in)
		ds = append(append([]diag.Diagnostic(nil), in.Diags...), ds...)
		diag.Sort(ds)
		if err := diag.WriteText(&b, ds, files, nil); err != nil {
			fmt.Fprintf(&b, "render: %v\n", err)
		}
	}
	return b.String()
}

func span(r diag.Range) string {
	return fmt.Sprintf("%d:%d-%d:%d", r.Start.Line, r.Start.Column, r.End.Line, r.End.Column)
}

func spans(rs []diag.Range) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = span(r)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func place(p source.CommentPlace) string {
	switch p {
	case source.Above:
		return "above"
	case source.Beside:
		return "beside"
	}
	return "footer"
}

// TestShellWords checks quote removal and where each flag's value starts in
// the script.
func TestShellWords(t *testing.T) {
	tests := []struct {
		script string
		text   string // the flag's text
		at     string // the script text from where the flag's 'x' maps
	}{
		{`a --allow-resolve=x.example`, "--allow-resolve=x.example", "x.example"},
		{`a "--allow-resolve=x.example"`, "--allow-resolve=x.example", "x.example\""},
		{`a --allow-resolve='x'".example"`, "--allow-resolve=x.example", "x'\".example\""},
		{"a --allow-resolve=\\\nx.example", "--allow-resolve=x.example", "x.example"},
		{"a --allow-resolve \\\n  'x.example'", "--allow-resolve x.example", "x.example'"},
		{`a --allow-resolve=\x.example`, "--allow-resolve=x.example", "x.example"},
		{`a --allow-resolve="\x.example"`, `--allow-resolve=\x.example`, "x.example\""},
		{`a --allow-resolve=$'\x78.example'`, "--allow-resolve=x.example", `\x78.example'`},
		{"a `b --allow-resolve=\\x.example`", "--allow-resolve=x.example", "x.example`"},
		{`a --allow-resolve=x.exa\$mple`, "--allow-resolve=x.exa$mple", "x.exa\\$mple"},
		{`a --allow-resolve=@(x|y).example`, "--allow-resolve=@(x|y).example", "x|y).example"},
	}
	for _, tt := range tests {
		ins, err := source.Shell{Name: "s.sh", Content: tt.script}.Read()
		if err != nil || len(ins) != 1 || len(ins[0].Flags) != 1 {
			t.Errorf("%q: %v, %d inputs", tt.script, err, len(ins))
			continue
		}
		f := ins[0].Flags[0]
		if f.Text != tt.text {
			t.Errorf("%q: text %q, want %q", tt.script, f.Text, tt.text)
		}
		x := strings.IndexByte(f.Text, 'x')
		if r := f.Loc.Range(x, x+1); tt.script[r.Start.Offset:] != tt.at {
			t.Errorf("%q: 'x' maps to %q, want %q", tt.script, tt.script[r.Start.Offset:], tt.at)
		}
	}
}

// TestShellCommands checks which commands are policies and their names.
func TestShellCommands(t *testing.T) {
	script := `f() { w1 --allow-resolve=a; }
x=$(w2 --allow-resolve=b) && "w3" --allow-resolve=c | w4 --allow-env=1
for i in 1; do FOO=1 w5 --allow-resolve=d; done; echo --allow-resolvx=e
[[ --allow-resolve=f ]] && echo ok
$RT --allow-resolve=h <<EOF
w6 --allow-resolve=i
EOF
`
	ins, err := source.Shell{Name: "s.sh", Content: script}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range ins {
		names = append(names, in.Name)
	}
	want := []string{"s.sh:1 w1", "s.sh:2 w2", "s.sh:2 w3", "s.sh:3 w5", "s.sh:3 echo", "s.sh:5 $RT"}
	if !equal(names, want) {
		t.Errorf("policies %q, want %q", names, want)
	}
	// Each input's Command is its simple command, assignments included.
	var commands []string
	for _, in := range ins {
		commands = append(commands, fmt.Sprintf("%d:%q", in.Command.Start.Line, script[in.Command.Start.Offset:in.Command.End.Offset]))
	}
	wantCommands := []string{`1:"w1 --allow-resolve=a"`, `2:"w2 --allow-resolve=b"`, `2:"\"w3\" --allow-resolve=c"`,
		`3:"FOO=1 w5 --allow-resolve=d"`, `3:"echo --allow-resolvx=e"`, `5:"$RT --allow-resolve=h"`}
	if !equal(commands, wantCommands) {
		t.Errorf("commands %q, want %q", commands, wantCommands)
	}
	multi := "# c\nA=1 wasmtime run \\\n  --allow-resolve=a \\\n  app.wasm # d\n"
	ins, err = source.Shell{Name: "m.sh", Content: multi}.Read()
	if err != nil || len(ins) != 1 {
		t.Fatalf("%v %v", ins, err)
	}
	if c := ins[0].Command; c.Start.Line != 2 || c.Start.Column != 1 || c.End.Line != 4 || multi[c.Start.Offset:c.End.Offset] != "A=1 wasmtime run \\\n  --allow-resolve=a \\\n  app.wasm" {
		t.Errorf("command at %v", c)
	}
}
