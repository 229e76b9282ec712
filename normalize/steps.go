package normalize

import (
	"slices"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Spell does steps 1 and 2 of SPEC §4 for each parsed rule: it compiles the
// rule into the policy model, whose String is the canonical spelling — the
// --allow-X=SPEC form, lowercase scheme and names, A-labels without a
// trailing dot, IPv6 in RFC 5952 form, /32 and /128 written as the address,
// "..." as "*:*", inbound 0.0.0.0 and [::] as "*" with their family, no
// family modifier that a literal implies — and whose ports are a
// policy.PortSet: sorted, without duplicates, overlapping and adjacent items
// merged into ranges, the full set of the direction written "*". The rules
// are numbered in order (Index); each keeps its flag as Source.
//
// lint's CS305 (noncanonical-spelling) reports exactly the rules whose text
// differs from Spell's spelling.
func Spell(rules []*ast.Rule) []*policy.Rule {
	out := make([]*policy.Rule, len(rules))
	for i, ar := range rules {
		r := policy.CompileRule(ar)
		r.Index = i
		out[i] = r
	}
	return out
}

// Merge does step 3 of SPEC §4, to a fixpoint: rules of one kind,
// protocol, host, family and mappings become one with the union of their
// ports; an #ipv4-only rule and its #ipv6-only twin become one rule without
// a modifier; outbound addresses and networks of one protocol, family and
// port set, without mapping, are aggregated into the fewest prefixes. A
// rule with a port mapping never merges, and inbound port 0 ("a port the
// system picks") only joins other ports when they make "*". A merged rule
// has the sources of all the rules it stands for, in order.
func Merge(rules []*policy.Rule) []*policy.Rule { return policy.MergeAll(rules) }

// Subsume does step 4 of SPEC §4: it considers the rules from last to
// first in canonical order, each against the rules still kept, and drops a
// rule when the kept rules already grant all it grants — its own grant by a
// single other rule, and its implied resolve (if any) by a single other
// rule, explicit or implied. So a resolve rule that an outbound rule
// implies is dropped, and of two equal rules the later one. It returns the
// kept rules in canonical order, and the dropped ones with the rules that
// grant what they granted, in the order they were dropped.
func Subsume(rules []*policy.Rule) (kept []*policy.Rule, dropped []policy.Dropped) {
	return policy.Subsume(rules)
}

// Order does step 5 of SPEC §4: it returns the rules in canonical order —
// resolve, outbound, inbound; tcp before udp; hosts "*", IPv4, IPv6
// (numerically, address then prefix length), localhost, interfaces
// (alphabetically), names by their labels reversed with a wildcard just
// after its apex; then lowest port; then family (none, ipv4, ipv6).
func Order(rules []*policy.Rule) []*policy.Rule {
	out := slices.Clone(rules)
	policy.Sort(out)
	return out
}

// Rules returns the canonical form of one or more policies taken together:
// the five steps of SPEC §4 in order. It grants exactly what the policies
// grant, provided they compile without errors (policy.Compile).
func Rules(ps ...*ast.Policy) []*policy.Rule {
	var ars []*ast.Rule
	for _, p := range ps {
		if p != nil {
			ars = append(ars, p.Rules...)
		}
	}
	kept, _ := steps(ars)
	return kept
}

// steps runs the five steps on parsed rules.
func steps(ars []*ast.Rule) (kept []*policy.Rule, dropped []policy.Dropped) {
	kept, dropped = Subsume(Merge(Spell(ars)))
	return Order(kept), dropped
}
