package eval

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Index decides requests with indexes built once from a policy, so that
// the cost of a decision does not grow with the number of rules. Its
// layout keeps a decision to a few reads of flat arrays:
//
//   - Names: one open-addressing hash table (strTable) of every name and
//     wildcard domain the rules mention, each with one node. A node holds
//     what the rules say about the name itself (the first resolve rule,
//     folded over the wildcards above it and "*"; its mapping; the port
//     table of outbound rules to it) and about the names below it (the
//     same for its wildcard "*.name" and those above). A name found in the
//     table is one probe, reading one slot (which holds the name's first
//     bytes, whether it is canonical, and its node's core: what a
//     decision about the name itself reads); a name the table does not
//     hold is most often told so by a filter of the names (16 bits a
//     name, in the caches) without reading a slot. A name below a
//     wildcard is one probe per label count some wildcard domain has,
//     deepest first, the first found answering, in a table of the
//     wildcard domains alone whose slots hold what a decision about a
//     name below the domain reads (its node's below, wout and up).
//     Outbound wildcard tables are chained to the nearest wildcard above
//     (up), so nothing is copied per name.
//   - Ports: the rules of each bucket (a name, a network, an address, "*")
//     form a port table of sorted segments, flat in one arena, each
//     segment's first port beside its answers (the mapping answers, which
//     few tables have, in a second arena; porttable.go). The table of a
//     bucket of one rule allowing one range of ports without mapping (most
//     buckets) is inline in its 8-byte ref: a query of it reads no arena.
//   - Addresses: networks cut the address space into sorted ranges, flat
//     32-bit numbers for IPv4 (each beside its innermost network),
//     bisected without branches from the ranges of the address's /16 (or
//     /24, where many start); many IPv6 networks of a few prefix lengths
//     are hashed by length instead, the innermost holding an address
//     found with a probe per length (most skipped by a small filter per
//     length; addrtable.go), whose slot holds the network's port table
//     and parent. Inbound addresses (their slots holding their port
//     tables) and interfaces are hashed.
//   - For an address DNS gives, whether the networks cover the family, and
//     how they map, is computed per protocol and port when the index is
//     built (netCover).
//
// Deciding does not allocate (unless a name needs normalizing). An Index
// is read-only after NewIndex, so it is safe for concurrent use by many
// goroutines. Every match it precomputes is asked of the predicates of
// package policy (match.go) when it is built.
//
// It decides exactly as Reference does; randomized and fuzz tests check it.
type Index struct {
	p       *policy.Policy
	ifaces  *Interfaces
	segs    []segment  // the arena of port tables' segments
	segLo   []uint16   // the segments' first ports, parallel to segs, that long tables bisect
	segMaps [][2]int32 // the segments' mapping answers, when some table has them (porttable.go)
	rank    []uint64   // mapRank of each mapping rule, by index

	// Resolve and outbound rules by name.
	names     strTable[nameCore]
	wilds     strTable[wildCore] // the wildcard domains, for the names below them
	nodes     []nameNode         // by name id
	maps      []policy.NameMaps  // host mappings, by nameNode.maps
	anyRes    [2]int32           // first "*" resolve rule, per family
	wildDepth [2]uint64          // bit d: some wildcard's domain has d labels
	maxWild   int                // the most labels of a wildcard's domain
	out       [2]outboundIndex   // per protocol (tcp, udp)
	in        [2]inboundIndex    // per protocol
}

// nameNode is what the rules say about one name and the names below it.
type nameNode struct {
	res    [2]int32    // per family: the first resolve rule matching the name itself (exact, a wildcard above, "*")
	below  [2]int32    // per family: the first resolve rule matching every name below it (its wildcard, those above, "*")
	mapped [2]int32    // per family: the mapping resolve rule answering the name (policy.BetterHostMap), -1
	out    [2]tableRef // per protocol: outbound rules to exactly the name
	wout   [2]tableRef // per protocol: outbound rules to "*.name"
	up     int32       // the nearest name above with outbound wildcard rules, -1
	maps   int32       // index in Index.maps, -1: not mapped
}

// nameCore is what a decision about a name itself reads of its node
// (res, out, up, maps), a copy kept in the name's slot of the name
// table (32 bytes, the slot's other half): a lookup or a connect by a
// name the rules mention reads one slot and no node.
type nameCore struct {
	res  [2]int32
	out  [2]tableRef
	up   int32
	maps int32
}

// wildCore is what a decision about a name below a wildcard's domain
// reads of the domain's node (below, wout, up), a copy kept in the
// domain's slot of the table of wildcard domains (Index.wilds): a lookup
// or a connect by a name below a wildcard reads its domain's slot and no
// node.
type wildCore struct {
	below [2]int32
	wout  [2]tableRef
	up    int32
}

// nameView is where a name is in the index: its own node (self, whose
// core is in the name's slot), the wildcard domain nearest above it
// (wild, its slot's core), or none (node -1).
type nameView struct {
	node int32 // self: the name's node; else >= 0 when below a wildcard domain
	self bool
	core *nameCore // when self
	wild *wildCore // when below a wildcard domain
}

// outboundIndex holds the outbound rules of one protocol by host.
type outboundIndex struct {
	any   tableRef
	addrs [2]addrIndex // per family
	nets  [2]netCover  // per family: the networks for an unknown address
}

// inboundIndex holds the inbound rules of one protocol by local side.
// The interface table is known when the index is built, so the table of an
// address holds the rules for the address and for the interfaces owning it
// (few, whatever the policy). Rules for localhost and "*" have tables of
// their own, asked besides an address's or an interface's: copied into
// every bucket they match, they would make the build quadratic.
type inboundIndex struct {
	any       tableRef
	localhost tableRef
	addrs     addrTable          // address (key16) -> its table (the slot's link)
	ifaces    strTable[struct{}] // interface name -> index in ifaceRefs
	ifaceRefs []tableRef
}

// localhostHost is the host of the inbound rules for localhost, whose
// predicates (package policy) say where the localhost table applies.
var localhostHost = policy.Host{Kind: policy.LocalhostHost}

func protoIndex(p ast.Protocol) int {
	if p == ast.UDP {
		return 1
	}
	return 0
}

// key16 returns an address as a number of its 16-byte form (IPv4 as
// IPv4-mapped), a key that tells the families apart.
func key16(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// netRule is an outbound rule to a network, as plain numbers that sort
// fast: by network, then index, the rules of each network are a run.
type netRule struct {
	addr u128
	bits int32
	idx  int32
}

func compareNetRules(a, b netRule) int {
	switch {
	case a.addr != b.addr:
		if a.addr.less(b.addr) {
			return -1
		}
		return 1
	case a.bits != b.bits:
		return int(a.bits - b.bits)
	}
	return int(a.idx - b.idx)
}

// ruleList is a list of rules in index order, linked through next.
type ruleList struct{ head, tail int32 }

var emptyList = ruleList{-1, -1}

// indexBuilder holds what NewIndex gathers before it makes the tables.
type indexBuilder struct {
	x       *Index
	tb      tableBuilder
	next    []int32     // by rule: the next rule of its list
	byNode  []nodeRules // by node
	entries []tableEntry
}

// nodeRules is what NewIndex gathers about a name before it makes its node.
type nodeRules struct {
	exactRes [2]int32    // per family: the first resolve rule to the name
	wildRes  [2]int32    // per family: the first resolve rule to its wildcard
	out      [2]ruleList // per protocol: the outbound rules to the name
	wout     [2]ruleList // per protocol: the outbound rules to its wildcard
	isWild   bool        // a wildcard's domain
}

// push appends rule i to list l.
func (b *indexBuilder) push(l *ruleList, i int) {
	b.next[i] = -1
	if l.tail < 0 {
		l.head = int32(i)
	} else {
		b.next[l.tail] = int32(i)
	}
	l.tail = int32(i)
}

// entry returns the table entry of a rule.
func (b *indexBuilder) entry(r *policy.Rule) tableEntry {
	return tableEntry{idx: int32(r.Index), ports: r.Ports, fams: r.Families, mapped: r.PortMap.IsMapped(), rank: b.x.rank[r.Index]}
}

// table builds the port table of a list of rules.
func (b *indexBuilder) table(l ruleList) tableRef {
	if l.head < 0 {
		return tableRef{}
	}
	es := b.entries[:0]
	for i := l.head; i >= 0; i = b.next[i] {
		es = append(es, b.entry(b.x.p.Rules[i]))
	}
	b.entries = es
	return b.tb.build(es)
}

// node returns the id of a name's node, making it.
func (b *indexBuilder) node(name string) int32 {
	id, isNew := b.x.names.add(name, isCanonical)
	if isNew {
		b.x.nodes = append(b.x.nodes, nameNode{res: [2]int32{-1, -1}, below: [2]int32{-1, -1}, mapped: [2]int32{-1, -1}, up: -1, maps: -1})
		b.byNode = append(b.byNode, nodeRules{exactRes: [2]int32{-1, -1}, wildRes: [2]int32{-1, -1},
			out: [2]ruleList{emptyList, emptyList}, wout: [2]ruleList{emptyList, emptyList}})
	}
	return id
}

// wildNode returns the node of a wildcard's domain, making it.
func (b *indexBuilder) wildNode(domain string) int32 {
	if d := labelCount(domain); d < 128 {
		b.x.wildDepth[d/64] |= 1 << (d % 64)
		b.x.maxWild = max(b.x.maxWild, d)
	}
	n := b.node(domain)
	b.byNode[n].isWild = true
	return n
}

// minTo lowers *slot to idx.
func minTo(slot *int32, idx int) {
	if *slot < 0 || int32(idx) < *slot {
		*slot = int32(idx)
	}
}

// NewIndex builds the indexes of a compiled policy, with the interface
// table inbound requests are decided with (nil: none). Its cost is about
// linear in the number of rules.
func NewIndex(p *policy.Policy, ifaces *Interfaces) *Index {
	// One pass counts what the tables will hold, so that each is made
	// once at its size: the names (every name of an implied resolve is
	// its outbound rule's), their bytes, the segments, the networks and
	// inbound addresses.
	x := &Index{p: p, ifaces: ifaces, anyRes: [2]int32{-1, -1}}
	x.rank = make([]uint64, len(p.Rules))
	var segs, names int
	var netRuleN [2][2]int
	var inAddrN, inIfaceN [2]int
	for _, r := range p.Rules {
		if r.PortMap.IsMapped() {
			x.rank[r.Index] = r.MapRank()
		}
		if r.Kind != ast.Resolve {
			segs += 2*len(r.Ports) + 1
		}
		pi := protoIndex(r.Protocol)
		switch k := r.Host.Kind; {
		case k == policy.AnyHost:
		case r.Kind == ast.Inbound && k == policy.AddressHost:
			inAddrN[pi]++
		case r.Kind == ast.Inbound && k == policy.InterfaceHost:
			inIfaceN[pi]++
		case r.Kind == ast.Inbound:
		case k == policy.AddressHost:
			netRuleN[pi][famIndex(policy.FamilyOf(r.Host.Prefix.Addr()))]++
		default:
			names++
		}
	}
	x.names = newStrTableFor[nameCore](names)
	x.names.withFilter(names)
	b := &indexBuilder{x: x, next: make([]int32, len(p.Rules)),
		byNode: make([]nodeRules, 0, names)}
	b.tb.segs = make([]segment, 0, segs)
	b.tb.segLo = make([]uint16, 0, segs)
	b.tb.inline = true
	x.nodes = make([]nameNode, 0, names)
	// Resolve rules, explicit and implied.
	var mapRule [][2]*policy.Rule // by node: the mapping rule answering it
	// (An implied resolve has the index and host of its outbound rule:
	// nodeOf keeps the name's node for it, found once.)
	nodeOf := make([]int32, len(p.Rules))
	for _, r := range p.Resolves {
		n := int32(-1)
		switch {
		case !r.Families.Has(families[0]) && !r.Families.Has(families[1]):
			continue
		case r.Host.Kind == policy.AnyHost:
		case r.Host.Kind == policy.WildcardHost:
			n = b.wildNode(r.Host.Name)
		default:
			n = b.node(r.Host.Name)
		}
		nodeOf[r.Index] = n + 1
		for fi, f := range families {
			if !r.Families.Has(f) {
				continue
			}
			switch r.Host.Kind {
			case policy.AnyHost:
				minTo(&x.anyRes[fi], r.Index)
			case policy.WildcardHost:
				minTo(&b.byNode[n].wildRes[fi], r.Index)
			default:
				minTo(&b.byNode[n].exactRes[fi], r.Index)
				if !r.MapsName(r.Host.Name, f) {
					continue
				}
				for len(mapRule) <= int(n) {
					mapRule = append(mapRule, [2]*policy.Rule{})
				}
				// (p.Rules[i] of an implied resolve is the outbound
				// rule implying it: same mapping, same index.)
				if policy.BetterHostMap(r, mapRule[n][fi]) {
					mapRule[n][fi] = r
				}
			}
		}
	}
	for n, rs := range mapRule {
		var m policy.NameMaps
		for fi, r := range rs {
			if r != nil {
				m[fi] = r.HostMap
				x.nodes[n].mapped[fi] = int32(r.Index)
			}
		}
		if m.Mapped() {
			x.nodes[n].maps = int32(len(x.maps))
			x.maps = append(x.maps, m)
		}
	}
	// Outbound and inbound rules, listed by host, in index order.
	var (
		outAny   [2]ruleList
		netsBy   [2][2][]netRule // per protocol and family: the rules to networks
		netRules [2][2][]*policy.Rule
		inAny    [2]ruleList
		inLocal  [2]ruleList
		inAddr   [2]map[netip.Addr][]tableEntry
		inIface  [2]map[string][]tableEntry
	)
	for pi := range 2 {
		outAny[pi], inAny[pi], inLocal[pi] = emptyList, emptyList, emptyList
		inAddr[pi] = make(map[netip.Addr][]tableEntry, inAddrN[pi])
		inIface[pi] = make(map[string][]tableEntry, inIfaceN[pi])
		for fi := range 2 {
			netsBy[pi][fi] = make([]netRule, 0, netRuleN[pi][fi])
			netRules[pi][fi] = make([]*policy.Rule, 0, netRuleN[pi][fi])
		}
	}
	for _, r := range p.Rules {
		pi := protoIndex(r.Protocol)
		switch {
		case r.Kind == ast.Resolve:
		case r.Kind == ast.Outbound && r.Host.Kind == policy.AnyHost:
			b.push(&outAny[pi], r.Index)
		case r.Kind == ast.Outbound && r.Host.Kind == policy.AddressHost:
			pfx := r.Host.Prefix
			fi := famIndex(policy.FamilyOf(pfx.Addr()))
			netsBy[pi][fi] = append(netsBy[pi][fi], netRule{key16(pfx.Addr()), int32(pfx.Bits()), int32(r.Index)})
			if r.Families.Has(families[fi]) {
				netRules[pi][fi] = append(netRules[pi][fi], r)
			}
		case r.Kind == ast.Outbound && r.Host.Kind == policy.WildcardHost:
			n := nodeOf[r.Index] - 1
			if n < 0 || x.names.keys[n] != r.Host.Name {
				n = b.wildNode(r.Host.Name)
			}
			b.push(&b.byNode[n].wout[pi], r.Index)
		case r.Kind == ast.Outbound:
			n := nodeOf[r.Index] - 1
			if n < 0 || x.names.keys[n] != r.Host.Name {
				n = b.node(r.Host.Name)
			}
			b.push(&b.byNode[n].out[pi], r.Index)
		case r.Host.Kind == policy.AnyHost:
			b.push(&inAny[pi], r.Index)
		case r.Host.Kind == policy.LocalhostHost:
			b.push(&inLocal[pi], r.Index)
		case r.Host.Kind == policy.AddressHost:
			a := r.Host.Prefix.Addr()
			inAddr[pi][a] = append(inAddr[pi][a], b.entry(r))
		case r.Host.Kind == policy.InterfaceHost:
			inIface[pi][r.Host.Name] = append(inIface[pi][r.Host.Name], b.entry(r))
		}
	}
	b.finishNames()
	for i := range x.names.slots {
		if sl := &x.names.slots[i]; sl.id1 != 0 {
			nd := &x.nodes[sl.id1-1]
			sl.val = nameCore{res: nd.res, out: nd.out, up: nd.up, maps: nd.maps}
		}
	}
	nw := 0
	for i := range b.byNode {
		if b.byNode[i].isWild {
			nw++
		}
	}
	x.wilds = newStrTableFor[wildCore](nw)
	for id := range b.byNode {
		if b.byNode[id].isWild {
			name, nd := x.names.keys[id], &x.nodes[id]
			sl, _ := x.wilds.addSlot(name, nil)
			sl.val = wildCore{below: nd.below, wout: nd.wout, up: nd.up}
		}
	}
	for pi := range 2 {
		x.out[pi].any = b.table(outAny[pi])
		for fi := range 2 {
			// The distinct networks, sorted, and the table of each.
			rs := netsBy[pi][fi]
			slices.SortFunc(rs, compareNetRules)
			var nets []netip.Prefix
			var tables []tableRef
			for i := 0; i < len(rs); {
				j := i + 1
				for j < len(rs) && rs[j].addr == rs[i].addr && rs[j].bits == rs[i].bits {
					j++
				}
				es := b.entries[:0]
				for _, nr := range rs[i:j] {
					es = append(es, b.entry(p.Rules[nr.idx]))
				}
				b.entries = es
				if nets == nil {
					nets = make([]netip.Prefix, 0, len(rs))
					tables = make([]tableRef, 0, len(rs))
				}
				nets = append(nets, p.Rules[rs[i].idx].Host.Prefix)
				tables = append(tables, b.tb.build(es))
				i = j
			}
			x.out[pi].addrs[fi] = buildAddrIndex(nets, tables)
			x.out[pi].nets[fi] = buildNetCover(netRules[pi][fi], families[fi], x.rank)
		}
		x.in[pi] = x.buildInbound(&b.tb, b.table(inAny[pi]), b.table(inLocal[pi]), inAddr[pi], inIface[pi])
	}
	x.segs, x.segLo, x.segMaps = b.tb.segs, b.tb.segLo, b.tb.segMaps
	return x
}

// finishNames folds what the rules say about each name over the names
// above it (parents before children) and makes the nodes' port tables.
func (b *indexBuilder) finishNames() {
	x := b.x
	n := len(x.nodes)
	// The parent of a node is the nearest name above it that is a
	// wildcard's domain (only those carry what is folded), found at the
	// label counts wildcard domains have.
	parent := make([]int32, n)
	depthOf := make([]int32, n)
	var start []int32 // by depth+1: how many names have it, then where they start in order
	for id, name := range x.names.keys {
		parent[id] = -1
		d := labelCount(name)
		for i, k := 0, d; i < len(name) && x.maxWild > 0; i++ {
			if name[i] != '.' {
				continue
			}
			if k--; k > x.maxWild || k >= 128 || x.wildDepth[k/64]&(1<<(k%64)) == 0 {
				continue
			}
			if a := x.names.find(name[i+1:]); a >= 0 && b.byNode[a].isWild {
				parent[id] = a
				break
			}
		}
		for len(start) <= d+1 {
			start = append(start, 0)
		}
		start[d+1]++
		depthOf[id] = int32(d)
	}
	// The ids by depth, shallowest first (a counting sort).
	for d := 1; d < len(start); d++ {
		start[d] += start[d-1]
	}
	order := make([]int32, n)
	for id, d := range depthOf {
		order[start[d]] = int32(id)
		start[d]++
	}
	hasWout := func(id int32) bool { return b.byNode[id].wout[0].head >= 0 || b.byNode[id].wout[1].head >= 0 }
	for _, id := range order {
		nd := &x.nodes[id]
		above := x.anyRes
		if a := parent[id]; a >= 0 {
			above = x.nodes[a].below
			if hasWout(a) {
				nd.up = a
			} else {
				nd.up = x.nodes[a].up
			}
		}
		br := &b.byNode[id]
		for fi := range 2 {
			nd.res[fi], nd.below[fi] = above[fi], above[fi]
			minTo32(&nd.res[fi], br.exactRes[fi])
			minTo32(&nd.below[fi], br.wildRes[fi])
		}
		for pi := range 2 {
			nd.out[pi] = b.table(br.out[pi])
			nd.wout[pi] = b.table(br.wout[pi])
		}
	}
}

// minTo32 lowers *slot to idx (-1: none).
func minTo32(slot *int32, idx int32) {
	if idx >= 0 {
		minTo(slot, int(idx))
	}
}

// buildInbound makes the inbound index of one protocol from the tables of
// "*" and localhost and the rules by address and by interface.
func (x *Index) buildInbound(tb *tableBuilder, anyT, localT tableRef, addrB map[netip.Addr][]tableEntry, ifaceB map[string][]tableEntry) inboundIndex {
	in := inboundIndex{any: anyT, localhost: localT, ifaces: newStrTableFor[struct{}](4)}
	addrs := make([]netip.Addr, 0, len(addrB))
	for a := range addrB {
		addrs = append(addrs, a)
	}
	for n := range ifaceB {
		addrs = append(addrs, x.ifaces.Addrs(n)...)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	in.addrs.reserve(len(addrs))
	var es []tableEntry
	for _, a := range addrs {
		owners := x.ifaces.Owners(a)
		es = append(es[:0], addrB[a]...)
		for _, o := range owners {
			es = append(es, ifaceB[o]...)
		}
		if len(owners) > 0 { // (each part is in index order)
			slices.SortFunc(es, func(a, b tableEntry) int { return int(a.idx) - int(b.idx) })
		}
		es = x.keep(es, func(h policy.Host) bool { return h.MatchesLocalAddr(a, owners) })
		if len(es) > 0 {
			in.addrs.set(key16(a), 0, addrLink{table: tb.build(es), parent: -1})
		}
	}
	names := make([]string, 0, len(ifaceB))
	for n := range ifaceB {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		loopback := x.ifaces.IsLoopback(n)
		es = x.keep(append(es[:0], ifaceB[n]...), func(h policy.Host) bool { return h.MatchesInterface(n, loopback) })
		if len(es) > 0 {
			in.ifaces.add(n, nil)
			in.ifaceRefs = append(in.ifaceRefs, tb.build(es))
		}
	}
	return in
}

// keep returns the entries whose rules' hosts match (the buckets hold the
// candidates; the predicate of package policy decides).
func (x *Index) keep(es []tableEntry, match func(policy.Host) bool) []tableEntry {
	out := es[:0]
	for _, e := range es {
		if match(x.p.Rules[e.idx].Host) {
			out = append(out, e)
		}
	}
	return out
}

// labelCount returns the number of labels of a name.
func labelCount(name string) int { return strings.Count(name, ".") + 1 }

// findName returns where a (normalized) name is in the index: its own
// node, else the node of the deepest name above it at a label count some
// wildcard domain has (whose "below" answers for every name under it),
// else none.
func (x *Index) findName(name string) nameView {
	if sl := x.names.findSlot(name); sl != nil {
		return nameView{node: sl.id1 - 1, self: true, core: &sl.val}
	}
	return x.findBelow(name)
}

// findBelow is findName for a name not in the table itself.
func (x *Index) findBelow(name string) nameView {
	if x.maxWild == 0 {
		return nameView{node: -1}
	}
	// The suffix after the k-th dot has labelCount-k labels; the deepest
	// first.
	d := labelCount(name)
	for i := 0; d > 1; {
		j := strings.IndexByte(name[i:], '.')
		if j < 0 {
			break
		}
		i += j + 1
		d--
		if d > x.maxWild || d >= 128 || x.wildDepth[d/64]&(1<<(d%64)) == 0 {
			continue
		}
		if sl := x.wilds.findSlot(name[i:]); sl != nil {
			return nameView{node: sl.id1 - 1, wild: &sl.val}
		}
	}
	return nameView{node: -1}
}

// isCanonical reports whether NormalizeName returns name unchanged.
func isCanonical(name string) bool {
	n, err := NormalizeName(name)
	return err == nil && n == name
}

// nameOf normalizes the DNS name of q (as normalize does) and finds it in
// the index (findName). A name the table holds as canonical (its slot's
// flag: NewIndex checks each, isCanonical) needs no normalizing: the
// commonest requests, names the rules mention, skip NormalizeName's check.
// Any other name is normalized first.
func (x *Index) nameOf(q *Request) (nameView, error) {
	sl := x.names.findSlot(q.Name)
	if sl != nil && sl.flag {
		return nameView{node: sl.id1 - 1, self: true, core: &sl.val}, nil
	}
	name, err := NormalizeName(q.Name)
	if err != nil {
		return nameView{node: -1}, err
	}
	if name != q.Name || sl != nil {
		q.Name = name
		return x.findName(name), nil
	}
	return x.findBelow(name), nil // (not in the table itself: probed above)
}

// resRule returns the first resolve rule allowing the lookup of the name
// of v in family index fi, or -1.
func (x *Index) resRule(v nameView, fi int) int32 {
	switch {
	case v.node < 0:
		return x.anyRes[fi]
	case v.self:
		return v.core.res[fi]
	}
	return v.wild.below[fi]
}

// mapsOf returns the host mappings of the name of v, nil for none.
func (x *Index) mapsOf(v nameView) *policy.NameMaps {
	if !v.self || v.core.maps < 0 {
		return nil
	}
	return &x.maps[v.core.maps]
}

// answer is policy.Answer for a name with the mappings m (nil: none)
// in family index fi: the address the lookup gives without DNS, if any,
// and whether it gives any. A name neither mapped nor localhost, the
// commonest, is answered without copying the mappings.
func answer(name string, fi int, m *policy.NameMaps) (netip.Addr, bool) {
	if m == nil {
		if name != "localhost" {
			return netip.Addr{}, true
		}
		m = &policy.NameMaps{}
	}
	a, _, ok := policy.Answer(name, families[fi], *m)
	return a, ok
}

// resolvedFrom is policy.ResolvedFrom for a name with the mappings m
// (nil: none) in family index fi.
func resolvedFrom(name string, fi int, m *policy.NameMaps, a netip.Addr) bool {
	if m == nil {
		if name != "localhost" {
			return true
		}
		m = &policy.NameMaps{}
	}
	return policy.ResolvedFrom(name, families[fi], *m, a)
}

// Decide decides one request. It does not allocate for requests whose
// names are already canonical (lowercase A-labels, no trailing dot).
func (x *Index) Decide(q Request) (d Decision) {
	name, err := normalizeFields(&q)
	if err != nil {
		return invalid(err)
	}
	v := nameView{node: -1}
	if name {
		if v, err = x.nameOf(&q); err != nil {
			return invalid(err)
		}
	}
	d.Rule = -1
	switch q.Op {
	case Lookup:
		if q.Addr.IsValid() {
			return literalLookup(q)
		}
		m := x.mapsOf(v)
		for fi := range families {
			if q.Family == 0 || q.Family == families[fi] {
				if rule, answer := x.lookup(q.Name, v, m, fi); rule >= 0 {
					d.Answers[fi] = answer
					d.allow(fi, rule, netip.Addr{}, 0)
				}
			}
		}
	case Connect, Send:
		x.connect(&q, v, &d)
	default:
		for fi := range families {
			x.listen(&q, fi, &d)
		}
	}
	return d
}

// lookup decides a lookup of name (at v, mapped to m) in family index fi:
// the deciding rule (-1: denied) and the answer given without DNS, if any.
func (x *Index) lookup(name string, v nameView, m *policy.NameMaps, fi int) (int32, netip.Addr) {
	first := x.resRule(v, fi)
	if first < 0 {
		return -1, netip.Addr{}
	}
	a, ok := answer(name, fi, m)
	if !ok {
		return -1, netip.Addr{} // a mapped name in a family it is not mapped in
	}
	if v.self && v.core.maps >= 0 { // (a name mapped by a rule has maps)
		if mr := x.nodes[v.node].mapped[fi]; mr >= 0 {
			return mr, a
		}
	}
	return first, a
}

// queryName merges into h the answers of the outbound tables of protocol
// pi of the rules to the name of v: its own, and the wildcards above it;
// fi < 0 for both families.
func (x *Index) queryName(v nameView, pi int, port uint16, fi int, h *[2]slotHit) {
	if v.node < 0 {
		return
	}
	var t tableRef
	var up int32
	if v.self {
		t, up = v.core.out[pi], v.core.up
	} else {
		t, up = v.wild.wout[pi], v.wild.up
	}
	for a := up; ; a = x.nodes[a].up {
		if fi < 0 {
			x.query2(t, port, h)
		} else {
			x.query(t, port, fi, &h[fi])
		}
		if a < 0 {
			return
		}
		t = x.nodes[a].wout[pi]
	}
}

// connect decides a connect or send; v is where its name is in the index.
func (x *Index) connect(q *Request, v nameView, d *Decision) {
	pi := protoIndex(q.Op.Protocol())
	m := x.mapsOf(v)
	if q.Addr.IsValid() {
		x.connectAddr(q, v, m, famIndex(policy.FamilyOf(q.Addr)), q.Addr, pi, d)
		return
	}
	// By name: an address an allowed lookup gives. Where DNS gives it, the
	// same rules decide in both families (those matching every address).
	out := &x.out[pi]
	var hits [2]slotHit
	queried := false
	for fi := range families {
		rule, answer := x.lookup(q.Name, v, m, fi)
		switch {
		case rule < 0:
		case answer.IsValid():
			x.connectAddr(q, v, m, fi, answer, pi, d)
		default:
			if !queried {
				hits = [2]slotHit{noHit, noHit}
				x.query2(out.any, q.Port, &hits)
				if resolvedFrom(q.Name, fi, m, netip.Addr{}) {
					x.queryName(v, pi, q.Port, -1, &hits)
				}
				queried = true
			}
			x.decideUnknown(d, fi, hits[fi], &out.nets[fi], q.Port)
		}
	}
}

// connectAddr decides a connect or send to the address addr of family
// index fi, resolved from q.Name (at v, mapped to m) if it has one.
func (x *Index) connectAddr(q *Request, v nameView, m *policy.NameMaps, fi int, addr netip.Addr, pi int, d *Decision) {
	if policy.IsUnspecifiedDestination(addr) {
		return // whatever the rules say (SPEC §3.3)
	}
	out := &x.out[pi]
	var hits [2]slotHit
	hits[fi] = noHit
	x.query(out.any, q.Port, fi, &hits[fi])
	ai := &out.addrs[fi]
	for n, l := ai.innermostLink(addr); n >= 0; {
		x.query(l.table, q.Port, fi, &hits[fi])
		if n = l.parent; n >= 0 {
			l = ai.links[n]
		}
	}
	if q.Name != "" && resolvedFrom(q.Name, fi, m, addr) {
		x.queryName(v, pi, q.Port, fi, &hits)
	}
	x.decide(d, fi, hits[fi], addr, q.Port)
}

// decideUnknown decides a connect to an address DNS gives, from what the
// rules matching every address say (hit), as Reference.connectUnknown:
// allowed when they match or the networks cover the family; the host port
// is the one every address gets, or 0.
func (x *Index) decideUnknown(d *Decision, fi int, hit slotHit, nc *netCover, port uint16) {
	cs := nc.at(port)
	outside := int32(0)
	if hit.mapped >= 0 {
		outside = int32(x.p.Rules[hit.mapped].PortMap.Offset())
	}
	if cs.cover {
		hit.merge(cs.first, cs.mapped, x.rank)
	}
	w := hit.winner()
	if w < 0 {
		return
	}
	known, off := true, outside
	if cs.maps != mapsNone {
		off = cs.off
		known = !cs.mixed && (cs.maps == mapsAll || off == outside)
	}
	var hostPort uint16
	if known {
		hostPort = uint16(int32(port) + off)
	}
	d.allow(fi, w, netip.Addr{}, hostPort)
}

// decide records the winner of hit (if any) in d.
func (x *Index) decide(d *Decision, fi int, hit slotHit, addr netip.Addr, port uint16) {
	w := hit.winner()
	if w < 0 {
		return
	}
	// The winner maps the port only if a mapping rule won: a table paints
	// every mapping rule into its mapping slots, so a first rule that maps
	// is a mapping hit too. Other decisions do not read the rule.
	if hit.mapped >= 0 {
		port = x.p.Rules[w].PortMap.Map(port)
	}
	d.allow(fi, w, addr, port)
}

// listen decides a listen or bind in family index fi.
func (x *Index) listen(q *Request, fi int, d *Decision) {
	local, addr := q.Local, q.Addr
	switch {
	case local == LocalAddr && (fi == 0) != addr.Is4():
		return
	case local == LocalAddr && addr.IsUnspecified():
		local = LocalAny
	case local == LocalLocalhost:
		local, addr = LocalAddr, policy.LoopbackAddr(families[fi])
	}
	in := &x.in[protoIndex(q.Op.Protocol())]
	hit := noHit
	x.query(in.any, q.Port, fi, &hit)
	switch local {
	case LocalAddr:
		if sl := in.addrs.get(key16(addr)); sl != nil {
			x.query(sl.link.table, q.Port, fi, &hit)
		}
		if in.localhost.n != 0 && localhostHost.MatchesLocalAddr(addr, nil) {
			x.query(in.localhost, q.Port, fi, &hit)
		}
	case LocalInterface:
		if i := in.ifaces.find(q.Name); i >= 0 {
			x.query(in.ifaceRefs[i], q.Port, fi, &hit)
		}
		if in.localhost.n != 0 && localhostHost.MatchesInterface(q.Name, x.ifaces.IsLoopback(q.Name)) {
			x.query(in.localhost, q.Port, fi, &hit)
		}
	}
	if local != LocalAddr && !(local == LocalAny && addr.IsValid()) {
		addr = netip.Addr{}
	}
	x.decide(d, fi, hit, addr, q.Port)
}
