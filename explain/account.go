package explain

import (
	"net/netip"
	"slices"
	"strings"

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
	cp, errs := policy.Compile(p)
	// The account needs of the syntax only where each rule is written, and
	// of the findings only the risks (warnings): a caller that hands the
	// tree over lets the rest be freed while the account is built (a
	// policy of a hundred thousand flags keeps tens of megabytes less).
	findings := lint.Lint(in, p, parsed, lint.Options{Compiled: &lint.Compiled{Policy: cp, Diags: errs, ForgetSyntax: true}})
	if diag.HasErrors(findings) {
		// The findings are lint's to give: the errors are kept in place.
		return nil, slices.DeleteFunc(findings, func(d diag.Diagnostic) bool { return d.Severity != diag.Error })
	}
	if diag.HasErrors(errs) {
		return nil, errs
	}
	n := 0
	for _, d := range findings {
		if d.Severity == diag.Warning {
			n++
		}
	}
	warnings := make([]diag.Diagnostic, 0, n)
	for _, d := range findings {
		if d.Severity == diag.Warning {
			warnings = append(warnings, d)
		}
	}
	return Explain(Input{Name: in.Name, Policy: cp, Flags: in.Flags, Findings: warnings}), nil
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
	out, unsourced := sourceGrants(p, dropCovered)
	// Rules not among the sources lie within a kept grant: the first that
	// covers them.
	kept := make([]*policy.Rule, len(out))
	for i := range out {
		kept[i] = out[i].Rule
	}
	byHost := policy.NewIndex(kept)
	for _, r := range unsourced {
		for _, i := range byHost.Covering(r, r.Ports[:min(1, len(r.Ports))]) {
			if policy.Covers(out[i].Rule, r) {
				out[i].Also = append(out[i].Also, flagIndex(r))
				break
			}
		}
	}
	winners := mappingWinners(kept, byHost)
	for i := range out {
		settle(out, i, winners[i])
	}
	return out
}

// sourceGrants returns the grants of a policy, each with the written rules
// it is made of (drop removes the connection grants other ones cover), and
// the rules (and implied resolves) that are no grant's source.
func sourceGrants(p *policy.Policy, drop func([]*policy.Rule) []*policy.Rule) ([]Grant, []*policy.Rule) {
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
	conns = drop(conns)
	var out []Grant
	used := map[int]bool{}        // written rules accounted for as sources
	usedImplied := map[int]bool{} // outbound rules whose implied lookup is a source
	for _, k := range append(resolves, conns...) {
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
	var unsourced []*policy.Rule
	for _, r := range p.Rules {
		if !used[flagIndex(r)] {
			unsourced = append(unsourced, r)
		}
		if ir := r.ImpliedResolve(); ir != nil && !usedImplied[flagIndex(r)] {
			unsourced = append(unsourced, ir)
		}
	}
	return out, unsourced
}

// settle completes grant i: the mapping grants among winners (positions in
// grants, ascending) that win over it, and its rule lists sorted.
func settle(grants []Grant, i int, winners []int) {
	g := &grants[i]
	for _, j := range winners {
		where, ok := overrides(grants[j].Rule, g.Rule)
		if !ok {
			continue
		}
		by := append(slices.Clone(grants[j].Rules), grants[j].ImpliedBy...)
		slices.Sort(by)
		g.OverriddenBy = append(g.OverriddenBy, by...)
		g.Summary += " " + overrideSentence(grants[j].Rule, where, ruleList(by))
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

// mappingWinners returns, for each grant, the grants with a mapping that
// may win over it (see overrides), in ascending order: those whose host
// may cover its host, or whose host its host may cover, sharing a port
// (SPEC §3.2, §3.5 compare a mapping rule and a rule without one only where
// both match). byHost indexes grants.
func mappingWinners(grants []*policy.Rule, byHost *policy.Index) [][]int {
	var mapped []int // positions of the grants with a mapping
	for j, m := range grants {
		if m.HostMap.IsValid() && m.Kind == ast.Resolve || m.PortMap.IsMapped() {
			mapped = append(mapped, j)
		}
	}
	winners := make([][]int, len(grants))
	if len(mapped) == 0 {
		return winners
	}
	// Grants whose host may cover a mapping grant's host.
	for _, j := range mapped {
		for _, i := range byHost.Covering(grants[j], grants[j].Ports) {
			winners[i] = append(winners[i], j)
		}
	}
	// Mapping grants whose host may cover a grant's host.
	rules := make([]*policy.Rule, len(mapped))
	for k, j := range mapped {
		rules[k] = grants[j]
	}
	mappings := policy.NewIndex(rules)
	for i, g := range grants {
		for _, k := range mappings.Covering(g, g.Ports) {
			winners[i] = append(winners[i], mapped[k])
		}
	}
	for i := range winners {
		slices.Sort(winners[i])
		winners[i] = slices.Compact(winners[i])
	}
	return winners
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
// kept rule covers.
func dropCovered(rules []*policy.Rule) []*policy.Rule {
	byHost := policy.NewIndex(rules)
	return dropCoveredAmong(rules, func(r *policy.Rule) []int { return byHost.Covering(r, r.Ports[:min(1, len(r.Ports))]) })
}

// dropCoveredAmong is dropCovered with the rules that may cover a rule
// given by candidates (positions in rules, ascending).
func dropCoveredAmong(rules []*policy.Rule, candidates func(*policy.Rule) []int) []*policy.Rule {
	gone := make([]bool, len(rules))
	for i := len(rules) - 1; i >= 0; i-- {
		for _, j := range candidates(rules[i]) {
			if j != i && !gone[j] && policy.Covers(rules[j], rules[i]) {
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
	return risksAt(findings, newRuleSpans(p, flags).ruleAt)
}

// risksAt turns the warning-level findings into risks, attributed by
// ruleAt to a rule.
func risksAt(findings []diag.Diagnostic, ruleAt func(diag.Range) *policy.Rule) []Risk {
	var out []Risk
	for _, d := range findings {
		if d.Severity != diag.Warning {
			continue
		}
		rk := Risk{ID: d.ID, Name: lint.Name(d.ID), Message: d.Summary, Rule: -1, Range: d.Range}
		if r := ruleAt(d.Range); r != nil {
			rk.Rule, rk.Flag = flagIndex(r), r.Text()
		}
		out = append(out, rk)
	}
	return out
}

// ruleSpans finds the rule whose flag holds a position: one of whose words
// holds it, or whose range does. Spans are sorted by origin and start,
// with the highest end so far, so that a position is looked up by binary
// search.
type ruleSpans struct {
	rules  []*policy.Rule
	spans  []ruleSpan
	maxEnd []int // maxEnd[i]: the highest end among spans[:i+1] of spans[i]'s origin
}

// ruleSpan is a word or range of the rule at position rule of the policy.
type ruleSpan struct {
	origin     string
	start, end int
	rule       int
}

func newRuleSpans(p *policy.Policy, flags []*source.Flag) *ruleSpans {
	rs := &ruleSpans{rules: p.Rules}
	add := func(w diag.Range, rule int) {
		rs.spans = append(rs.spans, ruleSpan{w.Origin, w.Start.Offset, w.End.Offset, rule})
	}
	for k, r := range p.Rules {
		if r.Source == nil {
			continue
		}
		if i := r.Source.Index; i >= 0 && i < len(flags) {
			for _, w := range flags[i].Words {
				add(w, k)
			}
		}
		add(r.Range(), k)
	}
	slices.SortFunc(rs.spans, func(a, b ruleSpan) int {
		if c := strings.Compare(a.origin, b.origin); c != 0 {
			return c
		}
		return a.start - b.start
	})
	rs.maxEnd = make([]int, len(rs.spans))
	for i, s := range rs.spans {
		rs.maxEnd[i] = s.end
		if i > 0 && rs.spans[i-1].origin == s.origin {
			rs.maxEnd[i] = max(rs.maxEnd[i], rs.maxEnd[i-1])
		}
	}
	return rs
}

// ruleAt returns the first rule of the policy whose flag holds the start
// of rg, or nil.
func (rs *ruleSpans) ruleAt(rg diag.Range) *policy.Rule {
	off := rg.Start.Offset
	// Spans [0, i) are of earlier origins or start at or before off.
	i, _ := slices.BinarySearchFunc(rs.spans, rg, func(s ruleSpan, rg diag.Range) int {
		if c := strings.Compare(s.origin, rg.Origin); c != 0 {
			return c
		}
		if s.start <= off {
			return -1
		}
		return 1
	})
	best := -1
	for j := i - 1; j >= 0 && rs.spans[j].origin == rg.Origin && rs.maxEnd[j] >= off; j-- {
		if s := rs.spans[j]; s.end >= off && (best < 0 || s.rule < best) {
			best = s.rule
		}
	}
	if best < 0 {
		return nil
	}
	return rs.rules[best]
}
