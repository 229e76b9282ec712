package policy_test

import (
	"slices"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// TestForgetSyntax checks that a policy whose syntax is forgotten says
// where and how each rule and implied resolve is written as before, and
// that a flag shared by rules stays one flag.
func TestForgetSyntax(t *testing.T) {
	ins, err := source.FlagsFile{Name: "p.flags", Content: "# services\n" +
		"--allow-outbound=tcp://example.com:80,443#ipv4-only\n" +
		"  --allow-resolve=*.example.org   # lookups\n" +
		"--allow-inbound \\\n  tcp://localhost:8080->18080\n" +
		"--allow-outbound=tcp://db.internal->10.0.0.5:5432->5433\n" +
		"--allow-outbound=tcp://example.com:8080\n"}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var aps []*ast.Policy
	for _, in := range ins {
		ap, ds := grammar.Parse(in)
		if len(ds) > 0 {
			t.Fatal(ds)
		}
		aps = append(aps, ap)
	}
	p, ds := policy.Compile(aps...)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	all := append(append([]*policy.Rule(nil), p.Rules...), p.Resolves...)
	type where struct {
		rng, text string
		index     int
		kind      ast.Kind
	}
	before := make([]where, len(all))
	sources := make([]*ast.Rule, len(all))
	for i, r := range all {
		before[i] = where{r.Range().String(), r.Text(), r.Source.Index, r.Source.Kind()}
		sources[i] = r.Source
	}
	p.ForgetSyntax()
	for i, r := range all {
		if got := (where{r.Range().String(), r.Text(), r.Source.Index, r.Source.Kind()}); got != before[i] {
			t.Errorf("rule %d: after ForgetSyntax %+v, before %+v", i, got, before[i])
		}
		if r.Source == sources[i] || r.Source.Host != nil || r.Source.Ports != nil {
			t.Errorf("rule %d: syntax tree kept", i)
		}
		if r.Sources[0] != r.Source {
			t.Errorf("rule %d: Sources[0] is not Source", i)
		}
		if r.IsImplied() && r.Source != r.ImpliedBy.Source {
			t.Errorf("rule %d: implied resolve's flag is not its outbound rule's", i)
		}
		if ir := r.ImpliedResolve(); ir != nil && !slices.Contains(p.Resolves, ir) {
			t.Errorf("rule %d: ImpliedResolve is not the policy's implied resolve", i)
		}
	}
}
