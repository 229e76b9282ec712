package diff

import (
	"cmp"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Result is what differs between two policies (SPEC §8.1).
type Result struct {
	// Added are the regions the new policy allows and the old one does
	// not; Removed the reverse. Each lists what its policy grants, rule by
	// rule, in the order of the rules (an implied resolve after its
	// outbound rule); their union is exactly what one allows and the
	// other does not.
	Added, Removed []Region
	// Changed are requests both allow but send elsewhere (a mapping whose
	// target changed).
	Changed []Change
}

// Equivalent reports whether the policies decide every request alike.
func (r *Result) Equivalent() bool {
	return len(r.Added) == 0 && len(r.Removed) == 0 && len(r.Changed) == 0
}

// Compare compares two compiled policies on meaning: implied resolves,
// host mappings and port mappings included, requests decided with the
// fixed interface table Interfaces. Every example is checked with the
// reference evaluator of both policies before it is returned; an example
// that does not show what it should is an error (a bug, never hidden).
func Compare(old, new *policy.Policy) (*Result, error) {
	so, sn := newSide(old), newSide(new)
	plus := &comparer{this: sn, other: so}
	minus := &comparer{this: so, other: sn}
	res := &Result{Added: plus.allRegions(), Removed: minus.allRegions(), Changed: plus.changes()}
	sortChanges(res.Changed)
	var checks []check
	for _, r := range res.Added {
		checks = append(checks, regionCheck(r, sn, so))
	}
	for _, r := range res.Removed {
		checks = append(checks, regionCheck(r, so, sn))
	}
	for _, ch := range res.Changed {
		checks = append(checks, changeCheck(ch, sn, so))
	}
	if err := runChecks(checks); err != nil {
		return nil, err
	}
	return res, nil
}

// allRegions returns the regions of every grant of this side that no other
// grant of it covers (policy.Essential), in the order of the grants. A
// grant that covers one exceeding the other side exceeds it too, so only
// the grants that exceed it are compared with each other.
func (c *comparer) allRegions() []Region {
	pieces := map[*policy.Rule][]piece{}
	var exceeding []*policy.Rule
	for _, g := range c.this.p.Grants() {
		if ps := c.excess(g); len(ps) > 0 {
			pieces[g] = ps
			exceeding = append(exceeding, g)
		}
	}
	var out []Region
	for _, g := range policy.Essential(exceeding) {
		out = append(out, c.regions(g, pieces[g])...)
	}
	slices.SortStableFunc(out, func(a, b Region) int { return cmp.Compare(grantOrder(a.Rule), grantOrder(b.Rule)) })
	return out
}

// grantOrder orders grants by their rule, an implied resolve right after
// its outbound rule.
func grantOrder(r *policy.Rule) int {
	if r.IsImplied() {
		return 2*r.Index + 1
	}
	return 2 * r.Index
}

func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		return cmp.Or(cmp.Compare(grantOrder(a.Rule), grantOrder(b.Rule)), policy.Compare(a.Flag, b.Flag))
	})
}

// check is an example to confirm with the reference evaluators.
type check struct {
	what string
	ok   func() bool
}

// regionCheck confirms that this side allows the example in its family
// and the other side does not.
func regionCheck(r Region, this, other *side) check {
	return check{
		what: fmt.Sprintf("%s for %s", r.Example, r.Flag),
		ok: func() bool {
			return differs(this.reference(r.Example), other.reference(r.Example), r.Family)
		},
	}
}

// reference decides a request with the reference evaluator (eval's plain
// loop over the rules), on the rules that can decide it: the rules of its
// kind and protocol whose ports hold its port, and the resolve rules for
// its name (or every name: "*"), which say whether a name may be looked up
// and where it reaches. A rule of another kind, protocol or port never
// matches a request, nor a resolve rule for another name; so the decision
// is the one of the whole policy, while checking a large diff stays linear
// in the size of the policies. The reduced rules are found by plain
// comparisons (a port range, a name equal to a suffix of the request's),
// not through the comparison's own indexes.
func (s *side) reference(q eval.Request) eval.Decision {
	s.refMu.Lock()
	if s.portBuckets == nil {
		// Rules by the 256-port blocks their ports meet; resolve rules by
		// the name or domain they are for.
		s.portBuckets = map[int][]*policy.Rule{}
		for _, r := range s.p.Rules {
			last := -1
			for _, pr := range r.Ports {
				for b := int(pr.Lo) >> 8; b <= int(pr.Hi)>>8; b++ {
					if b != last {
						s.portBuckets[b] = append(s.portBuckets[b], r)
						last = b
					}
				}
			}
		}
		s.resByName = map[string][]*policy.Rule{}
		for _, r := range s.p.Resolves {
			s.resByName[r.Host.Name] = append(s.resByName[r.Host.Name], r) // "" for "*"
		}
	}
	sub := &policy.Policy{}
	if q.Op != eval.Lookup {
		k := refKey{q.Op.Kind(), q.Op.Protocol(), q.Port}
		rs, ok := s.refRules[k]
		if !ok {
			rs = &refRules{byPrefix: map[netip.Prefix][]*policy.Rule{}, byName: map[string][]*policy.Rule{}}
			for _, r := range s.portBuckets[int(k.port)>>8] {
				if r.Kind == k.kind && r.Protocol == k.proto && r.Ports.Contains(k.port) {
					rs.add(r)
				}
			}
			s.refRules[k] = rs
		}
		sub.Rules = rs.all
		if k.kind == ast.Outbound && q.Addr.IsValid() {
			sub.Rules = rs.outboundFor(q)
		}
	}
	sub.Resolves = append(sub.Resolves, s.resByName[""]...)
	for d := q.Name; d != ""; {
		sub.Resolves = append(sub.Resolves, s.resByName[d]...)
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	s.refMu.Unlock()
	return eval.NewReference(sub, Interfaces).Decide(q)
}

// refRules are the rules of one kind, protocol and port, and for outbound
// rules the same by host: "*", networks by prefix, names by name.
type refRules struct {
	all      []*policy.Rule
	any      []*policy.Rule
	byPrefix map[netip.Prefix][]*policy.Rule
	bits     []int // prefix lengths of byPrefix, ascending
	byName   map[string][]*policy.Rule
}

func (rs *refRules) add(r *policy.Rule) {
	rs.all = append(rs.all, r)
	switch h := r.Host; h.Kind {
	case policy.AnyHost:
		rs.any = append(rs.any, r)
	case policy.AddressHost:
		if len(rs.byPrefix[h.Prefix]) == 0 {
			if i, found := slices.BinarySearch(rs.bits, h.Prefix.Bits()); !found {
				rs.bits = slices.Insert(rs.bits, i, h.Prefix.Bits())
			}
		}
		rs.byPrefix[h.Prefix] = append(rs.byPrefix[h.Prefix], r)
	default:
		rs.byName[h.Name] = append(rs.byName[h.Name], r)
	}
}

// outboundFor returns the outbound rules whose host can match a connect to
// q.Addr (via q.Name): "*", the networks holding the address (a network
// holds it when it equals the address's prefix of its length), and the
// rules for q.Name or a domain above it. These are plain conditions a
// rule's host must meet to match; the reference evaluator applies them
// again, with the rest.
func (rs *refRules) outboundFor(q eval.Request) []*policy.Rule {
	a := q.Addr.Unmap()
	out := slices.Clone(rs.any)
	for _, b := range rs.bits {
		if b > a.BitLen() {
			break
		}
		p, _ := a.Prefix(b)
		out = append(out, rs.byPrefix[p]...)
	}
	for d := q.Name; d != ""; {
		out = append(out, rs.byName[d]...)
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return out
}

// refKey is the kind, protocol and port of the requests a reduced policy
// decides.
type refKey struct {
	kind  ast.Kind
	proto ast.Protocol
	port  uint16
}

// differs reports whether decision a allows a request in the families f
// and b in none of them.
func differs(a, b eval.Decision, f policy.Families) bool {
	return a.Families.Has(f) && b.Families&f == 0
}

// changeCheck confirms that both sides allow the example, with different
// answers or host ports.
func changeCheck(ch Change, newSide, oldSide *side) check {
	return check{
		what: fmt.Sprintf("%s for %s (was %s)", ch.Example, ch.Flag, ch.Was),
		ok: func() bool {
			dn, do := newSide.reference(ch.Example), oldSide.reference(ch.Example)
			if !bothAllow(ch.Example, ch.Family, dn, do) {
				return false
			}
			if ch.Example.Op == eval.Lookup {
				fi := famIndex(ch.Family)
				return dn.Answers[fi] != do.Answers[fi]
			}
			return dn.HostPort != do.HostPort
		},
	}
}

// runChecks runs the checks on every CPU (the reference evaluators are
// linear in the number of rules, and safe for concurrent use).
func runChecks(checks []check) error {
	if len(checks) == 0 {
		return nil
	}
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	work := make(chan check)
	for range min(runtime.GOMAXPROCS(0), len(checks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if !c.ok() {
					mu.Lock()
					failed = append(failed, c.what)
					mu.Unlock()
				}
			}
		}()
	}
	for _, c := range checks {
		work <- c
	}
	close(work)
	wg.Wait()
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("internal error: the reference evaluator does not confirm the example %s", failed[0])
	}
	return nil
}
