package explain

// The passes of an account as they were before they were indexed: every
// grant against every other, every finding against every rule. They are
// quadratic, and the oracle of TestIndexedSameAsReference.

import (
	"github.com/capspec/capspec/diag"
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

// dropCoveredReference compares every rule with every other.
func dropCoveredReference(rules []*policy.Rule) []*policy.Rule {
	all := make([]int, len(rules))
	for j := range all {
		all[j] = j
	}
	return dropCoveredAmong(rules, func(*policy.Rule) []int { return all })
}

// risksReference attributes findings to rules by trying every rule.
func risksReference(p *policy.Policy, flags []*source.Flag, findings []diag.Diagnostic) []Risk {
	return risksAt(findings, func(rg diag.Range) *policy.Rule { return ruleAtReference(p, flags, rg) })
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
