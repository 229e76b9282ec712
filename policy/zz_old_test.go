package policy

// TEMPORARY: the implementation before the perf branch, for comparison.


import (
	"fmt"
	"math/rand/v2"
	"testing"
	"github.com/capspec/capspec/grammar"
	"math"
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
)

// oldCanonicalize returns the canonical rules of SPEC §4 steps 2 to 5 for a
// list of compiled rules: ports are already normal in a compiled rule;
// oldMergeAll merges to a fixpoint, oldSubsume drops the rules others grant, Sort
// orders what is left. The result grants exactly what the input grants.
func oldCanonicalize(rules []*Rule) []*Rule {
	kept, _ := oldSubsume(oldMergeAll(rules))
	return kept
}

// oldMergeAll applies Merge to a fixpoint (§4.3): rules of one key become one
// with the union of their ports; #ipv4-only and #ipv6-only twins become one
// rule for both families; outbound addresses and networks of one protocol,
// family and port set, without oldMapping, are aggregated into the fewest
// networks. Rules with a port oldMapping are left alone. It groups rules by
// key, so its cost is about linear in the number of rules. The result is
// in order of Index.
func oldMergeAll(rules []*Rule) []*Rule {
	cur := slices.Clone(rules)
	for {
		changed := false
		var c bool
		cur, c = oldMergePorts(cur)
		changed = changed || c
		cur, c = oldMergeFamilies(cur)
		changed = changed || c
		cur, c = oldAggregateNetworks(cur)
		changed = changed || c
		if !changed {
			slices.SortStableFunc(cur, func(a, b *Rule) int { return a.Index - b.Index })
			return cur
		}
	}
}

// oldMergeable reports whether a rule may merge at all.
func oldMergeable(r *Rule) bool { return !r.PortMap.IsMapped() }

// oldMergeGroups replaces every group of oldMergeable rules of equal key by the
// result of join, keeping other rules.
func oldMergeGroups[K comparable](rules []*Rule, key func(*Rule) (K, bool), join func([]*Rule) []*Rule) ([]*Rule, bool) {
	var out []*Rule
	groups := map[K][]*Rule{}
	var order []K
	for _, r := range rules {
		k, ok := key(r)
		if !ok || !oldMergeable(r) {
			out = append(out, r)
			continue
		}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	changed := false
	for _, k := range order {
		g := groups[k]
		if len(g) == 1 {
			out = append(out, g[0])
			continue
		}
		j := join(g)
		if len(j) != len(g) {
			changed = true
		}
		out = append(out, j...)
	}
	return out, changed
}

// oldMergePorts merges rules of one key into one with the union of their ports.
func oldMergePorts(rules []*Rule) ([]*Rule, bool) {
	return oldMergeGroups(rules, func(r *Rule) (Key, bool) { return r.Key(), true }, oldJoinPorts)
}

// oldJoinPorts merges rules of one key into one with the union of their
// ports. When that union cannot be written (port 0 with other ports, not
// the whole inbound "*"), the rules for port 0 and the others merge apart.
func oldJoinPorts(g []*Rule) []*Rule {
	m := g[0].clone()
	var ranges []PortRange
	for _, r := range g {
		ranges = append(ranges, r.Ports...)
	}
	m.Ports = Ports(ranges...)
	if m.Ports.Writable() {
		return []*Rule{joinSources(m, g...)}
	}
	var zero, other []*Rule
	for _, r := range g {
		if r.Ports.Contains(0) {
			zero = append(zero, r)
		} else {
			other = append(other, r)
		}
	}
	if len(zero) == 0 || len(other) == 0 {
		return g // cannot happen: ports without 0, or only 0 or "*", are writable
	}
	return append(oldJoinPorts(zero), oldJoinPorts(other)...)
}

// oldFamilyKey is a rule's key without its families, with its ports.
type oldFamilyKey struct {
	Key
	ports string
}

// oldMergeFamilies merges a #ipv4-only rule and its #ipv6-only twin.
func oldMergeFamilies(rules []*Rule) ([]*Rule, bool) {
	key := func(r *Rule) (oldFamilyKey, bool) {
		k := r.Key()
		k.Families = 0
		return oldFamilyKey{k, r.Ports.String()}, r.Families != AllFamilies && r.ImpliedFamilies() == AllFamilies
	}
	return oldMergeGroups(rules, key, func(g []*Rule) []*Rule {
		var v4, v6 []*Rule
		for _, r := range g {
			if r.Families == IPv4 {
				v4 = append(v4, r)
			} else {
				v6 = append(v6, r)
			}
		}
		if len(v4) == 0 || len(v6) == 0 {
			return g
		}
		m := g[0].clone()
		m.Families = AllFamilies
		return []*Rule{joinSources(m, g...)}
	})
}

// oldNetworkKey groups outbound address rules that aggregate.
type oldNetworkKey struct {
	proto ast.Protocol
	fam   Families
	ports string
}

// oldAggregateNetworks aggregates outbound networks into the fewest prefixes.
func oldAggregateNetworks(rules []*Rule) ([]*Rule, bool) {
	key := func(r *Rule) (oldNetworkKey, bool) {
		ok := r.Kind == ast.Outbound && r.Host.Kind == AddressHost && !r.HostMap.IsValid()
		return oldNetworkKey{r.Protocol, r.Families, r.Ports.String()}, ok
	}
	return oldMergeGroups(rules, key, func(g []*Rule) []*Rule {
		var b netipx.IPSetBuilder
		for _, r := range g {
			b.AddPrefix(r.Host.Prefix)
		}
		set, err := b.IPSet()
		if err != nil {
			return g
		}
		prefixes := set.Prefixes()
		if len(prefixes) >= len(g) {
			return g
		}
		// Each rule lies in exactly one of the (sorted, disjoint) prefixes.
		members := make([][]*Rule, len(prefixes))
		for _, r := range g {
			i, _ := slices.BinarySearchFunc(prefixes, r.Host.Prefix.Addr(), func(p netip.Prefix, a netip.Addr) int {
				if p.Contains(a) {
					return 0
				}
				return p.Addr().Compare(a)
			})
			members[i] = append(members[i], r)
		}
		out := make([]*Rule, 0, len(prefixes))
		for i, p := range prefixes {
			m := members[i][0].clone()
			m.Host.Prefix = p
			out = append(out, joinSources(m, members[i]...))
		}
		return out
	})
}

// oldDropped is a rule oldSubsume dropped, and the kept rules that grant what it
// granted.
type oldDropped struct {
	Rule *Rule
	// By grants the rule's own grant.
	By *Rule
	// ResolveBy grants the rule's implied resolve (nil when it has none); it
	// is a resolve rule, or the implied resolve of a kept outbound rule.
	ResolveBy *Rule
}

// oldSubsume sorts rules in canonical order and drops, from last to first,
// every rule whose grant the rules still kept already grant (§4.4): its own
// grant by a single other rule, and its implied resolve (if any) by a
// single other rule, explicit or implied. Of two equal rules the later one
// is dropped. Candidates are found through an index of hosts, so the cost
// grows with the number of rules times the rules sharing a host or
// enclosing it, not with all pairs.
func oldSubsume(rules []*Rule) (kept []*Rule, dropped []oldDropped) {
	sorted := slices.Clone(rules)
	Sort(sorted)
	grants := oldNewCoverIndex()   // explicit outbound and inbound rules
	resolves := oldNewCoverIndex() // explicit and implied resolve rules
	gone := map[*Rule]bool{}
	for _, r := range sorted {
		if r.Kind == ast.Resolve {
			resolves.add(r)
			continue
		}
		grants.add(r)
		if ir := r.ImpliedResolve(); ir != nil {
			resolves.add(ir)
		}
	}
	alive := func(c *Rule) bool {
		if c.ImpliedBy != nil {
			return !gone[c.ImpliedBy]
		}
		return !gone[c]
	}
	for i := len(sorted) - 1; i >= 0; i-- {
		r := sorted[i]
		others := func(c *Rule) bool { return c != r && c.ImpliedBy != r && alive(c) }
		var by *Rule
		if r.Kind == ast.Resolve {
			by = resolves.find(r, others) // explicit or implied
		} else {
			by = grants.find(r, others)
		}
		if by == nil {
			continue
		}
		var rby *Rule
		if ir := r.ImpliedResolve(); ir != nil {
			rby = resolves.find(ir, others)
			if rby == nil {
				continue
			}
		}
		gone[r] = true
		dropped = append(dropped, oldDropped{Rule: r, By: by, ResolveBy: rby})
	}
	for _, r := range sorted {
		if !gone[r] {
			kept = append(kept, r)
		}
	}
	return kept, dropped
}

// oldHostKey is the bucket of a cover index.
type oldHostKey struct {
	kind  ast.Kind
	proto ast.Protocol
	host  Host
	// oldMapping is, in a cover index, what a rule's oldMapping requires of the
	// rules that cover it (oldMappedBy); zero elsewhere. Rules that differ in
	// it cannot cover one another, so many mappings on one host are not
	// compared pairwise.
	oldMapping oldMapping
}

// oldMapping is what a rule's oldMapping requires of the rules that cover it: a
// resolve rule's host oldMapping (only the same one covers it), another
// rule's port oldMapping offset (only a port oldMapping with the same offset).
type oldMapping struct {
	to     netip.Addr
	offset int
	ported bool
}

// oldMappedBy returns what r's oldMapping requires of the rules that cover it,
// and whether r has such a oldMapping.
func oldMappedBy(r *Rule) (oldMapping, bool) {
	if r.Kind == ast.Resolve {
		return oldMapping{to: r.HostMap}, r.HostMap.IsValid()
	}
	if r.PortMap.IsMapped() {
		return oldMapping{offset: r.PortMap.Offset(), ported: true}, true
	}
	return oldMapping{}, false
}

// oldCoverKey is the bucket of r's rules of host h in a cover index.
func oldCoverKey(r *Rule, h Host) oldHostKey {
	m, _ := oldMappedBy(r)
	return oldHostKey{kind: r.Kind, proto: r.Protocol, host: h, oldMapping: m}
}

// oldCoverIndex finds, for a rule, the rules that may cover it: those whose
// host is "*", equal, a wildcard above it, or a network containing it.
// Within a host, a bucket sorted by lowest port skips the rules whose
// ports cannot cover the rule's, so that many rules on one host (port
// mappings on "*", say) are not compared pairwise.
type oldCoverIndex struct {
	byHost map[oldHostKey]*oldCoverBucket
	bits   map[bool][]int // prefix lengths present, by is-IPv6, ascending
	// seq counts the rules added per host (mappings aside): an entry's
	// ordinal, so that entries of one host compare across mappings.
	seq map[oldHostKey]int
	// mapped holds the rules with a oldMapping (oldMappedBy) by host, mappings
	// aside: any of them may cover a rule without one (of the same name,
	// for a lookup).
	mapped map[oldHostKey]*oldCoverBucket
}

// oldCoverBucket holds the rules of one host, each with the hull of its
// ports (lowest and highest; 0, 0 for resolve rules) and its position in
// order of addition. Once queried, entries are sorted by lowest port and
// maxHi[i] is the highest port of entries[:i+1].
type oldCoverBucket struct {
	entries []oldCoverEntry
	maxHi   []int
	sorted  bool
}

type oldCoverEntry struct {
	r       *Rule
	lo, hi  int
	ordinal int
}

// oldPortHull returns the lowest and highest port of a rule (0, 0 for none).
func oldPortHull(r *Rule) (lo, hi int) {
	if len(r.Ports) == 0 {
		return 0, 0
	}
	return int(r.Ports[0].Lo), int(r.Ports[len(r.Ports)-1].Hi)
}

func oldNewCoverIndex() *oldCoverIndex {
	return &oldCoverIndex{byHost: map[oldHostKey]*oldCoverBucket{}, bits: map[bool][]int{},
		seq: map[oldHostKey]int{}, mapped: map[oldHostKey]*oldCoverBucket{}}
}

func (x *oldCoverIndex) add(r *Rule) {
	host := oldHostKey{kind: r.Kind, proto: r.Protocol, host: r.Host}
	lo, hi := oldPortHull(r)
	e := oldCoverEntry{r: r, lo: lo, hi: hi, ordinal: x.seq[host]}
	x.seq[host]++
	x.bucket(x.byHost, oldCoverKey(r, r.Host)).put(e)
	if _, ok := oldMappedBy(r); ok {
		x.bucket(x.mapped, host).put(e)
	}
	addBits(x.bits, r.Host)
}

// bucket returns the bucket of k in m, made when missing.
func (x *oldCoverIndex) bucket(m map[oldHostKey]*oldCoverBucket, k oldHostKey) *oldCoverBucket {
	b := m[k]
	if b == nil {
		b = &oldCoverBucket{}
		m[k] = b
	}
	return b
}

// put adds an entry to the bucket.
func (b *oldCoverBucket) put(e oldCoverEntry) {
	b.entries = append(b.entries, e)
	b.sorted = false
}

// first returns the first rule of the bucket (in order of addition) that
// covers r and passes ok, and its ordinal, or nil. Only entries whose port hull contains
// r's are compared.
func (b *oldCoverBucket) first(r *Rule, ok func(*Rule) bool) (*Rule, int) {
	if !b.sorted {
		slices.SortStableFunc(b.entries, func(x, y oldCoverEntry) int { return x.lo - y.lo })
		b.maxHi = b.maxHi[:0]
		m := -1
		for _, e := range b.entries {
			m = max(m, e.hi)
			b.maxHi = append(b.maxHi, m)
		}
		b.sorted = true
	}
	lo, hi := oldPortHull(r)
	// Entries [0, i) start at or below lo.
	i, _ := slices.BinarySearchFunc(b.entries, lo+1, func(e oldCoverEntry, t int) int { return e.lo - t })
	var best *Rule
	bestOrdinal := math.MaxInt
	for j := i - 1; j >= 0 && b.maxHi[j] >= hi; j-- {
		e := b.entries[j]
		if e.hi >= hi && e.ordinal < bestOrdinal && ok(e.r) && Covers(e.r, r) {
			best, bestOrdinal = e.r, e.ordinal
		}
	}
	return best, bestOrdinal
}

// find returns the first rule (in order of addition) that covers r and
// passes ok, or nil.
func (x *oldCoverIndex) find(r *Rule, ok func(*Rule) bool) *Rule {
	var best *Rule
	_, rMapped := oldMappedBy(r)
	try := func(h Host) {
		c, ordinal := (*Rule)(nil), math.MaxInt
		if b := x.byHost[oldCoverKey(r, h)]; b != nil {
			c, ordinal = b.first(r, ok)
		}
		// Rules with a oldMapping cover some rules without one: a lookup
		// oldMapping its name covers an unmapped lookup of the name, and a
		// port oldMapping a rule that maps nothing.
		if !rMapped && (r.Kind != ast.Resolve || h == r.Host) {
			if b := x.mapped[oldHostKey{kind: r.Kind, proto: r.Protocol, host: h}]; b != nil {
				if m, mo := b.first(r, ok); m != nil && mo < ordinal {
					c, ordinal = m, mo
				}
			}
		}
		if c != nil && (best == nil || c.Index < best.Index) {
			best = c
		}
	}
	coveringHosts(r, x.bits, try)
	return best
}


func TestZZOldSame(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"*", "a.example.com", "example.com", "*.example.com", "*.a.example.com", "10.0.0.1", "10.0.0.0/8", "10.0.0.0/24", "0.0.0.0/0", "[::1]", "[2001:db8::/32]", "localhost", "127.0.0.1", "eth0", "db", "db->10.0.0.5", "x.db"}
	ports := []string{"*", "80", "443", "80,443", "1-1000", "80->8080", "80->81", "1000-1010->2000-2010", "53", "0", "1-65535"}
	fams := []string{"", "", "#ipv4-only", "#ipv6-only"}
	for iter := 0; iter < 3000; iter++ {
		n := 1 + r.IntN(40)
		var flags []string
		for len(flags) < n {
			var f string
			switch r.IntN(3) {
			case 0:
				h := hosts[r.IntN(len(hosts))]
				f = "--allow-resolve=" + h + fams[r.IntN(len(fams))]
			case 1:
				f = "--allow-outbound=" + []string{"tcp", "udp"}[r.IntN(2)] + "://" + hosts[r.IntN(len(hosts))] + ":" + ports[r.IntN(len(ports))] + fams[r.IntN(len(fams))]
			default:
				f = "--allow-inbound=" + []string{"tcp", "udp"}[r.IntN(2)] + "://" + hosts[r.IntN(len(hosts))] + ":" + ports[r.IntN(len(ports))] + fams[r.IntN(len(fams))]
			}
			if ar, _ := grammar.ParseFlag(f, nil); ar != nil {
				flags = append(flags, f)
			}
		}
		p, _ := compile(t, flags...)
		for _, rules := range [][]*Rule{p.Rules, p.Resolves, append(p.OfKind(ast.Outbound), p.OfKind(ast.Inbound)...)} {
			a, b := spell(oldCanonicalize(rules)), spell(Canonicalize(rules))
			if a != b {
				t.Fatalf("%v:\nold %s\nnew %s", flags, a, b)
			}
			k1, d1 := oldSubsume(rules)
			k2, d2 := Subsume(rules)
			if spell(k1) != spell(k2) || len(d1) != len(d2) {
				t.Fatalf("subsume %v", flags)
			}
			for i := range d1 {
				if d1[i].Rule != d2[i].Rule || same(d1[i].By) != same(d2[i].By) || same(d1[i].ResolveBy) != same(d2[i].ResolveBy) || (d1[i].ResolveBy == nil) != (d2[i].ResolveBy == nil) {
					t.Fatalf("dropped %v: %d", flags, i)
				}
			}
			m1, m2 := oldMergeAll(rules), MergeAll(rules)
			if len(m1) != len(m2) {
				t.Fatal("mergeall")
			}
			for i := range m1 {
				if m1[i].String() != m2[i].String() || m1[i].Index != m2[i].Index || len(m1[i].Sources) != len(m2[i].Sources) {
					t.Fatalf("mergeall %v %d", flags, i)
				}
			}
		}
	}
}

func same(r *Rule) string {
	if r == nil {
		return "nil"
	}
	if r.ImpliedBy != nil {
		return fmt.Sprintf("implied %p %s", r.ImpliedBy, r)
	}
	return fmt.Sprintf("%p", r)
}
