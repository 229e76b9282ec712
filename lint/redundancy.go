package lint

import (
	"fmt"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

// compiled returns the policy compiled by package policy, and the
// diagnostics of compiling it (CS101), computed once per run.
func (p *Pass) compiled() (*policy.Policy, []diag.Diagnostic) {
	if p.shared.policy == nil {
		p.shared.policy, p.shared.compileDiags = policy.Compile(p.Policy)
	}
	return p.shared.policy, p.shared.compileDiags
}

// redundant is a rule that can be deleted: what it grants, By grants (and
// its implied resolve, ResolveBy).
type redundant struct {
	rule, by, resolveBy *policy.Rule
}

// redundancy sorts the rules that add nothing to a policy into the rules
// that report them, and finds the rules that merge.
type redundancy struct {
	duplicates []redundant    // CS301: the later of two equal rules
	subsumed   []redundant    // CS302: granted by another single rule
	implied    []redundant    // CS304: explicit resolves an outbound rule implies
	merges     []*policy.Rule // CS303: merged rules of two or more sources
}

// dupKey identifies what a compiled rule grants.
type dupKey struct {
	policy.Key
	ports string
}

// redundancies computes the redundancy of the policy once per run. Equal
// rules are found by hashing, covered ones through policy.Subsume (an
// index of hosts) and merges through policy.MergeAll (grouped by key), so
// the cost grows about linearly with the policy, never with all pairs.
// Deleting every redundant rule together keeps what the policy grants;
// merges are computed among the rules that are left.
func (p *Pass) redundancies() *redundancy {
	if p.shared.redundancy != nil {
		return p.shared.redundancy
	}
	cp, _ := p.compiled()
	red := &redundancy{}
	first := make(map[dupKey]*policy.Rule, len(cp.Rules))
	rest := make([]*policy.Rule, 0, len(cp.Rules))
	for _, r := range cp.Rules {
		k := dupKey{r.Key(), r.Ports.String()}
		if f, ok := first[k]; ok {
			red.duplicates = append(red.duplicates, redundant{rule: r, by: f})
			continue
		}
		first[k] = r
		rest = append(rest, r)
	}
	kept, dropped := policy.Subsume(rest)
	// A rule may be granted by one that is itself dropped; name the kept
	// rule at the end of the chain instead.
	droppedBy := make(map[*policy.Rule]*policy.Rule, len(dropped))
	for _, d := range dropped {
		droppedBy[d.Rule] = d.By
	}
	final := func(by *policy.Rule) *policy.Rule {
		for i := 0; i < len(dropped); i++ {
			next, ok := droppedBy[by]
			if !ok {
				break
			}
			by = next
		}
		return by
	}
	for _, d := range dropped {
		x := redundant{rule: d.Rule, by: final(d.By), resolveBy: d.ResolveBy}
		if d.Rule.Kind == ast.Resolve && d.By.IsImplied() {
			red.implied = append(red.implied, x)
		} else {
			red.subsumed = append(red.subsumed, x)
		}
	}
	for _, m := range policy.MergeAll(kept) {
		if len(m.Sources) > 1 {
			red.merges = append(red.merges, m)
		}
	}
	p.shared.redundancy = red
	return red
}

// where names the position of a rule's flag: "policy.flags:3:1".
func where(r *ast.Rule) string { return r.Range(r).String() }

// reportRedundant reports rules that can be deleted, each with a fix that
// deletes its flag.
func (p *Pass) reportRedundant(xs []redundant, summary func(x redundant) string) {
	for _, x := range xs {
		src := x.rule.Source
		f := p.Flag(src)
		if f == nil {
			continue
		}
		d := diag.Diagnostic{
			Range:   src.Range(src),
			Summary: summary(x),
			Fixes:   []diag.Fix{{Message: "delete the rule", Edits: deleteFlag(p.Input, f)}},
		}
		if x.by != nil && x.by.Source != nil {
			by := x.by
			if by.ImpliedBy != nil {
				by = by.ImpliedBy
			}
			d.Detail = "that rule: " + by.Text()
			if x.resolveBy != nil && x.resolveBy.Source != nil && x.resolveBy.Source != by.Source {
				rb := x.resolveBy
				if rb.ImpliedBy != nil {
					d.Detail += fmt.Sprintf("; the resolve this rule implies is implied by %s at %s", rb.ImpliedBy.Text(), where(rb.Source))
				} else {
					d.Detail += fmt.Sprintf("; the resolve this rule implies is granted by %s at %s", rb.Text(), where(rb.Source))
				}
			}
		}
		p.Report(d)
	}
}

// sourceList names the positions of rules: "policy.flags:2:1, policy.flags:5:1".
func sourceList(rs []*ast.Rule) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = where(r)
	}
	return strings.Join(parts, ", ")
}
