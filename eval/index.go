package eval

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Index decides requests with indexes built once from a policy, so that
// the cost of a decision does not grow with the number of rules: exact
// names are hashed; a wildcard "*.d" is found by hashing the suffixes of a
// name at label boundaries, only at the label counts wildcard domains have
// (a trie of reversed labels, flattened into one hash); networks
// are cut into sorted ranges searched by bisection; the ports of each bucket
// of rules form a small sorted table; for an address DNS gives, whether the
// networks cover the family, and how they map, is computed per protocol and
// port when the index is built (netCover). Deciding does not allocate (unless a
// name needs normalizing). An Index is read-only after NewIndex, so it is
// safe for concurrent use by many goroutines.
//
// It decides exactly as Reference does; randomized and fuzz tests check it.
type Index struct {
	p      *policy.Policy
	ifaces *Interfaces
	segs   []segment // the arena of port tables
	rank   []uint64  // mapRank of each mapping rule, by index

	// Resolve and outbound rules by name: one hash of names, holding for
	// each name what exact rules and wildcard rules "*.name" say.
	anyRes    [2]int32         // first "*" resolve rule, per family
	names     map[string]int32 // name -> index in entry and wild
	entry     []nameEntry      // rules for exactly the name (and localhost)
	wild      []wildEntry      // rules for the names below it
	wildDepth [2]uint64        // bit d: some wildcard's domain has d labels
	out       [2]outboundIndex // per protocol (tcp, udp)
	in        [2]inboundIndex  // per protocol
}

// nameEntry is what rules say about one exact name.
type nameEntry struct {
	res       [2]int32        // first resolve rule matching, per family
	resMapped [2]int32        // the mapping resolve rule answering, per family (policy.BetterHostMap)
	mapAddr   policy.NameMaps // its address
	out       [2]tableRef     // outbound rules to this name, per protocol
}

// wildEntry is what wildcard rules "*.NAME" say about the names below NAME.
type wildEntry struct {
	res [2]int32
	out [2]tableRef
	has bool // some wildcard rule is for this domain
}

// outboundIndex holds the outbound rules of one protocol by host.
type outboundIndex struct {
	any   tableRef
	addrs [2]addrIndex // per family
	nets  [2]netCover  // per family: the networks for an unknown address
}

// inboundIndex holds the inbound rules of one protocol by local side.
// The interface table is known when the index is built, so the table of an
// address holds every rule matching a listen on it: rules for the address,
// for the interfaces owning it, and for localhost if it is loopback; the
// table of an interface holds its rules, and localhost's for a loopback
// interface.
type inboundIndex struct {
	any       tableRef
	localhost tableRef
	addrs     map[[16]byte]tableRef
	ifaces    map[string]tableRef
}

func protoIndex(p ast.Protocol) int {
	if p == ast.UDP {
		return 1
	}
	return 0
}

// NewIndex builds the indexes of a compiled policy, with the interface
// table inbound requests are decided with (nil: none). Its cost is about
// linear in the number of rules.
func NewIndex(p *policy.Policy, ifaces *Interfaces) *Index {
	x := &Index{p: p, ifaces: ifaces, names: map[string]int32{}, anyRes: [2]int32{-1, -1}}
	x.rank = make([]uint64, len(p.Rules))
	for _, r := range p.Rules {
		if r.PortMap.IsMapped() {
			x.rank[r.Index] = r.MapRank()
		}
	}
	var tb tableBuilder
	minTo := func(slot *int32, idx int) {
		if *slot < 0 || int32(idx) < *slot {
			*slot = int32(idx)
		}
	}
	// Resolve rules, explicit and implied.
	for _, r := range p.Resolves {
		for fi, f := range families {
			if !r.Families.Has(f) {
				continue
			}
			switch r.Host.Kind {
			case policy.AnyHost:
				minTo(&x.anyRes[fi], r.Index)
			case policy.WildcardHost:
				w := &x.wild[x.wildNode(r.Host.Name)]
				minTo(&w.res[fi], r.Index)
			default:
				e := &x.entry[x.nameEntry(r.Host.Name)]
				minTo(&e.res[fi], r.Index)
				if r.MapsName(r.Host.Name, f) && (e.resMapped[fi] < 0 || policy.BetterHostMap(r, p.Rules[e.resMapped[fi]])) {
					// (p.Rules[i] of an implied resolve is the outbound
					// rule implying it: same mapping, same index.)
					e.resMapped[fi] = int32(r.Index)
					e.mapAddr[fi] = r.HostMap
				}
			}
		}
	}
	// Outbound and inbound rules, bucketed by host, in index order.
	type bucket = []tableEntry
	var (
		outAny   [2]bucket
		outName  = map[[2]int32]bucket{} // (entry, proto)
		outWild  = map[[2]int32]bucket{} // (node, proto)
		outNet   [2][2]map[netip.Prefix]bucket
		netOrder [2][2][]netip.Prefix
		netRules [2][2][]*policy.Rule
		inAny    [2]bucket
		inLocal  [2]bucket
		inAddr   [2]map[netip.Addr]bucket
		inIface  [2]map[string]bucket
	)
	for pi := range 2 {
		for fi := range 2 {
			outNet[pi][fi] = map[netip.Prefix]bucket{}
		}
		inAddr[pi] = map[netip.Addr]bucket{}
		inIface[pi] = map[string]bucket{}
	}
	for _, r := range p.Rules {
		if r.Kind == ast.Resolve {
			continue
		}
		e := tableEntry{idx: int32(r.Index), ports: r.Ports, fams: r.Families, mapped: r.PortMap.IsMapped(), rank: x.rank[r.Index]}
		pi := protoIndex(r.Protocol)
		if r.Kind == ast.Outbound {
			switch r.Host.Kind {
			case policy.AnyHost:
				outAny[pi] = append(outAny[pi], e)
			case policy.AddressHost:
				pfx := r.Host.Prefix
				fi := famIndex(policy.FamilyOf(pfx.Addr()))
				if _, ok := outNet[pi][fi][pfx]; !ok {
					netOrder[pi][fi] = append(netOrder[pi][fi], pfx)
				}
				outNet[pi][fi][pfx] = append(outNet[pi][fi][pfx], e)
				if r.Families.Has(families[fi]) {
					netRules[pi][fi] = append(netRules[pi][fi], r)
				}
			case policy.WildcardHost:
				k := [2]int32{x.wildNode(r.Host.Name), int32(pi)}
				outWild[k] = append(outWild[k], e)
			default:
				k := [2]int32{x.nameEntry(r.Host.Name), int32(pi)}
				outName[k] = append(outName[k], e)
			}
			continue
		}
		switch r.Host.Kind {
		case policy.AnyHost:
			inAny[pi] = append(inAny[pi], e)
		case policy.LocalhostHost:
			inLocal[pi] = append(inLocal[pi], e)
		case policy.AddressHost:
			a := r.Host.Prefix.Addr()
			inAddr[pi][a] = append(inAddr[pi][a], e)
		case policy.InterfaceHost:
			inIface[pi][r.Host.Name] = append(inIface[pi][r.Host.Name], e)
		}
	}
	for pi := range 2 {
		x.out[pi].any = tb.build(outAny[pi])
		for fi := range 2 {
			order := netOrder[pi][fi]
			tables := make([]tableRef, len(order))
			for i, pfx := range order {
				tables[i] = tb.build(outNet[pi][fi][pfx])
			}
			x.out[pi].addrs[fi] = buildAddrIndex(order, tables)
			x.out[pi].nets[fi] = buildNetCover(netRules[pi][fi], families[fi], x.rank)
		}
		x.in[pi] = x.buildInbound(&tb, inAny[pi], inLocal[pi], inAddr[pi], inIface[pi])
	}
	for k, b := range outName {
		x.entry[k[0]].out[k[1]] = tb.build(b)
	}
	for k, b := range outWild {
		x.wild[k[0]].out[k[1]] = tb.build(b)
	}
	x.segs = tb.segs
	return x
}

// buildInbound makes the inbound index of one protocol from its buckets.
func (x *Index) buildInbound(tb *tableBuilder, anyB, localB []tableEntry, addrB map[netip.Addr][]tableEntry, ifaceB map[string][]tableEntry) inboundIndex {
	in := inboundIndex{any: tb.build(anyB), localhost: tb.build(localB),
		addrs: map[[16]byte]tableRef{}, ifaces: map[string]tableRef{}}
	join := func(parts ...[]tableEntry) []tableEntry {
		var es []tableEntry
		for _, p := range parts {
			es = append(es, p...)
		}
		slices.SortFunc(es, func(a, b tableEntry) int { return int(a.idx) - int(b.idx) })
		return es
	}
	addrs := map[netip.Addr]bool{}
	for a := range addrB {
		addrs[a] = true
	}
	for n := range ifaceB {
		for _, a := range x.ifaces.Addrs(n) {
			addrs[a] = true
		}
	}
	for a := range addrs {
		owners := x.ifaces.Owners(a)
		parts := [][]tableEntry{addrB[a]}
		for _, o := range owners {
			parts = append(parts, ifaceB[o])
		}
		parts = append(parts, localB)
		es := x.keep(join(parts...), func(h policy.Host) bool { return h.MatchesLocalAddr(a, owners) })
		if len(es) > 0 {
			in.addrs[a.As16()] = tb.build(es)
		}
	}
	names := slices.Collect(maps.Keys(ifaceB))
	names = append(names, x.ifaces.Loopback()...)
	for _, n := range names {
		loopback := x.ifaces.IsLoopback(n)
		es := x.keep(join(ifaceB[n], localB), func(h policy.Host) bool { return h.MatchesInterface(n, loopback) })
		if len(es) > 0 {
			in.ifaces[n] = tb.build(es)
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

// node returns the index of a name's entries, making them.
func (x *Index) node(name string) int32 {
	if i, ok := x.names[name]; ok {
		return i
	}
	i := int32(len(x.entry))
	x.entry = append(x.entry, nameEntry{res: [2]int32{-1, -1}, resMapped: [2]int32{-1, -1}})
	x.wild = append(x.wild, wildEntry{res: [2]int32{-1, -1}})
	x.names[name] = i
	return i
}

// nameEntry returns the entry of an exact name, making it.
func (x *Index) nameEntry(name string) int32 { return x.node(name) }

// wildNode returns the entry of a wildcard's domain, making it.
func (x *Index) wildNode(domain string) int32 {
	i := x.node(domain)
	x.wild[i].has = true
	if d := labelCount(domain); d < 128 {
		x.wildDepth[d/64] |= 1 << (d % 64)
	}
	return i
}

// labelCount returns the number of labels of a name.
func labelCount(name string) int {
	n := 1
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			n++
		}
	}
	return n
}

// nameHits is what the rules say about one name: its exact entry and the
// wildcard entries matching it (deepest first, at most maxWild).
type nameHits struct {
	exact int32
	wild  [maxWild]int32
	nwild int
	more  bool // more wildcards matched than fit (then walkWild finishes)
}

const maxWild = 8

// lookupName finds the exact entry of a name and the wildcards matching
// it: for each proper suffix at a label boundary whose label count some
// wildcard domain has, one hash lookup.
func (x *Index) lookupName(name string, h *nameHits) {
	h.exact = -1
	i, ok := x.names[name]
	if ok {
		h.exact = i
	}
	if x.wildDepth == [2]uint64{} {
		return
	}
	x.walkWild(name, func(n int32) bool {
		if h.nwild == maxWild {
			h.more = true
			return false
		}
		h.wild[h.nwild] = n
		h.nwild++
		return true
	})
}

// walkWild calls visit with every wildcard entry matching name, deepest
// first, until visit returns false.
func (x *Index) walkWild(name string, visit func(int32) bool) {
	d := labelCount(name)
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		d--
		if d >= 128 || x.wildDepth[d/64]&(1<<(d%64)) == 0 {
			continue
		}
		if n, ok := x.names[name[i+1:]]; ok && x.wild[n].has && !visit(n) {
			return
		}
	}
}

// Decide decides one request. It does not allocate for requests whose
// names are already canonical (lowercase A-labels, no trailing dot).
func (x *Index) Decide(q Request) (d Decision) {
	if err := normalize(&q); err != nil {
		return invalid(err)
	}
	d.Rule = -1
	switch q.Op {
	case Lookup:
		if q.Addr.IsValid() {
			return literalLookup(q)
		}
		var h nameHits
		x.lookupName(q.Name, &h)
		for fi := range families {
			if q.Family == 0 || q.Family == families[fi] {
				if rule, answer := x.lookup(q.Name, &h, fi); rule >= 0 {
					d.Answers[fi] = answer
					d.allow(fi, rule, netip.Addr{}, 0)
				}
			}
		}
	case Connect, Send:
		var h nameHits
		h.exact = -1
		if q.Name != "" {
			x.lookupName(q.Name, &h)
		}
		for fi := range families {
			x.connect(&q, &h, fi, &d)
		}
	default:
		for fi := range families {
			x.listen(&q, fi, &d)
		}
	}
	return d
}

// lookup decides a lookup of name in family index fi: the deciding rule
// (-1: denied) and the answer given without DNS, if any.
func (x *Index) lookup(name string, h *nameHits, fi int) (int32, netip.Addr) {
	hit := slotHit{first: x.anyRes[fi], mapped: -1}
	var m policy.NameMaps
	if h.exact >= 0 {
		e := &x.entry[h.exact]
		hit.first = minRule(hit.first, e.res[fi])
		hit.mapped = e.resMapped[fi] // wildcards and "*" map nothing
		m = e.mapAddr
	}
	for _, n := range h.wild[:h.nwild] {
		hit.first = minRule(hit.first, x.wild[n].res[fi])
	}
	if h.more {
		x.moreWildRes(name, fi, &hit)
	}
	if hit.first < 0 {
		return -1, netip.Addr{}
	}
	answer, _, ok := policy.Answer(name, families[fi], m)
	switch {
	case !ok:
		return -1, netip.Addr{} // a mapped name in a family it is not mapped in
	case hit.mapped >= 0:
		return hit.mapped, answer
	}
	return hit.first, answer
}

// maps returns the host mappings of the name of h.
func (x *Index) maps(h *nameHits) policy.NameMaps {
	if h.exact < 0 {
		return policy.NameMaps{}
	}
	return x.entry[h.exact].mapAddr
}

// connect decides a connect or send in family index fi.
func (x *Index) connect(q *Request, h *nameHits, fi int, d *Decision) {
	addr := q.Addr
	if !addr.IsValid() {
		rule, answer := x.lookup(q.Name, h, fi)
		if rule < 0 {
			return
		}
		addr = answer
	} else if (fi == 0) != addr.Is4() {
		return
	}
	if addr.IsValid() && policy.IsUnspecifiedDestination(addr) {
		return // whatever the rules say (SPEC §3.3)
	}
	pi := protoIndex(q.Op.Protocol())
	out := &x.out[pi]
	hit := slotHit{first: -1, mapped: -1}
	x.query(out.any, q.Port, fi, &hit)
	if addr.IsValid() {
		ai := &out.addrs[fi]
		for n := ai.innermost(toU128(addr)); n >= 0; n = ai.nodes[n].parent {
			x.query(ai.nodes[n].table, q.Port, fi, &hit)
		}
	}
	if q.Name != "" && policy.ResolvedFrom(q.Name, families[fi], x.maps(h), addr) {
		if h.exact >= 0 {
			x.query(x.entry[h.exact].out[pi], q.Port, fi, &hit)
		}
		for _, n := range h.wild[:h.nwild] {
			x.query(x.wild[n].out[pi], q.Port, fi, &hit)
		}
		if h.more {
			x.moreWildOut(q.Name, pi, q.Port, fi, &hit)
		}
	}
	if !addr.IsValid() {
		x.decideUnknown(d, fi, hit, &out.nets[fi], q.Port)
		return
	}
	x.decide(d, fi, hit, addr, q.Port)
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

// minRule returns the lower of two rule indexes (-1: none).
func minRule(a, b int32) int32 {
	if a < 0 || b >= 0 && b < a {
		return b
	}
	return a
}

// decide records the winner of hit (if any) in d.
func (x *Index) decide(d *Decision, fi int, hit slotHit, addr netip.Addr, port uint16) {
	w := hit.winner()
	if w < 0 {
		return
	}
	if pm := x.p.Rules[w].PortMap; pm.IsMapped() {
		port = pm.Map(port)
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
	hit := slotHit{first: -1, mapped: -1}
	x.query(in.any, q.Port, fi, &hit)
	switch local {
	case LocalAddr:
		if t, ok := in.addrs[addr.As16()]; ok {
			x.query(t, q.Port, fi, &hit)
		} else if policy.IsLoopback(addr) {
			x.query(in.localhost, q.Port, fi, &hit)
		}
	case LocalInterface:
		if t, ok := in.ifaces[q.Name]; ok {
			x.query(t, q.Port, fi, &hit)
		} else if x.ifaces.IsLoopback(q.Name) {
			x.query(in.localhost, q.Port, fi, &hit)
		}
	}
	if local != LocalAddr && !(local == LocalAny && addr.IsValid()) {
		addr = netip.Addr{}
	}
	x.decide(d, fi, hit, addr, q.Port)
}

// moreWildRes and moreWildOut finish a name matching more than maxWild
// wildcards (a name with that many nested wildcard rules above it).
func (x *Index) moreWildRes(name string, fi int, hit *slotHit) {
	seen := 0
	x.walkWild(name, func(n int32) bool {
		if seen++; seen > maxWild {
			hit.first = minRule(hit.first, x.wild[n].res[fi])
		}
		return true
	})
}

func (x *Index) moreWildOut(name string, pi int, port uint16, fi int, hit *slotHit) {
	seen := 0
	x.walkWild(name, func(n int32) bool {
		if seen++; seen > maxWild {
			x.query(x.wild[n].out[pi], port, fi, hit)
		}
		return true
	})
}
