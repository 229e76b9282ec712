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
// Stream does the same without holding the result.
func Compare(old, new *policy.Policy) (*Result, error) {
	res := &Result{}
	if _, err := Stream(old, new, collect{res}); err != nil {
		return nil, err
	}
	return res, nil
}

// collect is the Sink of Compare: it keeps everything.
type collect struct{ res *Result }

func (c collect) Region(added bool, r *Region) error {
	if added {
		c.res.Added = append(c.res.Added, *r)
	} else {
		c.res.Removed = append(c.res.Removed, *r)
	}
	return nil
}

func (c collect) Change(ch *Change) error {
	c.res.Changed = append(c.res.Changed, *ch)
	return nil
}

// Sink receives the regions and changes of a comparison (Stream) one at a
// time; an error stops the comparison. The values are the sink's to keep.
type Sink interface {
	// Region receives a region the new policy allows and the old one does
	// not (added), or the reverse.
	Region(added bool, r *Region) error
	// Change receives a mapping whose target changed.
	Change(ch *Change) error
}

// Counts are how many regions and changes a comparison found.
type Counts struct {
	Added, Removed, Changed int
}

// Equivalent reports whether the policies decide every request alike.
func (n Counts) Equivalent() bool { return n == Counts{} }

// Stream compares two policies as Compare does and hands each region and
// change to sink as soon as the reference evaluator has confirmed its
// example, in Compare's order: the added regions, the removed ones, the
// changes. It keeps no result: beyond the two policies' indexes, memory
// holds the region at hand (and the changes, sorted before they are
// handed over), whatever the size of the difference. An example the
// reference evaluator does not confirm stops the comparison with an
// error, after the regions and changes before it.
func Stream(old, new *policy.Policy, sink Sink) (Counts, error) {
	so, sn := newSide(old), newSide(new)
	var n Counts
	for _, dir := range []struct {
		c     *comparer
		added bool
		count *int
	}{{&comparer{this: sn, other: so}, true, &n.Added}, {&comparer{this: so, other: sn}, false, &n.Removed}} {
		err := dir.c.eachRegion(keepPieces, func(r *Region) error {
			if err := confirm(regionCheck(r, dir.c.this, dir.c.other)); err != nil {
				return err
			}
			*dir.count++
			return sink.Region(dir.added, r)
		})
		if err != nil {
			return n, err
		}
	}
	changes := (&comparer{this: sn, other: so}).changes()
	sortChanges(changes)
	for i := range changes {
		ch := &changes[i]
		if err := confirm(changeCheck(ch, sn, so)); err != nil {
			return n, err
		}
		n.Changed++
		if err := sink.Change(ch); err != nil {
			return n, err
		}
	}
	return n, nil
}

// eachRegion calls emit with the regions of every grant of this side that
// no other grant of it covers (policy.Essential), in the order of the
// grants (an implied resolve right after its outbound rule), until emit
// returns an error. A grant that covers one exceeding the other side
// exceeds it too, so only the grants that exceed it are compared with
// each other. The pieces of the first keep pieces found are kept for the
// regions; those of the grants after are found again (so that a large
// difference does not hold them all at once).
func (c *comparer) eachRegion(keep int, emit func(*Region) error) error {
	var exceeding []*policy.Rule
	var pieces [][]piece // of each exceeding grant, or nil to find again
	for _, g := range c.this.p.Grants() {
		if ps := c.excess(g); len(ps) > 0 {
			exceeding = append(exceeding, g)
			if keep -= len(ps); keep < 0 {
				ps = nil
			}
			pieces = append(pieces, ps)
		}
	}
	i := 0
	for _, g := range policy.Essential(exceeding) { // in the order of exceeding
		for exceeding[i] != g {
			pieces[i] = nil
			i++
		}
		ps := pieces[i]
		if ps == nil {
			ps = c.excess(g)
		}
		for _, r := range c.regions(g, ps) {
			if err := emit(&r); err != nil {
				return err
			}
		}
		pieces[i] = nil
		i++
	}
	return nil
}

// keepPieces is how many pieces a comparison keeps between finding the
// grants that exceed the other side and writing their regions: all of
// them for a change under review (and a policy of some ten thousand
// rules), a part of them for two large unrelated policies.
const keepPieces = 1 << 14

func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		return cmp.Or(cmp.Compare(grantOrder(a.Rule), grantOrder(b.Rule)), policy.Compare(a.Flag, b.Flag))
	})
}

// grantOrder orders grants by their rule, an implied resolve right after
// its outbound rule.
func grantOrder(r *policy.Rule) int {
	if r.IsImplied() {
		return 2*r.Index + 1
	}
	return 2 * r.Index
}

// check is an example to confirm with the reference evaluators: what it
// is for (written only when it fails), and whether it shows it.
type check struct {
	what func() string
	ok   func() bool
}

// confirm runs a check: an error when it fails.
func confirm(c check) error {
	if !c.ok() {
		return fmt.Errorf("internal error: the reference evaluator does not confirm the example %s", c.what())
	}
	return nil
}

// regionCheck confirms that this side allows the example in its family
// and the other side does not.
func regionCheck(r *Region, this, other *side) check {
	return check{
		what: func() string { return fmt.Sprintf("%s for %s", r.Example, r.Flag) },
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
			bucket := s.portBuckets[int(k.port)>>8]
			rs = &refRules{costly: len(bucket) > costlyBucket}
			for _, r := range bucket {
				if r.Kind == k.kind && r.Protocol == k.proto && r.Ports.Contains(k.port) {
					rs.all = append(rs.all, r)
				}
			}
			rs.all = slices.Clip(rs.all)
			if s.refSize += 1 + len(rs.all); s.refSize > refBudget(s.p) {
				s.forgetRefRules()
				s.refSize += 1 + len(rs.all)
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

// refBudget is how many rules (and ports) the cache of reference keeps
// for a policy: about twice its rules, so that the cache stays in
// proportion to the policy whatever the number of ports the examples are
// on and of rules on each.
func refBudget(p *policy.Policy) int { return 2*len(p.Rules) + 4096 }

// forgetRefRules empties the cache of reference but for the ports of many
// rules (their hosts indexed) and those of a block of many rules, while
// they take up to half the budget: a large difference has examples on
// thousands of ports, most of them seen once or twice, and a few ports,
// seen often or in a crowded block, that are costly to gather.
func (s *side) forgetRefRules() {
	s.refSize = 0
	for k, rs := range s.refRules {
		if !rs.costly && rs.host == nil || s.refSize+1+len(rs.all) > refBudget(s.p)/2 {
			delete(s.refRules, k)
			continue
		}
		s.refSize += 1 + len(rs.all)
	}
}

// refRules are the rules of one kind, protocol and port, and for outbound
// rules, when there are more than smallRef of them, the same by host:
// "*", networks by prefix, names by name (built on first use). A large
// difference checks examples on thousands of ports, most of them with a
// few rules: those keep a list and nothing more.
type refRules struct {
	all    []*policy.Rule
	host   *refHosts
	costly bool // gathered from a block of more than costlyBucket rules
}

// costlyBucket is how many rules a block of ports has for the rules of one
// of its ports to be kept when the cache forgets.
const costlyBucket = 1024

// smallRef is the most rules of a port that the reference decides without
// an index of their hosts.
const smallRef = 32

// refHosts are outbound rules by host.
type refHosts struct {
	any      []*policy.Rule
	byPrefix map[netip.Prefix][]*policy.Rule
	bits     []int // prefix lengths of byPrefix, ascending
	byName   map[string][]*policy.Rule
}

func newRefHosts(rules []*policy.Rule) *refHosts {
	x := &refHosts{byPrefix: map[netip.Prefix][]*policy.Rule{}, byName: map[string][]*policy.Rule{}}
	for _, r := range rules {
		switch h := r.Host; h.Kind {
		case policy.AnyHost:
			x.any = append(x.any, r)
		case policy.AddressHost:
			if len(x.byPrefix[h.Prefix]) == 0 {
				if i, found := slices.BinarySearch(x.bits, h.Prefix.Bits()); !found {
					x.bits = slices.Insert(x.bits, i, h.Prefix.Bits())
				}
			}
			x.byPrefix[h.Prefix] = append(x.byPrefix[h.Prefix], r)
		default:
			x.byName[h.Name] = append(x.byName[h.Name], r)
		}
	}
	return x
}

// outboundFor returns the outbound rules whose host can match a connect to
// q.Addr (via q.Name): "*", the networks holding the address (a network
// holds it when it equals the address's prefix of its length), and the
// rules for q.Name or a domain above it; or all of them when they are
// few. These are plain conditions a rule's host must meet to match; the
// reference evaluator applies them again, with the rest.
func (rs *refRules) outboundFor(q eval.Request) []*policy.Rule {
	if len(rs.all) <= smallRef {
		return rs.all
	}
	if rs.host == nil {
		rs.host = newRefHosts(rs.all)
	}
	x := rs.host
	a := q.Addr.Unmap()
	out := slices.Clone(x.any)
	for _, b := range x.bits {
		if b > a.BitLen() {
			break
		}
		p, _ := a.Prefix(b)
		out = append(out, x.byPrefix[p]...)
	}
	for d := q.Name; d != ""; {
		out = append(out, x.byName[d]...)
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
func changeCheck(ch *Change, newSide, oldSide *side) check {
	return check{
		what: func() string { return fmt.Sprintf("%s for %s (was %s)", ch.Example, ch.Flag, ch.Was) },
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
					failed = append(failed, c.what())
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
