package explain

// The passes of an account as they were before they were indexed: every
// grant against every other, every finding against every rule. They are
// quadratic, and the oracle of TestIndexedSameAsReference.

import (

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// grantsReference finds for each rule that is no grant's source the first
// grant covering it, and for each grant the mapping grants that win over
// it, by comparing every grant with every rule and every grant.
func grantsReference(p *policy.Policy) []Grant {
	out, unsourced := sourceGrants(p, dropCoveredReference)
	for _, r := range unsourced {
		for i := range out {
			if policy.Covers(out[i].Rule, r) {
				out[i].Also = append(out[i].Also, flagIndex(r))
				break
			}
		}
	}
	all := make([]int, len(out))
	for j := range all {
		all[j] = j
	}
	for i := range out {
		settle(out, i, all)
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
