package diff

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreport"
	"github.com/capspec/capspec/policy"
)

// Maximum is the widest policy an organisation accepts (SPEC §8.2),
// indexed once to check many policies against it. It is safe for
// concurrent use.
type Maximum struct {
	// Name says where the maximum comes from, for messages: "max.flags",
	// or several names joined.
	Name string
	side *side
}

// NewMaximum indexes a maximum policy; name is how messages call it.
func NewMaximum(p *policy.Policy, name string) *Maximum {
	return &Maximum{Name: name, side: newSide(p)}
}

// Excess is a rule of a policy that allows a request the maximum denies.
type Excess struct {
	// Rule is the rule of the policy.
	Rule *policy.Rule
	// Implied is true when the rule's own grant stays within the maximum
	// but the lookup it implies (§3.4) does not.
	Implied bool
	// Example is a request the rule allows (in the families Family) and
	// the maximum does not (in any of them); the reference evaluators of
	// both agree.
	Example eval.Request
	Family  policy.Families
	// Nearest is the rule of the maximum that came closest to allowing
	// the example, with why it does not (nil when the maximum has no
	// rule of the kind, or allows the request in another family).
	Nearest *evalreport.Miss
}

// Exceeds returns, for each rule of p (in order) that allows a request the
// maximum does not, one such request: of the rule's own grant if it
// exceeds the maximum, else of its implied lookup. No excess means every
// request p allows, the maximum allows. Requests are decided with the
// fixed interface table Interfaces.
func (m *Maximum) Exceeds(p *policy.Policy) ([]Excess, error) {
	var out []Excess
	err := m.EachExcess(p, func(x Excess) { out = append(out, x) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachExcess calls yield with each excess Exceeds returns, in order, once
// every example is confirmed (nothing is yielded on error), so that a
// caller that turns each into a message need not hold them all with their
// nearest rules: what the nearest rule of one excess costs is garbage once
// yield returns.
func (m *Maximum) EachExcess(p *policy.Policy, yield func(Excess)) error {
	xs, err := m.excesses(p)
	if err != nil {
		return err
	}
	ns := &nearScratch{seen: make(map[*policy.Rule]bool, maxNear), byPort: map[portKey]*evalreport.Explainer{}}
	for i := range xs {
		x := xs[i]
		xs[i] = Excess{} // nor the rule, when the caller holds nothing else of p
		x.Nearest = m.nearest(x.Rule, x.Example, ns)
		yield(x)
	}
	return nil
}

// excesses returns the excesses of p without their nearest rules, every
// example confirmed by the reference evaluators.
func (m *Maximum) excesses(p *policy.Policy) ([]Excess, error) {
	this := newSide(p)
	c := &comparer{this: this, other: m.side}
	implied := map[*policy.Rule]*policy.Rule{}
	for _, r := range p.Resolves {
		if r.IsImplied() {
			implied[r.ImpliedBy] = r
		}
	}
	var out []Excess
	for _, r := range p.Rules {
		x := Excess{Rule: r}
		ps := c.excess(r)
		if len(ps) == 0 && implied[r] != nil {
			ps, x.Implied = c.excess(implied[r]), true
		}
		if len(ps) == 0 {
			continue
		}
		x.Example, x.Family = ps[0].example, exampleFamilies(ps[0])
		out = append(out, x)
	}
	if err := m.confirm(out, this); err != nil {
		return nil, err
	}
	return out, nil
}

// confirmBatch is how many examples confirm checks at a time.
const confirmBatch = 4096

// confirm checks with the reference evaluators that this side allows the
// example of each excess and the maximum does not. The checks are made a
// batch at a time, not all held at once (a large policy may exceed the
// maximum in every rule); the error is the one runChecks would give for
// all of them: the least failure.
func (m *Maximum) confirm(xs []Excess, this *side) error {
	var least error
	checks := make([]check, 0, min(len(xs), confirmBatch))
	for lo := 0; lo < len(xs); lo += confirmBatch {
		checks = checks[:0]
		for _, x := range xs[lo:min(lo+confirmBatch, len(xs))] {
			checks = append(checks, regionCheck(&Region{Flag: x.Rule, Example: x.Example, Family: x.Family}, this, m.side))
		}
		if err := runChecks(checks); err != nil && (least == nil || err.Error() < least.Error()) {
			least = err
		}
	}
	return least
}

// maxNear bounds the rules of the maximum the nearest one is chosen from.
const maxNear = 256

// nearScratch is what nearest keeps from one request to the next: a map
// and a list near uses, and the explainers of the first rules on a port (the rules
// near requests no rule of the maximum is about, often on a few ports
// such as 443), at most maxByPort of them.
type nearScratch struct {
	seen   map[*policy.Rule]bool
	list   []*policy.Rule
	byPort map[portKey]*evalreport.Explainer
}

// portKey is the kind and port of a request (0 for a lookup).
type portKey struct {
	kind ast.Kind
	port uint16
}

const maxByPort = 64

// nearest returns the rule of the maximum that comes closest to allowing
// q (a request rule r allows), and why it does not: capspec eval's own
// account of a denial (evalreport's Explainer), over the rules of the maximum near
// r and q — those that share a host with q or overlap r, or else the first
// on q's port — so that the cost does not grow with the maximum.
func (m *Maximum) nearest(r *policy.Rule, q eval.Request, ns *nearScratch) *evalreport.Miss {
	near, onPort := m.side.near(r, q, ns.seen, ns.list[:0])
	ns.list = near[:0] // the next request's, unless an explainer kept below holds it
	sub := &policy.Policy{}
	if q.Op == eval.Lookup {
		sub.Resolves = near
	} else {
		sub.Rules = near
		// Where the name reaches: a mapped name is an exact one, and the
		// resolves of a name are held in the order of the policy's.
		m.side.res.exact[q.Name].meeting(nil, func(x *policy.Rule) bool {
			if x.HostMap.IsValid() && x.Host.MatchesName(q.Name) {
				sub.Resolves = append(sub.Resolves, x)
			}
			return true
		})
	}
	var x *evalreport.Explainer
	key := portKey{q.Op.Kind(), q.Port}
	if q.Op == eval.Lookup {
		key.port = 0
	}
	switch {
	case !onPort || len(sub.Resolves) > 0:
		x = evalreport.NewExplainer(sub, Interfaces)
	case ns.byPort[key] != nil:
		x = ns.byPort[key]
	default:
		if len(ns.byPort) == maxByPort {
			clear(ns.byPort)
		}
		sub.Rules = slices.Clone(near) // kept: not the scratch list
		x = evalreport.NewExplainer(sub, Interfaces)
		ns.byPort[key] = x
	}
	ex := x.Explain(q)
	if len(ex.Nearest) == 0 {
		return nil
	}
	// A copy: the explanation, the other misses and their reasons are
	// garbage once the caller is done with this one.
	n := ex.Nearest[0]
	return &n
}

// near returns rules of the side, of q's kind, near rule r and request
// q: rules for q's host (its name, the names above and the wildcard
// below it; networks holding its address; its local side), in either
// protocol, and rules overlapping r; else the first rules on q's port;
// at most maxNear, each once, appended to out; onPort is true for the
// first rules on q's port (or the first resolve rules for a lookup), which
// depend only on q's kind and port. seen is a map near may use, empty on
// return.
func (s *side) near(r *policy.Rule, q eval.Request, seen map[*policy.Rule]bool, out []*policy.Rule) ([]*policy.Rule, bool) {
	defer clear(seen)
	add := func(x *policy.Rule) {
		if len(out) < maxNear && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	more := func(x *policy.Rule) bool { add(x); return len(out) < maxNear }
	byName := func(ns *names, n string) {
		if n == "" {
			return
		}
		ns.meeting(n, nil, more)
		ns.wild[n].meeting(nil, more)
		for d := n; strings.Contains(d, "."); {
			d = d[strings.IndexByte(d, '.')+1:]
			ns.exact[d].meeting(nil, more)
		}
	}
	switch q.Op.Kind() {
	case ast.Resolve:
		byName(&s.res, q.Name)
	case ast.Outbound:
		fi := famIndex(policy.FamilyOf(q.Addr))
		for pi := range s.out {
			byName(&s.out[pi].names, q.Name)
			if q.Addr.IsValid() {
				s.out[pi].addrs[fi].containing(netip.PrefixFrom(q.Addr, q.Addr.BitLen()), nil, more)
			}
		}
	default:
		for pi := range s.in {
			in := &s.in[pi]
			for _, g := range append(in.matchingLocal(local{kind: q.Local, addr: q.Addr, iface: q.Name}), in.localhost) {
				g.meeting(nil, more)
			}
		}
	}
	s.candidates(r, func(x *policy.Rule) bool {
		if x.Kind != ast.Outbound || x.Host.Kind.IsName() == r.Host.Kind.IsName() {
			add(x) // not every network for a name, nor every name for a network
		}
		return len(out) < maxNear
	})
	if len(out) == 0 {
		if q.Op == eval.Lookup {
			for _, x := range s.p.Resolves[:min(len(s.p.Resolves), maxNear)] {
				add(x)
			}
			return out, true
		}
		// The first rules of the kind on q's port: the maxNear of least
		// index.
		first := s.firstOn(q.Op.Kind()).first(q.Port)
		for _, x := range first {
			add(x)
		}
		return out, true
	}
	return out, false
}

// kindRules returns the outbound or inbound rules of the side (built
// once).
func (s *side) kindRules(k ast.Kind) *group {
	s.kindOnce.Do(func() {
		for _, r := range s.p.Rules {
			if r.Kind != ast.Resolve {
				s.byKind[r.Kind] = s.byKind[r.Kind].add(r)
			}
		}
	})
	return s.byKind[k]
}

// firstOn returns the index of the first rules on a port of the outbound
// or inbound rules of the side (built once).
func (s *side) firstOn(k ast.Kind) *firstOnPort {
	s.firstOnce[k].Do(func() { s.firstIdx[k] = newFirstOnPort(s.kindRules(k).list(), maxNear) })
	return s.firstIdx[k]
}

// Describe writes an excess for a diagnostic: the summary ("allows
// connect tcp 10.0.0.1:5432, which max.flags does not allow") and the
// detail naming the nearest rule of the maximum and why it misses.
func (m *Maximum) Describe(x Excess) (summary, detail string) {
	req := x.Example.String()
	if isIfaceListen(x.Example) {
		// A listen on an interface is decided for both families at once.
		req += " over " + strings.Replace(x.Family.String(), "ipv", "IPv", 1)
	}
	summary = fmt.Sprintf("allows %s, which %s does not allow", req, m.Name)
	if x.Implied {
		summary = fmt.Sprintf("allows %s (implied), which %s does not allow", req, m.Name)
	}
	switch n := x.Nearest; {
	case n != nil:
		r := n.Rule
		text := r.Text()
		if r.IsImplied() {
			text = r.String() + " (implied by " + r.ImpliedBy.Text() + ")"
		}
		detail = fmt.Sprintf("note: nearest in %s: %s (%s)", position(r), text, strings.Join(n.Reasons, "; "))
	default:
		detail = fmt.Sprintf("note: %s has no %s rule that allows it over %s", m.Name, x.Example.Op.Kind().FlagName(), x.Family)
	}
	return summary, detail
}

// position writes where a rule comes from: "max.flags:2" (file and line),
// or its index for a rule without source.
func position(r *policy.Rule) string {
	if r.Source == nil {
		return fmt.Sprintf("rule %d", r.Index+1)
	}
	rg := r.Range()
	return fmt.Sprintf("%s:%d", rg.Origin, rg.Start.Line)
}
