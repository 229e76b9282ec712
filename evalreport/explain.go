// Package evalreport explains the decisions of capspec eval for people and
// writes its reports. Runner decides request items in order as one guest
// making them (lookups remembered by an eval.Tracker over an eval.Index),
// and explains each with an Explainer; TextWriter and JSONWriter write each
// result as soon as it is made, so that nothing is kept per request.
//
// An Explainer computes its own decision, rule by rule, from the matching
// predicates of package policy (the engines' decisions are never copied
// into it), so that tests comparing it with eval.Reference and eval.Index
// can fail. It looks only at the rules that can bear on a request: those
// whose hosts match it (found by name, by network and by interface), the
// rules about its name that do not (a parent name, a wildcard over the
// name itself), and the first rules of the request's kind.
package evalreport

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Explanation is a decision with its reasons: the rules that allow the
// request, and for a denial, the nearest rules and why each missed.
type Explanation struct {
	// Request is the request as decided (normalized).
	Request eval.Request
	// Decision is the explainer's own decision, made from Allowing.
	Decision eval.Decision
	// Allowing are the rules that allow the request, in policy order.
	Allowing []Match
	// Nearest are, for a denial, up to three rules of the request's kind
	// that came closest: fewest reasons first, then rules about the
	// request's host, then policy order.
	Nearest []Miss
	// Notes say what else bears on the decision.
	Notes []string
}

// Match is a rule that allows a request, in some families.
type Match struct {
	// Rule is the rule; for a lookup it may be the resolve rule an
	// outbound rule implies (Rule.ImpliedBy is then set).
	Rule     *policy.Rule
	Families policy.Families
	// Decides is true for the rule that decided (Decision.Rule).
	Decides bool
}

// Miss is a rule that does not allow a request, and why.
type Miss struct {
	Rule    *policy.Rule
	Reasons []string
}

const (
	maxNearest  = 3    // missing rules a denial lists
	maxFallback = 8    // first rules of a kind considered as near misses
	maxMemo     = 4096 // network summaries remembered
)

var families = [2]policy.Families{policy.IPv4, policy.IPv6}

func famIndex(f policy.Families) int {
	if f == policy.IPv6 {
		return 1
	}
	return 0
}
func protoIndex(p ast.Protocol) int {
	if p == ast.UDP {
		return 1
	}
	return 0
}

// Explainer explains decisions on requests against one policy. It is safe
// for concurrent use.
type Explainer struct {
	p      *policy.Policy
	ifaces *eval.Interfaces

	res, out nameBuckets                     // resolve rules (explicit and implied); outbound rules to "*" and names
	nets     map[netip.Prefix][]*policy.Rule // outbound networks, by prefix
	netBits  [2][]int                        // the prefix lengths of nets, per family
	addrNets [2][2][]*policy.Rule            // outbound networks per protocol and family
	in       inBuckets                       // inbound rules
	first    [3][]*policy.Rule               // the first rules of each kind (resolve: Policy.Resolves)
	// spare is a scratch to reuse (one: a sync.Pool would keep every
	// Explainer it is part of alive for two collections, which piles up
	// when many short-lived ones are made, as lint --within does).
	spare atomic.Pointer[scratch]
	mu    sync.Mutex          // guards memo
	memo  map[netKey]*netInfo // network summaries by protocol, family and port

	// everyRule makes every rule of the request's kind a candidate (tests
	// compare it with the rules found by host).
	everyRule bool
}

// NewExplainer indexes the rules of a policy by host, with the interface
// table listens are decided with (nil: none).
func NewExplainer(p *policy.Policy, ifaces *eval.Interfaces) *Explainer {
	e := &Explainer{p: p, ifaces: ifaces,
		res: newNameBuckets(), out: newNameBuckets(), nets: map[netip.Prefix][]*policy.Rule{},
		in:   inBuckets{addr: map[netip.Addr][]*policy.Rule{}, iface: map[string][]*policy.Rule{}},
		memo: map[netKey]*netInfo{}}
	for _, r := range p.Resolves {
		e.res.add(r)
		if len(e.first[0]) < maxFallback {
			e.first[0] = append(e.first[0], r)
		}
	}
	bits := [2]map[int]bool{{}, {}}
	for _, r := range p.Rules {
		k := 1
		switch r.Kind {
		case ast.Resolve:
			continue
		case ast.Outbound:
			if r.Host.Kind == policy.AddressHost {
				fi := famIndex(policy.FamilyOf(r.Host.Prefix.Addr()))
				e.nets[r.Host.Prefix] = append(e.nets[r.Host.Prefix], r)
				bits[fi][r.Host.Prefix.Bits()] = true
				e.addrNets[protoIndex(r.Protocol)][fi] = append(e.addrNets[protoIndex(r.Protocol)][fi], r)
			} else {
				e.out.add(r)
			}
		case ast.Inbound:
			k = 2
			e.in.add(r)
		}
		if len(e.first[k]) < maxFallback {
			e.first[k] = append(e.first[k], r)
		}
	}
	for fi := range bits {
		for b := range bits[fi] {
			e.netBits[fi] = append(e.netBits[fi], b)
		}
		slices.Sort(e.netBits[fi])
	}
	return e
}

// Explain decides a request and says why, rule by rule.
func (e *Explainer) Explain(q eval.Request) Explanation {
	nq, err := q.Normalize()
	if err != nil {
		return Explanation{Request: nq, Decision: eval.Decision{Rule: -1, Invalid: err}, Notes: []string{err.Error()}}
	}
	x := Explanation{Request: nq}
	if nq.Op == eval.Lookup && nq.Addr.IsValid() {
		x.Decision = literalLookup(nq)
		x.Notes = append(x.Notes, "a lookup of an IP literal sends no query and needs no permission")
		return x
	}
	s := e.getScratch()
	defer e.spare.Store(s)
	switch nq.Op {
	case eval.Lookup:
		e.explainLookup(&x, s)
	case eval.Connect, eval.Send:
		e.explainConnect(&x, s)
	default:
		e.explainListen(&x, s)
	}
	return x
}

// literalLookup decides a lookup of an IP literal: no rule needed.
func literalLookup(q eval.Request) eval.Decision {
	want := q.Family
	if want == 0 {
		want = policy.AllFamilies
	}
	f := policy.FamilyOf(q.Addr)
	d := eval.Decision{Allowed: true, Rule: -1, NoRuleNeeded: true, Families: f & want}
	if want.Has(f) {
		d.Answers[famIndex(f)] = q.Addr
	}
	return d
}

// verdict collects, family by family, what allows a request.
type verdict struct {
	allowed [2]bool
	winner  [2]*policy.Rule
	host    [2]netip.Addr
	port    [2]uint16
	answer  [2]netip.Addr
	allow   *cands // the rules allowing
	fams    []policy.Families
}

func newVerdict(s *scratch) verdict { return verdict{allow: &s.allow, fams: s.fams} }

// allowBy records that r allows the request in f.
func (v *verdict) allowBy(r *policy.Rule, f policy.Families) {
	i := v.allow.find(r)
	if i < 0 {
		v.allow.addCand(cand{r: r})
		v.fams = append(v.fams, 0)
		i = len(v.fams) - 1
	}
	v.fams[i] |= f
}

// reasonsFunc says why a rule does not allow a request in a family.
type reasonsFunc func(r *policy.Rule, f policy.Families, w *why)

// why collects the reasons a rule misses a request: each one counted, and
// written out only when say is set, since ranking the misses needs the
// count alone and only the nearest are shown.
type why struct {
	say   bool
	n     int
	proto bool // one of the reasons is the protocol
	text  []string
}

// miss counts one more reason and reports whether to write it.
func (w *why) miss() bool {
	w.n++
	return w.say
}
func (w *why) sayf(format string, args ...any) { w.text = append(w.text, fmt.Sprintf(format, args...)) }
func (w *why) says(s string)                   { w.text = append(w.text, s) }

// finish makes the decision and the lists of an explanation from the
// verdict: the first family allowed decides the rule and the host side;
// the rules allowing are listed, the others of cands ranked as misses.
func (e *Explainer) finish(x *Explanation, v *verdict, c *cands, fams []policy.Families, reasons reasonsFunc, s *scratch) {
	d := eval.Decision{Rule: -1}
	var decider *policy.Rule
	for i, f := range families {
		d.Answers[i] = v.answer[i]
		if !v.allowed[i] {
			continue
		}
		d.Families |= f
		if !d.Allowed {
			d.Allowed, decider = true, v.winner[i]
			d.Rule, d.HostAddr, d.HostPort = decider.Index, v.host[i], v.port[i]
		}
	}
	x.Decision = d
	for i, a := range v.allow.list {
		x.Allowing = append(x.Allowing, Match{Rule: a.r, Families: v.fams[i], Decides: a.r == decider})
	}
	slices.SortFunc(x.Allowing, func(a, b Match) int { return cmp.Compare(a.Rule.Index, b.Rule.Index) })
	if d.Allowed {
		return
	}
	// Rank the misses by their reasons in the family they come closest in,
	// then write out the reasons of the nearest.
	misses := s.misses[:0]
	defer func() { s.misses = misses }()
	for i, cd := range c.list {
		best := miss{r: cd.r, about: cd.about, weight: -1}
		for _, f := range fams {
			// Fewer reasons first; a miss by protocol alone after a miss
			// by one other reason.
			k := c.count(i, f, reasons)
			if wt := 2*k.n + btoi(k.proto); k.n > 0 && (best.weight < 0 || wt < best.weight) {
				best.f, best.weight = f, wt
			}
		}
		if best.weight >= 0 {
			misses = append(misses, best)
		}
	}
	slices.SortStableFunc(misses, func(a, b miss) int {
		return cmp.Or(cmp.Compare(a.weight, b.weight), -cmp.Compare(btoi(a.about), btoi(b.about)), cmp.Compare(a.r.Index, b.r.Index))
	})
	for _, m := range misses[:min(len(misses), maxNearest)] {
		w := why{say: true}
		reasons(m.r, m.f, &w)
		x.Nearest = append(x.Nearest, Miss{Rule: m.r, Reasons: w.text})
	}
}
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
