package explain

// The passes of an account as they were before they were indexed: every
// grant against every other, every finding against every rule. They are
// quadratic, and the oracle of TestIndexedSameAsReference.

import (
	"slices"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// grants computes the effective grants of a policy: the canonical form
// (SPEC §4 steps 3-5) of its lookups, explicit and implied, and of its
// connection and listener rules, where a connection rule is judged by its
// own grant alone (its implied lookup is listed with the lookups). Every
// written rule is accounted for: in Rules or ImpliedBy of the grant it is
// merged into, or in Also of a grant covering it.
func grantsReference(p *policy.Policy) []Grant {
	index := map[*ast.Rule]int{}
	for _, r := range p.Rules {
		if r.Source != nil {
			index[r.Source] = flagIndex(r)
		}
	}
	resolves := policy.Canonicalize(p.Resolves)
	var conns []*policy.Rule
	for _, r := range p.Rules {
		if r.Kind != ast.Resolve {
			conns = append(conns, r)
		}
	}
	conns = policy.Canonicalize(conns)
	// Canonicalize keeps an outbound rule to a name whose implied lookup
	// nothing else grants; as a connection grant it may still lie within
	// another one.
	conns = dropCoveredReference(conns)
	kept := append(resolves, conns...)

	var out []Grant
	used := map[int]bool{}        // written rules accounted for as sources
	usedImplied := map[int]bool{} // outbound rules whose implied lookup is a source
	for _, k := range kept {
		g := Grant{Rule: k, Summary: Summary(k)}
		for _, s := range k.Sources {
			i, ok := index[s]
			if !ok {
				continue
			}
			if k.Kind == ast.Resolve && s.Kind() == ast.Outbound {
				g.ImpliedBy = append(g.ImpliedBy, i)
				usedImplied[i] = true
			} else {
				g.Rules = append(g.Rules, i)
				used[i] = true
			}
		}
		out = append(out, g)
	}
	// Rules not among the sources lie within a kept grant.
	also := func(r *policy.Rule) {
		for i := range out {
			if policy.Covers(out[i].Rule, r) {
				out[i].Also = append(out[i].Also, flagIndex(r))
				return
			}
		}
	}
	for _, r := range p.Rules {
		if !used[flagIndex(r)] {
			also(r)
		}
		if ir := r.ImpliedResolve(); ir != nil && !usedImplied[flagIndex(r)] {
			also(ir)
		}
	}
	for i := range out {
		g := &out[i]
		for j := range out {
			where, ok := overrides(out[j].Rule, g.Rule)
			if !ok {
				continue
			}
			by := append(slices.Clone(out[j].Rules), out[j].ImpliedBy...)
			slices.Sort(by)
			g.OverriddenBy = append(g.OverriddenBy, by...)
			g.Summary += " " + where + ", the mapping of " + ruleList(by) + " applies instead (a mapping wins)."
		}
		slices.Sort(g.OverriddenBy)
		g.OverriddenBy = slices.Compact(g.OverriddenBy)
		slices.Sort(g.Rules)
		g.Rules = slices.Compact(g.Rules)
		slices.Sort(g.ImpliedBy)
		g.ImpliedBy = slices.Compact(g.ImpliedBy)
		slices.Sort(g.Also)
		g.Also = slices.Compact(g.Also)
	}
	return out
}

// dropCovered drops, last to first, every rule whose own grant another
// kept rule covers. Its input is canonical, so it is short.
func dropCoveredReference(rules []*policy.Rule) []*policy.Rule {
	gone := make([]bool, len(rules))
	for i := len(rules) - 1; i >= 0; i-- {
		for j, c := range rules {
			if j != i && !gone[j] && policy.Covers(c, rules[i]) {
				gone[i] = true
				break
			}
		}
	}
	var out []*policy.Rule
	for i, r := range rules {
		if !gone[i] {
			out = append(out, r)
		}
	}
	return out
}

// risks turns the warning-level findings into risks, each attributed to
// the rule whose flag holds it.
func risksReference(p *policy.Policy, flags []*source.Flag, findings []diag.Diagnostic) []Risk {
	var out []Risk
	for _, d := range findings {
		if d.Severity != diag.Warning {
			continue
		}
		rk := Risk{ID: d.ID, Name: lint.Name(d.ID), Message: d.Summary, Rule: -1, Range: d.Range}
		if r := ruleAtReference(p, flags, d.Range); r != nil {
			rk.Rule, rk.Flag = flagIndex(r), r.Text()
		}
		out = append(out, rk)
	}
	return out
}

// ruleAt returns the rule whose flag holds the start of rg: one of whose
// words holds it, or whose range does.
func ruleAtReference(p *policy.Policy, flags []*source.Flag, rg diag.Range) *policy.Rule {
	in := func(w diag.Range) bool {
		return w.Origin == rg.Origin && w.Start.Offset <= rg.Start.Offset && rg.Start.Offset <= w.End.Offset
	}
	for _, r := range p.Rules {
		if r.Source == nil {
			continue
		}
		if i := r.Source.Index; i >= 0 && i < len(flags) {
			for _, w := range flags[i].Words {
				if in(w) {
					return r
				}
			}
		}
		if in(r.Range()) {
			return r
		}
	}
	return nil
}

// lookupGrantedReference reports whether a lookup grant matches the name n.
func lookupGrantedReference(lookups []*policy.Rule, n string) bool {
	for _, r := range lookups {
		if r.Host.MatchesName(n) {
			return true
		}
	}
	return false
}

// outboundToNameReference reports whether an outbound grant reaches the
// addresses resolved from the name n: a name or wildcard rule matching it,
// or "*".
func outboundToNameReference(rs []*policy.Rule, n string) bool {
	for _, r := range rs {
		if (r.Host.Kind == policy.AnyHost || r.Host.Kind == policy.NameHost || r.Host.Kind == policy.WildcardHost) && r.Host.MatchesName(n) {
			return true
		}
	}
	return false
}
