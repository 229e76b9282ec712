package eval

import (
	"net/netip"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Index decides requests with indexes built once from a policy, so that
// the cost of a decision does not grow with the number of rules: exact
// names are hashed; wildcards sit in a trie of reversed labels; networks
// are cut into sorted ranges searched by bisection; the ports of each bucket
// of rules form a small sorted table. Deciding does not allocate (unless a
// name needs normalizing). An Index is read-only after NewIndex, so it is
// safe for concurrent use by many goroutines.
//
// It decides exactly as Reference does; randomized and fuzz tests check it.
type Index struct {
	p      *policy.Policy
	ifaces *Interfaces
	segs   []segment // the arena of port tables

	// Resolve and outbound rules by name.
	anyRes  [2]int32          // first "*" resolve rule, per family
	names   map[string]int32  // exact name -> names entry
	entry   []nameEntry       // exact names (and localhost)
	trie    map[trieKey]int32 // (parent node, label) -> node
	wild    []wildEntry       // trie nodes; node 0 is the root
	out     [2]outboundIndex  // per protocol (tcp, udp)
	in      [2]inboundIndex   // per protocol
	hasWild bool
}

// nameEntry is what rules say about one exact name.
type nameEntry struct {
	res       [2]int32      // first resolve rule matching, per family
	resMapped [2]int32      // first mapping resolve rule, per family
	mapAddr   [2]netip.Addr // its address
	out       [2]tableRef   // outbound rules to this name, per protocol
}

// wildEntry is a trie node: what wildcard rules "*.NAME" say, for the
// name spelled by the path to the node.
type wildEntry struct {
	res [2]int32
	out [2]tableRef
	has bool // some wildcard rule ends here
}

type trieKey struct {
	parent int32
	label  string
}

// outboundIndex holds the outbound rules of one protocol by host.
type outboundIndex struct {
	any   tableRef
	addrs [2]addrIndex // per family
}

// inboundIndex holds the inbound rules of one protocol by local side.
type inboundIndex struct {
	any       tableRef
	localhost tableRef
	addrs     map[netip.Addr]tableRef
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
	x := &Index{p: p, ifaces: ifaces, names: map[string]int32{}, trie: map[trieKey]int32{},
		wild: []wildEntry{{res: [2]int32{-1, -1}}}, anyRes: [2]int32{-1, -1}}
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
				w.has = true
				minTo(&w.res[fi], r.Index)
				x.hasWild = true
			default:
				e := &x.entry[x.nameEntry(r.Host.Name)]
				minTo(&e.res[fi], r.Index)
				if r.HostMap.IsValid() && (e.resMapped[fi] < 0 || int32(r.Index) < e.resMapped[fi]) {
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
		e := tableEntry{idx: int32(r.Index), ports: r.Ports, fams: r.Families, mapped: r.PortMap.IsMapped()}
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
		}
		in := &x.in[pi]
		in.any = tb.build(inAny[pi])
		in.localhost = tb.build(inLocal[pi])
		in.addrs = make(map[netip.Addr]tableRef, len(inAddr[pi]))
		for a, b := range inAddr[pi] {
			in.addrs[a] = tb.build(b)
		}
		in.ifaces = make(map[string]tableRef, len(inIface[pi]))
		for n, b := range inIface[pi] {
			in.ifaces[n] = tb.build(b)
		}
	}
	for k, b := range outName {
		x.entry[k[0]].out[k[1]] = tb.build(b)
	}
	for k, b := range outWild {
		x.wild[k[0]].out[k[1]] = tb.build(b)
		x.wild[k[0]].has = true
		x.hasWild = true
	}
	x.segs = tb.segs
	return x
}

// nameEntry returns the entry of an exact name, making it.
func (x *Index) nameEntry(name string) int32 {
	if i, ok := x.names[name]; ok {
		return i
	}
	i := int32(len(x.entry))
	x.entry = append(x.entry, nameEntry{res: [2]int32{-1, -1}, resMapped: [2]int32{-1, -1}})
	x.names[name] = i
	return i
}

// wildNode returns the trie node of a wildcard's domain, making it.
func (x *Index) wildNode(domain string) int32 {
	node := int32(0)
	for j := len(domain); j > 0; {
		i := strings.LastIndexByte(domain[:j], '.')
		k := trieKey{node, domain[i+1 : j]}
		next, ok := x.trie[k]
		if !ok {
			next = int32(len(x.wild))
			x.wild = append(x.wild, wildEntry{res: [2]int32{-1, -1}})
			x.trie[k] = next
		}
		node = next
		j = i
		if i < 0 {
			break
		}
	}
	return node
}

// nameHits is what the rules say about one name: its exact entry and the
// wildcard nodes matching it (deepest first, at most maxWild).
type nameHits struct {
	exact int32
	wild  [maxWild]int32
	nwild int
	more  bool // more wildcards matched than fit (then use the slow path)
}

const maxWild = 8

// lookupName finds the exact entry and the matching wildcards of a name.
func (x *Index) lookupName(name string, h *nameHits) {
	h.exact = -1
	if i, ok := x.names[name]; ok {
		h.exact = i
	}
	if !x.hasWild {
		return
	}
	node := int32(0)
	for j := len(name); j > 0; {
		i := strings.LastIndexByte(name[:j], '.')
		if i < 0 {
			return // the apex: a wildcard never matches it
		}
		next, ok := x.trie[trieKey{node, name[i+1 : j]}]
		if !ok {
			return
		}
		node = next
		if x.wild[node].has {
			if h.nwild == maxWild {
				h.more = true
			} else {
				h.wild[h.nwild] = node
				h.nwild++
			}
		}
		j = i
	}
}

// Decide decides one request. It does not allocate for requests whose
// names are already canonical (lowercase A-labels, no trailing dot).
func (x *Index) Decide(q Request) Decision {
	q, err := normalize(q)
	if err != nil {
		return invalid(err)
	}
	var rs [2]famResult
	switch q.Op {
	case Lookup:
		if q.Addr.IsValid() {
			return literalLookup(q)
		}
		var h nameHits
		x.lookupName(q.Name, &h)
		for i, f := range families {
			if q.Family == 0 || q.Family == f {
				rs[i] = x.lookup(q.Name, &h, i)
			}
		}
	case Connect, Send:
		var h nameHits
		h.exact = -1
		if q.Name != "" {
			x.lookupName(q.Name, &h)
		}
		for i := range families {
			rs[i] = x.connect(q, &h, i)
		}
	default:
		for i := range families {
			rs[i] = x.listen(q, i)
		}
	}
	return combine(&rs)
}

// lookup decides a lookup of name in family index fi.
func (x *Index) lookup(name string, h *nameHits, fi int) famResult {
	hit := slotHit{first: x.anyRes[fi], mapped: -1}
	var mapAddr netip.Addr
	if h.exact >= 0 {
		e := &x.entry[h.exact]
		hit.merge(e.res[fi], e.resMapped[fi])
		mapAddr = e.mapAddr[fi]
	}
	for _, n := range h.wild[:h.nwild] {
		hit.merge(x.wild[n].res[fi], -1)
	}
	if h.more {
		x.moreWildRes(name, fi, &hit)
	}
	w := hit.winner()
	if w < 0 {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: int(w)}
	switch {
	case hit.mapped >= 0:
		res.answer = mapAddr
	case name == "localhost":
		res.answer = loopbackAddr(families[fi])
	}
	return res
}

// connect decides a connect or send in family index fi.
func (x *Index) connect(q Request, h *nameHits, fi int) famResult {
	f := families[fi]
	addr := q.Addr
	if !addr.IsValid() {
		lk := x.lookup(q.Name, h, fi)
		if !lk.ok {
			return famResult{rule: -1}
		}
		addr = lk.answer
	} else if policy.FamilyOf(addr) != f {
		return famResult{rule: -1}
	}
	pi := protoIndex(q.Op.Protocol())
	out := &x.out[pi]
	hit := slotHit{first: -1, mapped: -1}
	x.query(out.any, q.Port, fi, &hit)
	ai := &out.addrs[fi]
	if addr.IsValid() {
		for n := ai.innermost(toU128(addr)); n >= 0; n = ai.nodes[n].parent {
			x.query(ai.nodes[n].table, q.Port, fi, &hit)
		}
	} else if ai.full >= 0 {
		x.query(ai.nodes[ai.full].table, q.Port, fi, &hit)
	}
	if q.Name != "" && x.resolvedFrom(q.Name, h, fi, addr) {
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
	w := hit.winner()
	if w < 0 {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: int(w), hostAddr: addr, hostPort: q.Port}
	if pm := x.p.Rules[w].PortMap; pm.IsMapped() {
		res.hostPort = pm.Map(q.Port)
	}
	return res
}

// resolvedFrom reports whether an allowed lookup of name can return addr
// (invalid: unknown, from DNS) in family index fi.
func (x *Index) resolvedFrom(name string, h *nameHits, fi int, addr netip.Addr) bool {
	mapped := h.exact >= 0 && x.entry[h.exact].resMapped[fi] >= 0
	switch {
	case !addr.IsValid():
		return !mapped && name != "localhost"
	case mapped:
		return addr == x.entry[h.exact].mapAddr[fi]
	case name == "localhost":
		return policy.LoopbackPrefix(families[fi]).Contains(addr)
	}
	return true
}

// listen decides a listen or bind in family index fi.
func (x *Index) listen(q Request, fi int) famResult {
	f := families[fi]
	local, addr := q.Local, q.Addr
	switch {
	case local == LocalAddr && addr.IsUnspecified():
		local = LocalAny
		if policy.FamilyOf(addr) != f {
			return famResult{rule: -1}
		}
	case local == LocalAddr && policy.FamilyOf(addr) != f:
		return famResult{rule: -1}
	case local == LocalLocalhost:
		local, addr = LocalAddr, loopbackAddr(f)
	}
	in := &x.in[protoIndex(q.Op.Protocol())]
	hit := slotHit{first: -1, mapped: -1}
	x.query(in.any, q.Port, fi, &hit)
	switch local {
	case LocalAddr:
		x.query(in.addrs[addr], q.Port, fi, &hit)
		if policy.IsLoopback(addr) {
			x.query(in.localhost, q.Port, fi, &hit)
		}
		for _, o := range x.ifaces.Owners(addr) {
			x.query(in.ifaces[o], q.Port, fi, &hit)
		}
	case LocalInterface:
		x.query(in.ifaces[q.Name], q.Port, fi, &hit)
		if x.ifaces.IsLoopback(q.Name) {
			x.query(in.localhost, q.Port, fi, &hit)
		}
	}
	w := hit.winner()
	if w < 0 {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: int(w), hostPort: q.Port}
	if local == LocalAddr || local == LocalAny && addr.IsValid() {
		res.hostAddr = addr
	}
	if pm := x.p.Rules[w].PortMap; pm.IsMapped() {
		res.hostPort = pm.Map(q.Port)
	}
	return res
}

// moreWildRes and moreWildOut finish a name matching more than maxWild
// wildcards (a name with that many nested wildcard rules above it) by
// walking the trie again past the first maxWild.
func (x *Index) moreWildRes(name string, fi int, hit *slotHit) {
	x.walkWild(name, func(n int32) { hit.merge(x.wild[n].res[fi], -1) })
}

func (x *Index) moreWildOut(name string, pi int, port uint16, fi int, hit *slotHit) {
	x.walkWild(name, func(n int32) { x.query(x.wild[n].out[pi], port, fi, hit) })
}

func (x *Index) walkWild(name string, visit func(int32)) {
	node, seen := int32(0), 0
	for j := len(name); j > 0; {
		i := strings.LastIndexByte(name[:j], '.')
		if i < 0 {
			return
		}
		next, ok := x.trie[trieKey{node, name[i+1 : j]}]
		if !ok {
			return
		}
		node = next
		if x.wild[node].has {
			seen++
			if seen > maxWild {
				visit(node)
			}
		}
		j = i
	}
}
