package eval

import (
	"cmp"
	"math"
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/capspec/capspec/policy"
)

// netCover says, port by port, what the networks (outbound address rules)
// of one protocol and family say about an address DNS gives, which is not
// known: whether together they cover every address of the family (and
// then the first of them and the winning mapping one), and how the mapping
// networks among them map the port. It is computed once, so that deciding a
// connect by name stays one bisection; it is empty when the networks cover
// the family on no port and none maps.
type netCover struct {
	segs []coverSeg
}

// coverSeg holds for the ports from lo up to the next segment's lo.
type coverSeg struct {
	lo    uint16
	cover bool      // the networks allowing the port cover the family
	maps  coverMaps // how much the mapping networks allowing the port cover
	mixed bool      // they map the port by different offsets
	off   int32     // their offset, when not mixed
	// When they cover: the first network and the winning mapping network
	// (as a port table answers), else -1.
	first, mapped int32
}

// coverMaps is how much of a family the mapping networks of a port cover.
type coverMaps uint8

const (
	mapsNone coverMaps = iota // no mapping network allows the port
	mapsSome                  // some addresses
	mapsAll                   // every address of the family
)

// at returns the segment holding port (the zero segment when empty).
func (c *netCover) at(port uint16) coverSeg {
	s := c.segs
	if len(s) == 0 {
		return coverSeg{}
	}
	lo, hi := 0, len(s)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if s[m].lo <= port {
			lo = m
		} else {
			hi = m
		}
	}
	return s[lo]
}

// buildNetCover sweeps the ports of the networks of one protocol allowing
// family f (rules in index order), keeping the networks allowing each port
// in two tries: all of them, and the mapping ones.
func buildNetCover(rules []*policy.Rule, f policy.Families, rank []uint64) netCover {
	anyMapped := false
	size := 0.0 // the addresses of the networks, counted with overlaps
	for _, r := range rules {
		anyMapped = anyMapped || r.PortMap.IsMapped()
		size += math.Ldexp(1, r.Host.Prefix.Addr().BitLen()-r.Host.Prefix.Bits())
	}
	// Networks that hold fewer addresses than the family cannot cover it
	// (a quick answer before the exact one; the margin absorbs rounding).
	coverAll := false
	if size >= math.Ldexp(1-1e-6, fullBits(f)) {
		var union netipx.IPSetBuilder
		for _, r := range rules {
			union.AddPrefix(r.Host.Prefix)
		}
		coverAll = policy.CoversFamily(&union, f)
	}
	if !coverAll && !anyMapped {
		return netCover{}
	}
	var segs []coverSeg
	type event struct {
		port  int
		r     *policy.Rule
		delta int32
	}
	var evs []event
	for _, r := range rules {
		if !coverAll && !r.PortMap.IsMapped() {
			continue
		}
		for _, pr := range r.Ports {
			evs = append(evs, event{int(pr.Lo), r, 1})
			if pr.Hi < policy.MaxPort {
				evs = append(evs, event{int(pr.Hi) + 1, r, -1})
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b event) int { return cmp.Compare(a.port, b.port) })
	var all, mapped coverTrie
	offs := map[int32]int{} // offset -> mapping networks allowing the port
	for i, port := 0, 0; ; {
		for ; i < len(evs) && evs[i].port == port; i++ {
			e := evs[i]
			p := e.r.Host.Prefix.Masked()
			if coverAll {
				all.add(p, e.delta)
			}
			if e.r.PortMap.IsMapped() {
				mapped.add(p, e.delta)
				o := int32(e.r.PortMap.Offset())
				if offs[o] += int(e.delta); offs[o] == 0 {
					delete(offs, o)
				}
			}
		}
		s := coverSeg{lo: uint16(port), cover: all.full(), mixed: len(offs) > 1, first: -1, mapped: -1}
		switch {
		case mapped.full():
			s.maps = mapsAll
		case len(offs) > 0:
			s.maps = mapsSome
		}
		if len(offs) == 1 {
			for o := range offs {
				s.off = o
			}
		}
		if n := len(segs); n == 0 || !sameCover(segs[n-1], s) {
			segs = append(segs, s)
		}
		if i == len(evs) {
			break
		}
		port = evs[i].port
	}
	if !coverAll {
		return netCover{segs: segs}
	}
	// Where they cover, split by the winners a port table of them all gives.
	es := make([]tableEntry, len(rules))
	for i, r := range rules {
		es[i] = tableEntry{idx: int32(r.Index), ports: r.Ports, fams: r.Families, mapped: r.PortMap.IsMapped(), rank: rank[r.Index]}
	}
	var tb tableBuilder
	ref := tb.build(es)
	off, n := int(ref.off), int(ref.n&tableLen)
	los := make([]uint16, n)
	for j := range los {
		los[j] = tb.segs[off+j].lo
	}
	fi := famIndex(f)
	var nc netCover
	for k, s := range segs {
		if !s.cover {
			nc.add(s)
			continue
		}
		hi := policy.MaxPort + 1
		if k+1 < len(segs) {
			hi = int(segs[k+1].lo)
		}
		// The table segments overlapping [s.lo, hi).
		j, _ := slices.BinarySearch(los, s.lo)
		if j == len(los) || los[j] > s.lo {
			j--
		}
		for ; j < len(los) && int(los[j]) < hi; j++ {
			piece := s
			piece.lo = max(s.lo, los[j])
			piece.first, piece.mapped = tb.answers(ref, off+j, fi)
			nc.add(piece)
		}
	}
	return nc
}

// add appends a segment unless it answers as the last one does.
func (nc *netCover) add(s coverSeg) {
	if n := len(nc.segs); n == 0 || !sameCover(nc.segs[n-1], s) {
		nc.segs = append(nc.segs, s)
	}
}

// sameCover reports whether two segments answer alike.
func sameCover(a, b coverSeg) bool {
	a.lo, b.lo = 0, 0
	return a == b
}

// coverTrie is a binary trie of networks, counting the networks at each
// node; a node is full when a network is at it or both its children are
// full, so the root is full when the networks cover the family.
type coverTrie struct{ nodes []trieNode }

type trieNode struct {
	child [2]int32 // 0: none (the root is nobody's child)
	count int32
	full  bool
}

// add adds delta networks p (masked).
func (t *coverTrie) add(p netip.Prefix, delta int32) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{})
	}
	a, bitLen := toU128(p.Addr()), p.Addr().BitLen()
	var path [129]int32 // path[d]: the node at depth d
	cur := int32(0)
	for d := range p.Bits() {
		pos := bitLen - 1 - d
		var bit uint64
		if pos >= 64 {
			bit = a.hi >> (pos - 64) & 1
		} else {
			bit = a.lo >> pos & 1
		}
		c := t.nodes[cur].child[bit]
		if c == 0 {
			c = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{})
			t.nodes[cur].child[bit] = c
		}
		cur = c
		path[d+1] = c
	}
	t.nodes[cur].count += delta
	for d := p.Bits(); d >= 0; d-- {
		n := &t.nodes[path[d]]
		c0, c1 := n.child[0], n.child[1]
		n.full = n.count > 0 || c0 != 0 && c1 != 0 && t.nodes[c0].full && t.nodes[c1].full
	}
}

// full reports whether the networks cover the family.
func (t *coverTrie) full() bool { return len(t.nodes) > 0 && t.nodes[0].full }

// fullBits returns the bits of an address of family f.
func fullBits(f policy.Families) int {
	if f == policy.IPv6 {
		return 128
	}
	return 32
}
