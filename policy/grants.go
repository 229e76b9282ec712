package policy

import (
	"slices"

	"github.com/capspec/capspec/ast"
)

// Grants returns what a policy grants as separate rules, in policy order:
// every explicit rule, and after each outbound rule to a name or wildcard
// the resolve rule it implies (§3.4, ImpliedBy set). Unlike Subsume, which
// keeps an outbound rule and its implied resolve together, callers that
// compare grants one by one (capspec diff) treat each part alone.
func (p *Policy) Grants() []*Rule {
	out := make([]*Rule, 0, len(p.Rules)+len(p.Resolves))
	ri := 0
	for _, r := range p.Rules {
		out = append(out, r)
		// Resolves holds, in the order of Rules, the explicit resolve
		// rules and the implied ones right after their outbound rule.
		for ri < len(p.Resolves) && p.Resolves[ri].Index <= r.Index {
			if p.Resolves[ri].IsImplied() {
				out = append(out, p.Resolves[ri])
			}
			ri++
		}
	}
	return out
}

// Essential returns the rules of a list that no other rule of the list
// grants entirely (Covers), in the order of the list. Of equal rules, the
// one first in canonical order (§4.5) is kept. Each rule counts alone: an
// implied resolve given in the list is a rule of its own, and an outbound
// rule's implied resolve is not part of its grant here (see Grants). Like
// Subsume, it finds candidates through an index of hosts, not all pairs.
func Essential(rules []*Rule) []*Rule {
	sorted := slices.Clone(rules)
	Sort(sorted)
	idx := newCoverIndex()
	for _, r := range sorted {
		idx.add(r)
	}
	gone := make(map[*Rule]bool)
	for i := len(sorted) - 1; i >= 0; i-- {
		r := sorted[i]
		if by := idx.find(r, func(c *Rule) bool { return c != r && !gone[c] }); by != nil {
			gone[r] = true
		}
	}
	out := make([]*Rule, 0, len(rules)-len(gone))
	for _, r := range rules {
		if !gone[r] {
			out = append(out, r)
		}
	}
	return out
}

// Overlaps reports whether both rules could grant some request alike:
// same kind and protocol, a shared family, a shared port (for outbound and
// inbound rules), and hosts that are not disjoint (a name mapped to two
// addresses is two grants: lookups answered differently, connects to
// different addresses). It errs on the side of overlap where the answer
// depends on what the policy does not say: an interface may own any
// address, and an unmapped name may resolve to any address.
func Overlaps(a, b *Rule) bool {
	if a == nil || b == nil || a.Kind != b.Kind || a.Protocol != b.Protocol || !a.Families.Overlaps(b.Families) {
		return false
	}
	if a.Kind != ast.Resolve && !a.Ports.Overlaps(b.Ports) {
		return false
	}
	return !hostsDisjoint(a, b)
}

// Clone returns a copy of the rule that callers may change: its port set
// is shared, and never changed in place (PortSet values are immutable).
func (r *Rule) Clone() *Rule { return r.clone() }
