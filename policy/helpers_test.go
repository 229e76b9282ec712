package policy

import (
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/grammar"
)

// rule compiles one flag, failing the test on a syntax error.
func rule(t testing.TB, flag string) *Rule {
	t.Helper()
	ar, ds := grammar.ParseFlag(flag, nil)
	if ar == nil {
		t.Fatalf("ParseFlag(%q): %v", flag, ds)
	}
	return CompileRule(ar)
}

// compile compiles flags (one per element) into a policy.
func compile(t testing.TB, flags ...string) (*Policy, []string) {
	t.Helper()
	ap := &ast.Policy{Name: "test"}
	for i, f := range flags {
		ar, ds := grammar.ParseFlag(f, nil)
		if ar == nil {
			t.Fatalf("ParseFlag(%q): %v", f, ds)
		}
		ar.Index = i
		ap.Rules = append(ap.Rules, ar)
	}
	p, ds := Compile(ap)
	var msgs []string
	for _, d := range ds {
		msgs = append(msgs, d.ID+" "+d.Summary)
	}
	return p, msgs
}

// spell returns the canonical spellings of rules, one per line.
func spell(rs []*Rule) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}
