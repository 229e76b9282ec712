package source_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/source"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

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
			golden := strings.TrimSuffix(path, ".sh") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file (go test -update refreshes it):\n%s", path, got)
			}
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
			fmt.Fprintf(&b, "flag %d %q at %s words %s", i, f.Text, span(f.Range), spans(f.Words))
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
