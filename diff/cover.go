package diff

import (
	"net/netip"
	"slices"

	"github.com/capspec/capspec/policy"
)

// This file answers the one geometric question the comparison asks: which
// (address, port) pairs of a network times a port set do some rectangles
// (a network times a port set each: what address rules allow) leave
// uncovered? A sweep over the port boundaries keeps the networks in effect
// in a binary trie that knows, per node, whether it is fully covered, so a
// question costs about the number of rectangles times the address length.

// rect is a network times a set of ports.
type rect struct {
	prefix netip.Prefix
	ports  policy.PortSet
}

// trie is a binary trie of networks under a root network, counting how
// many rectangles in effect hold each node; a node is full when a count on
// it is positive or both its halves are full.
type trie struct {
	root  netip.Prefix
	nodes []trieNode
	path  []int32
}

type trieNode struct {
	child [2]int32 // 0: none (the root is node 0, never a child)
	count int32
	full  bool
}

func newTrie(root netip.Prefix) *trie {
	return &trie{root: root.Masked(), nodes: []trieNode{{}}}
}

// bit returns bit i (from the most significant) of a.
func bit(a netip.Addr, i int) int {
	if a.Is4() {
		b := a.As4()
		return int(b[i/8]>>(7-i%8)) & 1
	}
	b := a.As16()
	return int(b[i/8]>>(7-i%8)) & 1
}

// add adds delta to the count of network p, which must overlap the root:
// a network holding the root counts on the root itself.
func (t *trie) add(p netip.Prefix, delta int32) {
	n := int32(0)
	t.path = append(t.path[:0], 0)
	for d := t.root.Bits(); d < p.Bits(); d++ {
		b := bit(p.Addr(), d)
		c := t.nodes[n].child[b]
		if c == 0 {
			c = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{})
			t.nodes[n].child[b] = c
		}
		n = c
		t.path = append(t.path, n)
	}
	t.nodes[n].count += delta
	for i := len(t.path) - 1; i >= 0; i-- {
		x := &t.nodes[t.path[i]]
		x.full = x.count > 0 || x.child[0] != 0 && x.child[1] != 0 && t.nodes[x.child[0]].full && t.nodes[x.child[1]].full
	}
}

// full reports whether the whole root is covered.
func (t *trie) full() bool { return t.nodes[0].full }

// covers reports whether address a (inside the root) is covered.
func (t *trie) covers(a netip.Addr) bool {
	n := int32(0)
	for d := t.root.Bits(); ; d++ {
		x := t.nodes[n]
		if x.count > 0 || x.full {
			return true
		}
		if d >= a.BitLen() {
			return false
		}
		n = x.child[bit(a, d)]
		if n == 0 {
			return false
		}
	}
}

// uncovered returns up to k addresses of the root that no network covers:
// the preferred ones first (documentation and host-like addresses make
// better examples than network addresses), then others, leftmost first.
func (t *trie) uncovered(k int) []netip.Addr {
	var out []netip.Addr
	for _, a := range preferred(t.root) {
		if len(out) < k && !t.covers(a) {
			out = append(out, a)
		}
	}
	if len(out) < k {
		t.walkUncovered(0, t.root, k, &out)
	}
	return out
}

// walkUncovered collects uncovered addresses below node n (network p).
func (t *trie) walkUncovered(n int32, p netip.Prefix, k int, out *[]netip.Addr) {
	if len(*out) >= k {
		return
	}
	x := t.nodes[n]
	if x.full || x.count > 0 {
		return
	}
	if x.child[0] == 0 && x.child[1] == 0 {
		addRegion(p, k, out)
		return
	}
	for b := 0; b < 2 && len(*out) < k; b++ {
		half := halfOf(p, b)
		if x.child[b] == 0 {
			addRegion(half, k, out)
		} else {
			t.walkUncovered(x.child[b], half, k, out)
		}
	}
}

// addRegion adds addresses of an uncovered network, skipping its network
// address when the network is large enough to have hosts, and any
// address already listed.
func addRegion(p netip.Prefix, k int, out *[]netip.Addr) {
	a := p.Addr()
	if p.Addr().BitLen()-p.Bits() >= 2 {
		a = a.Next()
	}
	for ; a.IsValid() && p.Contains(a) && len(*out) < k; a = a.Next() {
		if !slices.Contains(*out, a) {
			*out = append(*out, a)
		}
	}
}

// halfOf returns the lower (b = 0) or upper (b = 1) half of p.
func halfOf(p netip.Prefix, b int) netip.Prefix {
	h := netip.PrefixFrom(p.Addr(), p.Bits()+1)
	if b == 0 {
		return h
	}
	return netip.PrefixFrom(lastAddr(h).Next(), p.Bits()+1)
}

// lastAddr returns the last address of a network.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	if a.Is4() {
		b := a.As4()
		for i := p.Bits(); i < 32; i++ {
			b[i/8] |= 0x80 >> (i % 8)
		}
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(b)
}

// Example addresses tried first: the documentation networks (RFC 5737,
// RFC 3849).
var preferredAddrs = []netip.Addr{
	netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("203.0.113.1"),
	netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"),
}

// preferred returns the example addresses worth trying first in root: the
// documentation addresses for a whole family, else the second address of
// the network (its first host).
func preferred(root netip.Prefix) []netip.Addr {
	if root.Bits() == 0 {
		var out []netip.Addr
		for _, a := range preferredAddrs {
			if root.Contains(a) {
				out = append(out, a)
			}
		}
		return out
	}
	if root.Addr().BitLen()-root.Bits() >= 2 {
		return []netip.Addr{root.Addr().Next()}
	}
	return nil
}

// span is a run of ports [lo, hi] with what the sweep found there: no
// uncovered address (full), or up to two uncovered ones.
type span struct {
	lo, hi int
	full   bool
	addrs  []netip.Addr
}

// sweep cuts ports by the rectangles' port boundaries and, for each run
// of ports of the set, reports whether the rectangles in effect there
// cover root, with up to k uncovered addresses. Rectangles need only
// overlap root; always are networks covered at every port.
func sweep(root netip.Prefix, rects []rect, ports policy.PortSet, always []netip.Prefix, k int) []span {
	type event struct {
		at    int
		p     netip.Prefix
		delta int32
	}
	var events []event
	for _, r := range rects {
		p := clip(r.prefix, root)
		if !p.IsValid() {
			continue
		}
		for _, pr := range r.ports.Intersect(ports) {
			events = append(events, event{int(pr.Lo), p, 1}, event{int(pr.Hi) + 1, p, -1})
		}
	}
	slices.SortFunc(events, func(a, b event) int { return a.at - b.at })
	t := newTrie(root)
	// Each network adds at most one node per bit below the root: room
	// for them at once spares the copies of a growing slice.
	t.nodes = slices.Grow(t.nodes, min(len(rects)*(root.Addr().BitLen()-root.Bits()), 1<<22))
	for _, p := range always {
		if p = clip(p, root); p.IsValid() {
			t.add(p, 1)
		}
	}
	var cuts []int
	for _, e := range events {
		cuts = append(cuts, e.at)
	}
	for _, pr := range ports {
		cuts = append(cuts, int(pr.Lo), int(pr.Hi)+1)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var out []span
	ei := 0
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]-1
		for ei < len(events) && events[ei].at <= lo {
			t.add(events[ei].p, events[ei].delta)
			ei++
		}
		if !ports.Contains(uint16(lo)) {
			continue
		}
		s := span{lo: lo, hi: hi, full: t.full()}
		if !s.full {
			s.addrs = t.uncovered(k)
		}
		if n := len(out); n > 0 && out[n-1].hi+1 == lo && out[n-1].full == s.full && slices.Equal(out[n-1].addrs, s.addrs) {
			out[n-1].hi = hi
			continue
		}
		out = append(out, s)
	}
	return out
}

// clip returns the part of p inside root: p itself, root when p holds it,
// or the invalid prefix when they are disjoint.
func clip(p, root netip.Prefix) netip.Prefix {
	switch {
	case !p.Overlaps(root):
		return netip.Prefix{}
	case p.Bits() <= root.Bits():
		return root
	}
	return p
}

// spansPorts returns the ports of the spans that are not full.
func spansPorts(ss []span) policy.PortSet {
	var rs []policy.PortRange
	for _, s := range ss {
		if !s.full {
			rs = append(rs, policy.PortRange{Lo: uint16(s.lo), Hi: uint16(s.hi)})
		}
	}
	return policy.Ports(rs...)
}
