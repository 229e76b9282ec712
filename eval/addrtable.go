package eval

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// u128 is an address as a 128-bit number (IPv4 in the low 32 bits).
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) lessEq(b u128) bool { return !b.less(a) }

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// prefixEnd returns the last address of p as a number.
func prefixEnd(p netip.Prefix) u128 {
	start := toU128(p.Addr())
	hostBits := p.Addr().BitLen() - p.Bits()
	switch {
	case hostBits >= 64:
		start.lo = ^uint64(0)
		if hostBits == 128 {
			start.hi = ^uint64(0)
		} else {
			start.hi |= (uint64(1) << (hostBits - 64)) - 1
		}
	case hostBits > 0:
		start.lo |= (uint64(1) << hostBits) - 1
	}
	return start
}

// addrNode is a network of an address index and the smallest network
// containing it.
type addrNode struct {
	prefix netip.Prefix
	parent int32
}

// addrLink is what a decision reads of a network of an address index (12
// bytes, apart from the networks): its rules' port table and the smallest
// network containing it.
type addrLink struct {
	table  tableRef
	parent int32
}

// addrIndex finds, for an address, every network of the index containing
// it: a bisection of the starts of the elementary ranges the networks cut
// the address space into gives the innermost network; its parents are the
// others. Networks nest, so a range has one innermost. The starts are flat
// sorted numbers (for IPv4, 32-bit, each beside its range's innermost),
// and the bisection is branch-free.
type addrIndex struct {
	ranges4 []range4    // IPv4 (all networks of one index are of one family)
	top4    []top4Entry // for many IPv4 ranges, by the top 16 bits h of an address
	mid4    []uint32    // for a /16 of many ranges, by the third byte b: how many start below h<<16|b<<8 (from top4Entry.mid)

	starts []u128  // IPv6
	inner  []int32 // innermost node of each IPv6 range, -1 for none
	nodes  []addrNode
	links  []addrLink // by node
	byLen  []lenTable // for many IPv6 networks of few lengths: the networks by length, longest first
}

// lenTable holds the networks of one prefix length, by address, with a
// filter of them: a bit per hash of a network address, 16 bits per
// network (a few KiB that stay in the cache), so that most probes for a
// length that has no network holding the address read no slot.
type lenTable struct {
	bits   int
	mask   u128      // the network mask of the length
	fmask  uint64    // len(filter)*64 - 1
	filter []uint64  // bit filterBit(h): some network's address hashes to h
	nodes  addrTable // network address -> node
}

// filterBit returns the bit of the filter for hash h of an address (bits
// of the hash that the slot index does not use, for a table below 2^32
// slots).
func (l *lenTable) filterBit(h uint64) uint64 { return (h >> 32) & l.fmask }

// innermostLink is innermostAddr with the link of the network found
// (read from the slot of its length's table, for networks by length).
func (x *addrIndex) innermostLink(a netip.Addr) (int32, addrLink) {
	if x.byLen != nil {
		if sl := x.byLenSlot(toU128(a)); sl != nil {
			return sl.v1 - 1, sl.link
		}
		return -1, addrLink{}
	}
	n := x.innermostAddr(a)
	if n < 0 {
		return -1, addrLink{}
	}
	return n, x.links[n]
}

// innermostAddr is innermost for an address of the index's family.
func (x *addrIndex) innermostAddr(a netip.Addr) int32 {
	if a.Is4() {
		b := a.As4()
		return x.innermost4(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return x.innermost(u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])})
}

// innermost returns the innermost network containing a, or -1.
func (x *addrIndex) innermost(a u128) int32 {
	if x.byLen != nil {
		return x.innermostByLen(a)
	}
	if x.ranges4 != nil {
		return x.innermost4(uint32(a.lo))
	}
	s := x.starts
	if len(s) == 0 || a.less(s[0]) {
		return -1
	}
	i := 0
	for n := len(s); n > 1; {
		half := n / 2
		if s[i+half].lessEq(a) {
			i += half
		}
		n -= half
	}
	return x.inner[i]
}

// innermostByLen is innermost with the tables by length: the innermost
// network is the longest holding a, one probe per length, the longest
// first (most skipped by the filters).
func (x *addrIndex) innermostByLen(a u128) int32 {
	if sl := x.byLenSlot(a); sl != nil {
		return sl.v1 - 1
	}
	return -1
}

// byLenSlot is innermostByLen returning the slot of the network (nil:
// none), which holds its link.
func (x *addrIndex) byLenSlot(a u128) *addrSlot {
	for i := range x.byLen {
		l := &x.byLen[i]
		m := u128{a.hi & l.mask.hi, a.lo & l.mask.lo} // (the network of the length holding a)
		h := m.hash()
		if b := l.filterBit(h); l.filter[b/64]&(1<<(b%64)) != 0 {
			if sl := l.nodes.getHash(m, h); sl != nil {
				return sl
			}
		}
	}
	return nil
}

// innermost4 is innermost for an IPv4 address. With many starts, the
// table of the top 16 bits narrows the bisection to the starts of the
// address's /16 (of its /24, for a /16 of many) and the one before them.
func (x *addrIndex) innermost4(a uint32) int32 {
	if x.byLen != nil {
		return x.innermostByLen(u128{0, uint64(a)})
	}
	s := x.ranges4
	if t := x.top4; len(t) == 1<<16+1 {
		h := a >> 16
		lo, hi := t[h].below, t[h+1].below
		if m := int(t[h].mid); m >= 0 && m+257 <= len(x.mid4) {
			mid := x.mid4[m : m+257]
			b := a >> 8 & 0xff
			lo, hi = mid[b], mid[b+1]
		}
		if lo > 0 {
			lo-- // (the last start before the /16, below a)
		}
		if hi > uint32(len(s)) || lo > hi {
			return -1 // (never: the table is of s)
		}
		s = s[lo:hi]
	}
	if len(s) == 0 || a < s[0].start {
		return -1
	}
	return s[lastRangeAtMost(s, a)].inner
}

// range4 is an IPv4 range of an address index: its first address and
// its innermost node (-1: none), side by side, so that the range the
// bisection ends at is in a cache line it read.
type range4 struct {
	start uint32
	inner int32
}

// lastRangeAtMost returns the index of the last of the sorted ranges s
// that starts at most at a; s[0].start <= a. The bisection is
// branch-free.
func lastRangeAtMost(s []range4, a uint32) int {
	i := 0
	for n := len(s); n > 1; {
		half := n / 2
		if s[i+half].start <= a {
			i += half
		}
		n -= half
	}
	return i
}

// maskU128 returns a with all but its first bits bits (0 to 128) cleared.
func maskU128(a u128, bits int) u128 {
	if bits <= 64 {
		return u128{a.hi &^ (^uint64(0) >> bits), 0}
	}
	return u128{a.hi, a.lo &^ (^uint64(0) >> (bits - 64))}
}

// IPv6 indexes of at least minByLen networks of at most maxByLen distinct
// prefix lengths find the innermost network with a hash probe per length
// (byLen), each skipped when the length's filter says no network of it
// holds the address: fewer steps and cache misses than a bisection of
// many 128-bit numbers; others bisect. (IPv4 indexes bisect: the table of
// the top bits and the starts are small arrays every IPv4 request reads,
// which stay in the caches, where the slots of tables by length would
// not; the tables by length work for IPv4 too, see byLenBits.)
const (
	minByLen = 64
	maxByLen = 6
)

// byLenBits returns the length of the table by length holding network
// p: its length as one of a 128-bit number (toU128 puts IPv4 in the low
// 32 bits).
func byLenBits(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 96 + p.Bits()
	}
	return p.Bits()
}

// buildByLen makes the tables of the networks by prefix length.
func (x *addrIndex) buildByLen() {
	var lens []int
	for _, n := range x.nodes {
		if !slices.Contains(lens, byLenBits(n.prefix)) {
			lens = append(lens, byLenBits(n.prefix))
		}
	}
	slices.Sort(lens)
	slices.Reverse(lens)
	x.byLen = make([]lenTable, len(lens))
	count := make([]int, len(lens))
	for _, n := range x.nodes {
		count[slices.Index(lens, byLenBits(n.prefix))]++
	}
	for i, bits := range lens {
		l := &x.byLen[i]
		l.bits, l.mask = bits, maskU128(u128{^uint64(0), ^uint64(0)}, bits)
		l.nodes.reserve(count[i])
		words := 1
		for words*64 < 16*count[i] {
			words *= 2
		}
		l.filter, l.fmask = make([]uint64, words), uint64(words*64-1)
	}
	for id, n := range x.nodes {
		l := &x.byLen[slices.Index(lens, byLenBits(n.prefix))]
		a := maskU128(toU128(n.prefix.Addr()), l.bits)
		l.nodes.set(a, int32(id), x.links[id])
		b := l.filterBit(a.hash())
		l.filter[b/64] |= 1 << (b % 64)
	}
}

// fewLens reports whether the networks have at most max prefix lengths.
func (x *addrIndex) fewLens(max int) bool {
	var lens []int
	for _, n := range x.nodes {
		if !slices.Contains(lens, n.prefix.Bits()) {
			if lens = append(lens, n.prefix.Bits()); len(lens) > max {
				return false
			}
		}
	}
	return true
}

// minTop4 is the number of IPv4 starts from which an index has the table
// of the top 16 bits (512 KiB): below it, the bisection is short.
const minTop4 = 1024

// minMid4 is the number of ranges starting in a /16 from which it has a
// table by the third byte (1 KiB) in mid4: below it, the bisection of its
// ranges reads a line or two.
const minMid4 = 16

// top4Entry is what the table of the top 16 bits says of a /16 h: how
// many ranges start below h<<16, and where its table by the third byte
// is in mid4 (-1: none).
type top4Entry struct {
	below uint32
	mid   int32
}

// buildTop4 makes the table of the top 16 bits of ranges4, and the
// tables by the third byte of the /16s where many ranges start.
func (x *addrIndex) buildTop4() {
	x.top4 = make([]top4Entry, 1<<16+1)
	x.mid4 = nil
	i := 0
	for h := range x.top4 {
		for i < len(x.ranges4) && uint64(x.ranges4[i].start) < uint64(h)<<16 {
			i++
		}
		x.top4[h] = top4Entry{below: uint32(i), mid: -1}
	}
	for h := range 1 << 16 {
		lo, hi := int(x.top4[h].below), int(x.top4[h+1].below)
		if hi-lo < minMid4 {
			continue
		}
		x.top4[h].mid = int32(len(x.mid4))
		j := lo
		for b := range 257 {
			for j < hi && uint64(x.ranges4[j].start) < uint64(h)<<16+uint64(b)<<8 {
				j++
			}
			x.mid4 = append(x.mid4, uint32(j))
		}
	}
}

// buildAddrIndex makes the index of distinct networks (of one family) with
// their tables, in any order (sorted by address, then length, is
// fastest).
func buildAddrIndex(prefixes []netip.Prefix, tables []tableRef) addrIndex {
	order := make([]int, len(prefixes))
	for i := range order {
		order[i] = i
	}
	less := func(i, j int) int {
		pi, pj := prefixes[i], prefixes[j]
		if c := pi.Addr().Compare(pj.Addr()); c != 0 {
			return c
		}
		return pi.Bits() - pj.Bits()
	}
	if !slices.IsSortedFunc(order, less) { // (NewIndex gives them sorted)
		slices.SortFunc(order, less)
	}
	// (Each network starts a range and may end one.)
	x := addrIndex{nodes: make([]addrNode, 0, len(prefixes)), links: make([]addrLink, 0, len(prefixes)),
		starts: make([]u128, 0, 2*len(prefixes)), inner: make([]int32, 0, 2*len(prefixes))}
	type open struct {
		node int32
		end  u128
	}
	var stack []open
	emit := func(start u128, node int32) {
		if n := len(x.starts); n > 0 && x.starts[n-1] == start {
			x.inner[n-1] = node
			return
		}
		x.starts = append(x.starts, start)
		x.inner = append(x.inner, node)
	}
	// close pops the top network; the range after it belongs to the next one out.
	closeTop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top.end == (u128{^uint64(0), ^uint64(0)}) {
			return // the end of the IPv6 space
		}
		next := top.end
		next.lo++
		if next.lo == 0 {
			next.hi++
		}
		parent := int32(-1)
		if len(stack) > 0 {
			parent = stack[len(stack)-1].node
		}
		emit(next, parent)
	}
	for _, i := range order {
		p := prefixes[i]
		start, end := toU128(p.Addr()), prefixEnd(p)
		for len(stack) > 0 && stack[len(stack)-1].end.less(start) {
			closeTop()
		}
		parent := int32(-1)
		if len(stack) > 0 {
			parent = stack[len(stack)-1].node
		}
		id := int32(len(x.nodes))
		x.nodes = append(x.nodes, addrNode{prefix: p, parent: parent})
		x.links = append(x.links, addrLink{table: tables[i], parent: parent})
		emit(start, id)
		stack = append(stack, open{id, end})
	}
	for len(stack) > 0 {
		closeTop()
	}
	if len(x.nodes) >= minByLen && x.nodes[0].prefix.Addr().Is6() && x.fewLens(maxByLen) {
		x.buildByLen()
		x.starts, x.inner = nil, nil // (innermost asks byLen)
		return x
	}
	if len(x.nodes) > 0 && x.nodes[0].prefix.Addr().Is4() {
		// (A range after 255.255.255.255 is no IPv4 address: dropped.)
		x.ranges4 = make([]range4, 0, len(x.starts))
		for i, s := range x.starts {
			if s.hi == 0 && s.lo <= 0xffffffff {
				x.ranges4 = append(x.ranges4, range4{uint32(s.lo), x.inner[i]})
			}
		}
		x.starts, x.inner = nil, nil
		if len(x.ranges4) >= minTop4 {
			x.buildTop4()
		}
	}
	return x
}
