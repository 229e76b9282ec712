package explain

import (
	"net/netip"
	"slices"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// Input is one policy to explain.
type Input struct {
	// Name names the policy: "policy.flags", "argv", "run.sh:4 wasmtime".
	Name string
	// Policy is the compiled policy, free of errors.
	Policy *policy.Policy
	// Flags are the flags the policy was read from (source.Input.Flags);
	// they attribute findings to rules. Optional.
	Flags []*source.Flag
	// Findings are the lint findings of the policy; the warnings among
	// them are its risks.
	Findings []diag.Diagnostic
}

// Account is what one policy allows: a sentence per rule, the effective
// grants, what is denied, and the risks.
type Account struct {
	// Name names the policy.
	Name string
	// Rules has one entry per rule, in flag order.
	Rules []RuleAccount
	// Grants are the effective grants in canonical order (SPEC §4.5):
	// lookups (explicit and implied), then outbound, then inbound.
	Grants []Grant
	// Denied states in broad strokes what the policy does not allow.
	Denied []Denial
	// Risks are the warning-level lint findings.
	Risks []Risk
}

// RuleAccount is the account of one rule as written.
type RuleAccount struct {
	// Rule is the compiled rule.
	Rule *policy.Rule
	// Index is the position of the rule's flag in its input, from 0: the
	// index capspec parse and lint use. Grants and risks refer to rules by it.
	Index int
	// Sentence says what the rule grants and implies.
	Sentence string
	// Implies is the resolve rule an outbound rule to a name implies, or nil.
	Implies *policy.Rule
}

// Grant is one effective grant: a canonical rule standing for the rules
// that make it up.
type Grant struct {
	// Rule is the canonical rule of the grant (for a lookup, possibly an
	// implied resolve rule).
	Rule *policy.Rule
	// Summary says what the grant allows.
	Summary string
	// Rules are the (flag) indices of the written rules the grant is made of.
	Rules []int
	// ImpliedBy are the indices of the outbound rules whose implied
	// resolve (§3.4) the grant is made of; for lookups only.
	ImpliedBy []int
	// Also are the indices of rules (or, for lookups, of outbound rules
	// through their implied resolve) whose grant lies wholly within this one.
	Also []int
	// OverriddenBy are the indices of the rules of mapping grants that win
	// over this grant where both match (SPEC §3.2, §3.5: a mapping rule
	// wins over a rule without one).
	OverriddenBy []int
}

// IsImplied reports whether the grant exists only because outbound rules
// imply it.
func (g *Grant) IsImplied() bool { return len(g.Rules) == 0 && len(g.ImpliedBy) > 0 }

// Risk is a warning-level lint finding about the policy.
type Risk struct {
	// ID and Name identify the lint rule: "CS201", "allow-all-outbound".
	ID, Name string
	// Message is the finding's summary.
	Message string
	// Rule is the index of the rule the finding concerns, or -1.
	Rule int
	// Flag is that rule's flag as written, or "".
	Flag string
	// Range is where the finding points.
	Range diag.Range
}

// Parsed lints and compiles one parsed policy (parsed holds the
// diagnostics of reading and parsing it) and builds its account. When the
// policy has errors, it returns no account and the error diagnostics.
func Parsed(in *source.Input, p *ast.Policy, parsed []diag.Diagnostic) (*Account, []diag.Diagnostic) {
	findings := lint.Lint(in, p, parsed, lint.Options{})
	if diag.HasErrors(findings) {
		var errs []diag.Diagnostic
		for _, d := range findings {
			if d.Severity == diag.Error {
				errs = append(errs, d)
			}
		}
		return nil, errs
	}
	cp, errs := policy.Compile(p)
	if diag.HasErrors(errs) {
		return nil, errs
	}
	return Explain(Input{Name: in.Name, Policy: cp, Flags: in.Flags, Findings: findings}), nil
}

// Explain builds the account of one policy.
func Explain(in Input) *Account {
	p := in.Policy
	if p == nil {
		p = &policy.Policy{}
	}
	a := &Account{Name: in.Name}
	for _, r := range p.Rules {
		a.Rules = append(a.Rules, RuleAccount{Rule: r, Index: flagIndex(r), Sentence: Sentence(r), Implies: r.ImpliedResolve()})
	}
	a.Grants = grants(p)
	a.Denied = denied(a.Grants)
	a.Risks = risks(p, in.Flags, in.Findings)
	return a
}

// grants computes the effective grants of a policy: the canonical form
// (SPEC §4 steps 3-5) of its lookups, explicit and implied, and of its
// connection and listener rules, where a connection rule is judged by its
// own grant alone (its implied lookup is listed with the lookups). Every
// written rule is accounted for: in Rules or ImpliedBy of the grant it is
// merged into, or in Also of a grant covering it.
func grants(p *policy.Policy) []Grant {
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
	conns = dropCovered(conns)
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
			g.Summary += " " + overrideSentence(out[j].Rule, where, ruleList(by))
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

// overrides reports whether the mapping grant m wins over the grant g
// (which has no mapping of that sort) for some request both match, and says
// where: "For my-database.internal", "On port 80", "For eth0 on port 80".
func overrides(m, g *policy.Rule) (string, bool) {
	if m == g || m.Kind != g.Kind || m.Protocol != g.Protocol || m.Kind != ast.Resolve && !m.Families.Overlaps(g.Families) {
		return "", false
	}
	if m.Kind == ast.Resolve {
		// A host mapping is the whole answer of a lookup of its name, in
		// either family (SPEC §3.2): it wins over g whatever g's families.
		ok := m.HostMap.IsValid() && !g.HostMap.IsValid() && g.Host.MatchesName(m.Host.Name)
		return "For " + m.Host.Name, ok
	}
	if !m.PortMap.IsMapped() || g.PortMap.IsMapped() {
		return "", false
	}
	shared := m.Ports.Intersect(g.Ports)
	if shared.IsEmpty() {
		return "", false
	}
	// Compare the two on the shared ports and families, mappings aside.
	fams := m.Families & g.Families
	mc, gc := *m, *g
	mc.Ports, gc.Ports, mc.Families, gc.Families = shared, shared, fams, fams
	mc.PortMap, mc.HostMap, gc.HostMap = policy.PortMapping{}, netip.Addr{}, netip.Addr{}
	if !policy.Covers(&mc, &gc) && !policy.Covers(&gc, &mc) {
		return "", false
	}
	ports := portPhrase(shared, m.Kind == ast.Outbound)
	if m.Host != g.Host {
		return "For " + m.Host.String() + " " + ports, true
	}
	return capitalize(ports), true
}

// flagIndex returns the position of a rule's flag in its input (the
// index of its source), or its index in the policy when it has no source.
func flagIndex(r *policy.Rule) int {
	if r.Source != nil {
		return r.Source.Index
	}
	return r.Index
}

// dropCovered drops, last to first, every rule whose own grant another
// kept rule covers. Its input is canonical, so it is short.
func dropCovered(rules []*policy.Rule) []*policy.Rule {
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
func risks(p *policy.Policy, flags []*source.Flag, findings []diag.Diagnostic) []Risk {
	var out []Risk
	for _, d := range findings {
		if d.Severity != diag.Warning {
			continue
		}
		rk := Risk{ID: d.ID, Name: lint.Name(d.ID), Message: d.Summary, Rule: -1, Range: d.Range}
		if r := ruleAt(p, flags, d.Range); r != nil {
			rk.Rule, rk.Flag = flagIndex(r), r.Text()
		}
		out = append(out, rk)
	}
	return out
}

// ruleAt returns the rule whose flag holds the start of rg: one of whose
// words holds it, or whose range does.
func ruleAt(p *policy.Policy, flags []*source.Flag, rg diag.Range) *policy.Rule {
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
