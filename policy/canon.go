package policy

import (
	"cmp"
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
)

// Canonicalize returns the canonical rules of SPEC §4 steps 2 to 5 for a
// list of compiled rules: ports are already normal in a compiled rule;
// MergeAll merges to a fixpoint, Subsume drops the rules others grant, Sort
// orders what is left. The result grants exactly what the input grants.
func Canonicalize(rules []*Rule) []*Rule {
	kept, _ := Subsume(MergeAll(rules))
	return kept
}

// MergeAll applies Merge to a fixpoint (§4.3): rules of one key become one
// with the union of their ports; #ipv4-only and #ipv6-only twins become one
// rule for both families; outbound addresses and networks of one protocol,
// family and port set, without mapping, are aggregated into the fewest
// networks. Rules with a port mapping are left alone. It groups rules by
// key, so its cost is about linear in the number of rules. The result is
// in order of Index.
func MergeAll(rules []*Rule) []*Rule {
	cur := slices.Clone(rules)
	for {
		changed := false
		var c bool
		cur, c = mergePorts(cur)
		changed = changed || c
		cur, c = mergeFamilies(cur)
		changed = changed || c
		cur, c = aggregateNetworks(cur)
		changed = changed || c
		if !changed {
			sortStable(cur, func(a, b *Rule) int { return a.Index - b.Index })
			return cur
		}
	}
}

// mergeable reports whether a rule may merge at all.
func mergeable(r *Rule) bool { return !r.PortMap.IsMapped() }

// mergeGroups replaces every group of mergeable rules of equal key (and of
// equal ports, with withPorts) by the result of join, keeping other rules:
// first the rules without a key, then the groups in order of their first
// rule, each in the order of rules.
func mergeGroups[K comparable](rules []*Rule, key func(*Rule) (K, bool), withPorts bool, join func([]*Rule) []*Rule) ([]*Rule, bool) {
	out := make([]*Rule, 0, len(rules))
	seed := maphash.MakeSeed()
	hs := make([]hashed, 0, len(rules))
	for i, r := range rules {
		k, ok := key(r)
		if !ok || !mergeable(r) {
			out = append(out, r)
			continue
		}
		hs = append(hs, hashed{hashRule(seed, k, r, withPorts), int32(i)})
	}
	members, groups := keyGroups(hs, func(i, j int) bool {
		ki, _ := key(rules[i])
		kj, _ := key(rules[j])
		return ki == kj && (!withPorts || slices.Equal(rules[i].Ports, rules[j].Ports))
	})
	changed := false
	var g []*Rule
	for _, gr := range groups {
		if gr.hi-gr.lo == 1 {
			out = append(out, rules[gr.first])
			continue
		}
		g = g[:0]
		for _, pos := range members[gr.lo:gr.hi] {
			g = append(g, rules[pos])
		}
		j := join(g)
		if len(j) != len(g) {
			changed = true
		}
		out = append(out, j...)
	}
	return out, changed
}

// mergePorts merges rules of one key into one with the union of their ports.
func mergePorts(rules []*Rule) ([]*Rule, bool) {
	return mergeGroups(rules, func(r *Rule) (Key, bool) { return r.Key(), true }, false, joinPorts)
}

// joinPorts merges rules of one key into one with the union of their
// ports. When that union cannot be written (port 0 with other ports, not
// the whole inbound "*"), the rules for port 0 and the others merge apart.
func joinPorts(g []*Rule) []*Rule {
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
	return append(joinPorts(zero), joinPorts(other)...)
}

// mergeFamilies merges a #ipv4-only rule and its #ipv6-only twin.
func mergeFamilies(rules []*Rule) ([]*Rule, bool) {
	// A rule's key without its families, with its ports.
	key := func(r *Rule) (Key, bool) {
		k := r.Key()
		k.Families = 0
		return k, r.Families != AllFamilies && r.ImpliedFamilies() == AllFamilies
	}
	return mergeGroups(rules, key, true, func(g []*Rule) []*Rule {
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

// networkKey groups outbound address rules that aggregate (with their ports).
type networkKey struct {
	proto ast.Protocol
	fam   Families
}

// aggregateNetworks aggregates outbound networks into the fewest prefixes.
func aggregateNetworks(rules []*Rule) ([]*Rule, bool) {
	key := func(r *Rule) (networkKey, bool) {
		ok := r.Kind == ast.Outbound && r.Host.Kind == AddressHost && !r.HostMap.IsValid()
		return networkKey{r.Protocol, r.Families}, ok
	}
	return mergeGroups(rules, key, true, func(g []*Rule) []*Rule {
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

// Dropped is a rule Subsume dropped, and the kept rules that grant what it
// granted.
type Dropped struct {
	Rule *Rule
	// By grants the rule's own grant.
	By *Rule
	// ResolveBy grants the rule's implied resolve (nil when it has none); it
	// is a resolve rule, or the implied resolve of a kept outbound rule.
	ResolveBy *Rule
}

// Subsume sorts rules in canonical order and drops, from last to first,
// every rule whose grant the rules still kept already grant (§4.4): its own
// grant by a single other rule, and its implied resolve (if any) by a
// single other rule, explicit or implied. Of two equal rules the later one
// is dropped. Candidates are found through an index of hosts, so the cost
// grows with the number of rules times the rules sharing a host or
// enclosing it, not with all pairs.
func Subsume(rules []*Rule) (kept []*Rule, dropped []Dropped) {
	sorted := slices.Clone(rules)
	Sort(sorted)
	grants := newCoverIndex()   // explicit outbound and inbound rules
	resolves := newCoverIndex() // explicit and implied resolve rules
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
	// A rule is alive while neither it (an implied resolve may be one of
	// rules) nor the rule implying it is gone.
	alive := func(c *Rule) bool {
		return !gone[c] && (c.ImpliedBy == nil || !gone[c.ImpliedBy])
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
		dropped = append(dropped, Dropped{Rule: r, By: by, ResolveBy: rby})
	}
	for _, r := range sorted {
		if !gone[r] {
			kept = append(kept, r)
		}
	}
	return kept, dropped
}

// hostKey is the bucket of a cover index.
type hostKey struct {
	kind  ast.Kind
	proto ast.Protocol
	host  Host
	// mapping is, in a cover index, what a rule's mapping requires of the
	// rules that cover it (mappedBy); zero elsewhere. Rules that differ in
	// it cannot cover one another, so many mappings on one host are not
	// compared pairwise.
	mapping mapping
}

// mapping is what a rule's mapping requires of the rules that cover it: a
// resolve rule's host mapping (only the same one covers it), another
// rule's port mapping offset (only a port mapping with the same offset).
type mapping struct {
	to     netip.Addr
	offset int
	ported bool
}

// mappedBy returns what r's mapping requires of the rules that cover it,
// and whether r has such a mapping.
func mappedBy(r *Rule) (mapping, bool) {
	if r.Kind == ast.Resolve {
		return mapping{to: r.HostMap}, r.HostMap.IsValid()
	}
	if r.PortMap.IsMapped() {
		return mapping{offset: r.PortMap.Offset(), ported: true}, true
	}
	return mapping{}, false
}

// coverKey is the bucket of r's rules of host h in a cover index.
func coverKey(r *Rule, h Host) hostKey {
	m, _ := mappedBy(r)
	return hostKey{kind: r.Kind, proto: r.Protocol, host: h, mapping: m}
}

// coverIndex finds, for a rule, the rules that may cover it: those whose
// host is "*", equal, a wildcard above it, or a network containing it.
// Within a host, entries sorted by lowest port skip the rules whose ports
// cannot cover the rule's, so that many rules on one host (port mappings
// on "*", say) are not compared pairwise. Rules are added first, then
// looked for; the first look sorts the entries by the hash of their host
// (group.go), so that the index holds some 50 bytes a rule and no map.
type coverIndex struct {
	seed    maphash.Seed
	entries []coverEntry
	bits    map[bool][]int // prefix lengths present, by is-IPv6, ascending
	built   bool
	// byHost holds every entry by the hash of its coverKey; mapped the
	// entries of rules with a mapping (mappedBy) by the hash of their
	// host, mappings aside: any of them may cover a rule without one (of
	// the same name, for a lookup). Each is sorted by hash, then lowest
	// port; maxHi[i] is the highest port of the entries of i's hash up to i.
	byHost, mapped hostEntries
}

// hostEntries is a list of entries sorted by the hash of a host key, then
// lowest port.
type hostEntries struct {
	slots []hashed // hash and entry
	maxHi []int32
}

// coverEntry is a rule of a cover index, the hull of its ports (lowest and
// highest; 0, 0 for resolve rules), and its ordinal: its position among
// the rules of its host (mappings aside) in order of addition, so that
// entries of one host compare across mappings.
type coverEntry struct {
	r               *Rule
	lo, hi, ordinal int32
}

// portHull returns the lowest and highest port of a rule (0, 0 for none).
func portHull(r *Rule) (lo, hi int) {
	if len(r.Ports) == 0 {
		return 0, 0
	}
	return int(r.Ports[0].Lo), int(r.Ports[len(r.Ports)-1].Hi)
}

func newCoverIndex() *coverIndex {
	return &coverIndex{seed: maphash.MakeSeed(), bits: map[bool][]int{}}
}

// add adds a rule; it must come before the first find.
func (x *coverIndex) add(r *Rule) {
	lo, hi := portHull(r)
	x.entries = append(x.entries, coverEntry{r: r, lo: int32(lo), hi: int32(hi)})
	addBits(x.bits, r.Host)
}

// hostOf returns the host key of a rule of kind and protocol of r on host
// h, mappings aside.
func hostOf(r *Rule, h Host) hostKey { return hostKey{kind: r.Kind, proto: r.Protocol, host: h} }

// build numbers the entries of each host and sorts them for lookups.
func (x *coverIndex) build() {
	x.built = true
	hs := make([]hashed, len(x.entries))
	for i, e := range x.entries {
		hs[i] = hashed{maphash.Comparable(x.seed, hostOf(e.r, e.r.Host)), int32(i)}
	}
	members, groups := keyGroups(hs, func(i, j int) bool {
		a, b := x.entries[i].r, x.entries[j].r
		return hostOf(a, a.Host) == hostOf(b, b.Host)
	})
	for _, g := range groups {
		for n, i := range members[g.lo:g.hi] {
			x.entries[i].ordinal = int32(n)
		}
	}
	byHost := hs[:0]
	var mapped []hashed
	for i, e := range x.entries {
		byHost = append(byHost, hashed{maphash.Comparable(x.seed, coverKey(e.r, e.r.Host)), int32(i)})
		if _, ok := mappedBy(e.r); ok {
			mapped = append(mapped, hashed{maphash.Comparable(x.seed, hostOf(e.r, e.r.Host)), int32(i)})
		}
	}
	x.byHost = x.sortEntries(byHost)
	x.mapped = x.sortEntries(mapped)
}

// sortEntries sorts entries by hash, then lowest port, then position, and
// computes maxHi.
func (x *coverIndex) sortEntries(slots []hashed) hostEntries {
	slices.SortFunc(slots, func(a, b hashed) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(x.entries[a.pos].lo, x.entries[b.pos].lo), cmp.Compare(a.pos, b.pos))
	})
	maxHi := make([]int32, len(slots))
	for i, s := range slots {
		maxHi[i] = x.entries[s.pos].hi
		if i > 0 && slots[i-1].hash == s.hash {
			maxHi[i] = max(maxHi[i], maxHi[i-1])
		}
	}
	return hostEntries{slots: slots, maxHi: maxHi}
}

// first returns the first rule (in order of addition) among the entries
// of hash h that covers r, is of the host key (is) and passes ok, and its
// ordinal, or nil. Only entries whose port hull contains r's are compared.
func (x *coverIndex) first(he hostEntries, h uint64, is func(*Rule) bool, r *Rule, ok func(*Rule) bool) (*Rule, int32) {
	start, end := hashRun(he.slots, h)
	lo, hi := portHull(r)
	// Entries [start, i) start at or below lo.
	i, _ := slices.BinarySearchFunc(he.slots[start:end], int32(lo+1), func(s hashed, t int32) int { return cmp.Compare(x.entries[s.pos].lo, t) })
	i += start
	var best *Rule
	bestOrdinal := int32(math.MaxInt32)
	for j := i - 1; j >= start && he.maxHi[j] >= int32(hi); j-- {
		e := x.entries[he.slots[j].pos]
		if e.hi >= int32(hi) && e.ordinal < bestOrdinal && is(e.r) && ok(e.r) && Covers(e.r, r) {
			best, bestOrdinal = e.r, e.ordinal
		}
	}
	return best, bestOrdinal
}

// find returns the first rule (in order of addition) that covers r and
// passes ok, or nil.
func (x *coverIndex) find(r *Rule, ok func(*Rule) bool) *Rule {
	if !x.built {
		x.build()
	}
	var best *Rule
	_, rMapped := mappedBy(r)
	try := func(h Host) {
		key := coverKey(r, h)
		c, ordinal := x.first(x.byHost, maphash.Comparable(x.seed, key), func(e *Rule) bool { return coverKey(e, e.Host) == key }, r, ok)
		// Rules with a mapping cover some rules without one: a lookup
		// mapping its name covers an unmapped lookup of the name, and a
		// port mapping a rule that maps nothing.
		if !rMapped && (r.Kind != ast.Resolve || h == r.Host) {
			host := hostOf(r, h)
			m, mo := x.first(x.mapped, maphash.Comparable(x.seed, host), func(e *Rule) bool { return hostOf(e, e.Host) == host }, r, ok)
			if m != nil && mo < ordinal {
				c, ordinal = m, mo
			}
		}
		if c != nil && (best == nil || c.Index < best.Index) {
			best = c
		}
	}
	coveringHosts(r, x.bits, try)
	return best
}

// Sort orders rules canonically (§4.5), keeping the order of rules that
// compare equal.
func Sort(rules []*Rule) { sortStable(rules, Compare) }

// sortStable sorts rules by cmp, keeping the order of rules that compare
// equal: a stable sort in O(n log n) comparisons, where
// slices.SortStableFunc makes O(n log² n) moves.
func sortStable(rules []*Rule, cmp func(a, b *Rule) int) {
	type item struct {
		r   *Rule
		pos int
	}
	items := make([]item, len(rules))
	for i, r := range rules {
		items[i] = item{r, i}
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := cmp(a.r, b.r); c != 0 {
			return c
		}
		return a.pos - b.pos
	})
	for i, it := range items {
		rules[i] = it.r
	}
}

// Compare orders two rules canonically (§4.5): resolve, outbound, inbound;
// tcp before udp; hosts ("*", IPv4, IPv6, localhost, interfaces, names by
// reversed labels with a wildcard just after its apex); lowest port;
// family modifier as written (none, ipv4, ipv6). Ties are broken by
// mappings, then by Index.
func Compare(a, b *Rule) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	if c := CompareHosts(a.Host, b.Host); c != 0 {
		return c
	}
	if c := cmp.Compare(minPort(a), minPort(b)); c != 0 {
		return c
	}
	if c := cmp.Compare(familyRank(a), familyRank(b)); c != 0 {
		return c
	}
	if c := a.HostMap.Compare(b.HostMap); c != 0 {
		return c
	}
	if c := cmp.Compare(a.PortMap.To.Lo, b.PortMap.To.Lo); c != 0 {
		return c
	}
	if c := slices.CompareFunc(a.Ports, b.Ports, func(x, y PortRange) int {
		return cmp.Or(cmp.Compare(x.Lo, y.Lo), cmp.Compare(x.Hi, y.Hi))
	}); c != 0 {
		return c
	}
	return cmp.Compare(a.Index, b.Index)
}

func minPort(r *Rule) int {
	if len(r.Ports) == 0 {
		return -1
	}
	return int(r.Ports.Min())
}

// familyRank ranks a rule by the family modifier it is written with: none,
// ipv4, ipv6. A rule whose address or host mapping implies its family is
// written without a modifier (§4.1), so it ranks as none.
func familyRank(r *Rule) int {
	if r.Families == r.ImpliedFamilies() {
		return 0
	}
	switch r.Families {
	case IPv4:
		return 1
	case IPv6:
		return 2
	}
	return 0
}

// hostRank is the place of a host's group in canonical order.
func hostRank(h Host) int {
	switch h.Kind {
	case AnyHost:
		return 0
	case AddressHost:
		if h.Prefix.Addr().Is6() {
			return 2
		}
		return 1
	case LocalhostHost:
		return 3
	case InterfaceHost:
		return 4
	}
	return 5
}

// CompareHosts orders hosts canonically (§4.5).
func CompareHosts(a, b Host) int {
	if c := cmp.Compare(hostRank(a), hostRank(b)); c != 0 {
		return c
	}
	switch a.Kind {
	case AddressHost:
		return cmp.Or(a.Prefix.Addr().Compare(b.Prefix.Addr()), cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()))
	case InterfaceHost:
		return strings.Compare(a.Name, b.Name)
	case NameHost, WildcardHost:
		return compareNames(a, b)
	}
	return 0
}

// compareNames orders names by their labels reversed, a wildcard just
// after its apex (as if "*" were one more label, before every other).
func compareNames(a, b Host) int {
	an, bn := a.Name, b.Name
	for {
		al, arest, aok := lastLabel(an)
		bl, brest, bok := lastLabel(bn)
		switch {
		case !aok && !bok:
			return cmp.Compare(wildRank(a), wildRank(b))
		case !aok:
			if a.Kind == WildcardHost {
				return strings.Compare("*", bl)
			}
			return -1
		case !bok:
			if b.Kind == WildcardHost {
				return strings.Compare(al, "*")
			}
			return 1
		}
		if c := strings.Compare(al, bl); c != 0 {
			return c
		}
		an, bn = arest, brest
	}
}

func wildRank(h Host) int {
	if h.Kind == WildcardHost {
		return 1
	}
	return 0
}

// lastLabel splits the last label off a name; ok is false for "".
func lastLabel(n string) (label, rest string, ok bool) {
	if n == "" {
		return "", "", false
	}
	i := strings.LastIndexByte(n, '.')
	if i < 0 {
		return n, "", true
	}
	return n[i+1:], n[:i], true
}
