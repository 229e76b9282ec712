package grammar

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// TestCacheParsesAsParse edits inputs the way a person types — flags added,
// changed, moved, broken and fixed — and checks that the cache's result is
// Parse's, rule by rule (with positions in the origin) and diagnostic by
// diagnostic.
func TestCacheParsesAsParse(t *testing.T) {
	var texts []string
	for _, pattern := range []string{"../testdata/grammar/*.flags", "../testdata/lint/*.flags", "../testdata/examples/*.flags"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, string(b))
		}
	}
	if len(texts) < 10 {
		t.Fatalf("only %d inputs", len(texts))
	}
	var c Cache
	check := func(name, text string) {
		t.Helper()
		ins, err := source.FlagsFile{Name: "p.flags", Content: text}.Read()
		if err != nil {
			t.Fatal(err)
		}
		wantP, wantD := Parse(ins[0])
		gotP, gotD := c.Parse(ins[0])
		if diff := cmp.Diff(describe(wantP, wantD), describe(gotP, gotD)); diff != "" {
			t.Errorf("%s: the cache parses differently (-Parse +Cache):\n%s", name, diff)
		}
	}
	for i, text := range texts {
		check(fmt.Sprintf("input %d", i), text)
		check(fmt.Sprintf("input %d again", i), text)
		check(fmt.Sprintf("input %d shifted", i), "# one more line\n  "+text)
		check(fmt.Sprintf("input %d on one line", i), strings.ReplaceAll(text, "\n", " \\\n"))
		check(fmt.Sprintf("input %d with a typo", i), strings.Replace(text, "tcp://", "tpc://", 1))
		check(fmt.Sprintf("input %d reversed", i), reverseLines(text))
	}
}

func reverseLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	return strings.Join(lines, "\n")
}

// describe writes what a parse gives: every rule with its index, text and
// origin range and the origin range of every node, and every diagnostic.
func describe(p *ast.Policy, ds []diag.Diagnostic) []string {
	var out []string
	for _, r := range p.Rules {
		out = append(out, fmt.Sprintf("rule %d %q %v", r.Index, r.Text, r.Range(r)))
		ast.Walk(r, func(n ast.Node) bool {
			out = append(out, fmt.Sprintf("  %T %v", n, r.Range(n)))
			return true
		})
	}
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s %s %v %q %v", d.ID, d.Severity, d.Range, d.Summary, d.Fixes))
	}
	return out
}
