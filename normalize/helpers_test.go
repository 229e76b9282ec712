package normalize

import (
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// parsed is a flags file read, parsed and compiled.
type parsed struct {
	in     *source.Input
	ast    *ast.Policy
	policy *policy.Policy
	errs   []diag.Diagnostic // errors: the policy may not be formatted
}

// parse reads text as a flags file.
func parse(text string) parsed {
	ins, _ := source.FlagsFile{Name: "test.flags", Content: text}.Read()
	in := ins[0]
	p, ds := grammar.Parse(in)
	cp, cds := policy.Compile(p)
	var errs []diag.Diagnostic
	for _, d := range append(append(in.Diags, ds...), cds...) {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		}
	}
	return parsed{in: in, ast: p, policy: cp, errs: errs}
}

// format formats a flags file that must have no errors.
func format(t testing.TB, text string) string {
	t.Helper()
	p := parse(text)
	if len(p.errs) > 0 {
		t.Fatalf("%q has errors: %v", text, summaries(p.errs))
	}
	return Format(p.ast, p.in).String()
}

func summaries(ds []diag.Diagnostic) string {
	var ss []string
	for _, d := range ds {
		ss = append(ss, d.ID+" "+d.Summary)
	}
	return strings.Join(ss, "; ")
}

// lines joins strings as lines of a file.
func lines(ss ...string) string {
	if len(ss) == 0 {
		return ""
	}
	return strings.Join(ss, "\n") + "\n"
}

// astRules parses flags (each valid) into rules numbered in order.
func astRules(t testing.TB, flags ...string) []*ast.Rule {
	t.Helper()
	var out []*ast.Rule
	for i, f := range flags {
		r, ds := grammar.ParseFlag(f, nil)
		if r == nil {
			t.Fatalf("ParseFlag(%q): %s", f, summaries(ds))
		}
		r.Index = i
		out = append(out, r)
	}
	return out
}

// spell returns the canonical spellings of rules, one a line.
func spell(rs []*policy.Rule) string {
	var ss []string
	for _, r := range rs {
		ss = append(ss, r.String())
	}
	return lines(ss...)
}
