package eval

import (
	"cmp"
	"slices"

	"github.com/capspec/capspec/policy"
)

// A port table answers, for a port and a family, the first rule (lowest
// index) of a bucket allowing that port, and the winning mapping rule (the
// lowest mapRank, kept in Index.rank). It is a sorted list of segments of
// the port space, each holding the answers for every port in it. Tables
// live flat in the arena Index.segs, each segment's first port next to
// its first rules (12 bytes), so that a query reads one or two cache
// lines: the first ports (scanned, or bisected when there are many) and
// the answer beside them. The mapping answers are in an arena of their
// own (Index.segMaps), parallel to segs and read only by the tables that
// have a mapping rule (tableMaps); a policy without mappings has none.
// tableRef locates a table in them.

// tableRef locates a table in the arenas: [off, off+n&tableLen); the bit
// tableMaps of n says that the table has mapping answers. A table of one
// rule without mapping that allows one range of ports (most buckets: a
// name, an address or a network of one rule) is no segments but the ref
// itself (tableInline): off holds the range (lo, hi<<16), n the rule's
// index and families, so that a query of it reads no arena.
type tableRef struct{ off, n uint32 }

// The bits of tableRef.n.
const (
	tableMaps   = 1 << 31         // the table has a mapping rule
	tableInline = 1 << 30         // the table is inline: one rule, one range
	tableLen    = tableInline - 1 // the number of segments (not inline)
	inlineV4    = 1 << 28         // inline: the rule allows IPv4 (IPv6 the next bit)
	inlineIdx   = inlineV4 - 1    // inline: the rule's index
)

// inlineFirst returns the answer of the inline table t for port in family
// index fi: its rule, or -1.
func inlineFirst(t tableRef, port uint16, fi int) int32 {
	lo, hi := uint16(t.off), uint16(t.off>>16)
	if port-lo <= hi-lo && t.n&(inlineV4<<fi) != 0 {
		return int32(t.n & inlineIdx)
	}
	return -1
}

// segment is a segment of a port table as a decision reads it: its first
// port and, per family, the first rule allowing its ports (-1: none).
type segment struct {
	lo    uint16
	first [2]int32
}

// tableEntry is a rule of a bucket, given to the table builder in index order.
type tableEntry struct {
	idx    int32
	ports  policy.PortSet
	fams   policy.Families
	mapped bool
	rank   uint64 // mapRank, for a mapping rule
}

// slotHit is the answer of a table for one port and family.
type slotHit struct{ first, mapped int32 }

// noHit is the empty answer.
var noHit = slotHit{first: -1, mapped: -1}

// merge keeps the lower index of the first slot and the mapping rule of
// lower rank (rank is indexed by rule).
func (h *slotHit) merge(first, mapped int32, rank []uint64) {
	h.mergeFirst(first)
	h.mergeMapped(mapped, rank)
}

// mergeFirst keeps the lower index of the first slot.
func (h *slotHit) mergeFirst(first int32) {
	if first >= 0 && (h.first < 0 || first < h.first) {
		h.first = first
	}
}

// mergeMapped keeps the mapping rule of lower rank.
func (h *slotHit) mergeMapped(mapped int32, rank []uint64) {
	if mapped >= 0 && (h.mapped < 0 || rank[mapped] < rank[h.mapped]) {
		h.mapped = mapped
	}
}

// winner returns the deciding rule: the winning mapping rule, else the first rule.
func (h slotHit) winner() int32 {
	if h.mapped >= 0 {
		return h.mapped
	}
	return h.first
}

// atLong returns the index in the arenas of the segment holding port of
// the table of n segments from off: a bisection. (The queries scan short
// tables themselves, without a call.)
// It bisects the first ports alone (Index.segLo, 2 bytes a segment, a
// sixth of the segments' lines), then reads the one segment it finds.
func (x *Index) atLong(off, n int, port uint16) int {
	return off + lastLoAtMost(x.segLo[off:off+n], port)
}

// lastLoAtMost returns the index of the last of the sorted first ports
// los that is at most port; los[0] <= port. The bisection is branch-free.
func lastLoAtMost(los []uint16, port uint16) int {
	i := 0
	for n := len(los); n > 1; {
		half := n / 2
		if los[i+half] <= port {
			i += half
		}
		n -= half
	}
	return i
}

// query merges into h the answer of table t for port in family index fi.
func (x *Index) query(t tableRef, port uint16, fi int, h *slotHit) {
	if t.n&tableInline != 0 {
		h.mergeFirst(inlineFirst(t, port, fi))
		return
	}
	i, n := int(t.off), int(t.n&tableLen)
	if n == 0 {
		return
	}
	if n > 8 {
		i = x.atLong(i, n, port)
	} else {
		for last := i + n - 1; i < last && x.segs[i+1].lo <= port; i++ {
		}
	}
	h.mergeFirst(x.segs[i].first[fi])
	if t.n&tableMaps != 0 {
		h.mergeMapped(x.segMaps[i][fi], x.rank)
	}
}

// query2 merges into h the answers of table t for port in both families.
func (x *Index) query2(t tableRef, port uint16, h *[2]slotHit) {
	if t.n&tableInline != 0 {
		h[0].mergeFirst(inlineFirst(t, port, 0))
		h[1].mergeFirst(inlineFirst(t, port, 1))
		return
	}
	i, n := int(t.off), int(t.n&tableLen)
	if n == 0 {
		return
	}
	if n > 8 {
		i = x.atLong(i, n, port)
	} else {
		for last := i + n - 1; i < last && x.segs[i+1].lo <= port; i++ {
		}
	}
	s := &x.segs[i]
	h[0].mergeFirst(s.first[0])
	h[1].mergeFirst(s.first[1])
	if t.n&tableMaps != 0 {
		h[0].mergeMapped(x.segMaps[i][0], x.rank)
		h[1].mergeMapped(x.segMaps[i][1], x.rank)
	}
}

// tableBuilder appends tables to the arenas (segs and segMaps, the
// arenas of Index), reusing its scratch space. While a table is built, a
// segment covers the ports from its lo up to the next segment's lo; its
// best holds, by [family*2 + mapping], the first rule index, -1 for none.
// segMaps is started (parallel to segs) by the first table with a mapping
// rule.
type tableBuilder struct {
	inline  bool // tables that can be are inline (tableInline)
	segs    []segment
	segLo   []uint16 // the segments' first ports, parallel to segs (Index.segLo)
	segMaps [][2]int32
	los     []uint16   // scratch: the table's segments' first ports
	best    [][4]int32 // scratch: their answers
	bounds  []int
	next    [4][]int32 // per slot: next unpainted segment (union-find)
	mapped  []tableEntry
}

// seg appends a segment of a table to the arenas.
func (b *tableBuilder) seg(lo uint16, best [4]int32, maps bool) {
	if maps && b.segMaps == nil {
		b.segMaps = make([][2]int32, len(b.segs), cap(b.segs))
	}
	b.segs = append(b.segs, segment{lo: lo, first: [2]int32{best[0], best[2]}})
	b.segLo = append(b.segLo, lo)
	if b.segMaps != nil {
		b.segMaps = append(b.segMaps, [2]int32{best[1], best[3]})
	}
}

// answers returns the answers of segment i of the arenas in family index
// fi, for a table whose ref says whether it maps.
func (b *tableBuilder) answers(t tableRef, i, fi int) (first, mapped int32) {
	first, mapped = b.segs[i].first[fi], -1
	if t.n&tableMaps != 0 {
		mapped = b.segMaps[i][fi]
	}
	return first, mapped
}

// build appends the table of entries (in index order) and returns its ref.
// The first-rule slots are painted in index order, the mapping slots in
// rank order, each segment keeping its first painter.
func (b *tableBuilder) build(es []tableEntry) tableRef {
	switch len(es) {
	case 0:
		return tableRef{}
	case 1:
		return b.buildOne(es[0])
	}
	bounds := b.bounds[:0]
	bounds = append(bounds, 0)
	for _, e := range es {
		for _, r := range e.ports {
			bounds = append(bounds, int(r.Lo))
			if r.Hi < policy.MaxPort {
				bounds = append(bounds, int(r.Hi)+1)
			}
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	b.bounds = bounds
	n := len(bounds)
	b.los, b.best = b.los[:0], b.best[:0]
	for _, lo := range bounds {
		b.los = append(b.los, uint16(lo))
		b.best = append(b.best, [4]int32{-1, -1, -1, -1})
	}
	best := b.best
	for s := range b.next {
		b.next[s] = slices.Grow(b.next[s][:0], n+1)[:n+1]
		for i := range b.next[s] {
			b.next[s][i] = int32(i)
		}
	}
	find := func(next []int32, i int32) int32 {
		root := i
		for next[root] != root {
			root = next[root]
		}
		for next[i] != root {
			next[i], i = root, next[i]
		}
		return root
	}
	paint := func(e tableEntry, mapSlot int) {
		for _, r := range e.ports {
			first := lowerBound(bounds, int(r.Lo))
			last := n - 1
			if r.Hi < policy.MaxPort {
				last = lowerBound(bounds, int(r.Hi)+1)
				last--
			}
			for fi, f := range families {
				if !e.fams.Has(f) {
					continue
				}
				slot := fi*2 + mapSlot
				next := b.next[slot]
				for i := find(next, int32(first)); int(i) <= last; i = find(next, i) {
					best[i][slot] = e.idx
					next[i] = i + 1
				}
			}
		}
	}
	mapped := b.mapped[:0]
	for _, e := range es {
		paint(e, 0)
		if e.mapped {
			mapped = append(mapped, e)
		}
	}
	slices.SortFunc(mapped, func(a, c tableEntry) int { return cmp.Compare(a.rank, c.rank) })
	for _, e := range mapped {
		paint(e, 1)
	}
	b.mapped = mapped
	// Merge neighbours that answer alike.
	los := b.los
	k := 1
	for i := 1; i < n; i++ {
		if best[i] != best[k-1] {
			los[k], best[k] = los[i], best[i]
			k++
		}
	}
	t := tableRef{off: uint32(len(b.segs)), n: uint32(k)}
	for i := range k {
		b.seg(los[i], best[i], len(mapped) > 0)
	}
	if len(mapped) > 0 {
		t.n |= tableMaps
	}
	return t
}

// lowerBound returns the index of the first of the sorted xs at least v
// (len(xs) if none), as slices.BinarySearch but without its calls: the
// builder asks it twice per port range of every rule of a shared bucket.
func lowerBound(xs []int, v int) int {
	i, n := 0, len(xs)
	for n > 0 {
		half := n / 2
		if xs[i+half] < v {
			i += half + 1
			n -= half + 1
		} else {
			n = half
		}
	}
	return i
}

// buildOne appends the table of one rule: its port ranges (sorted,
// disjoint and not adjacent) with the gaps between them, as build would
// paint them.
func (b *tableBuilder) buildOne(e tableEntry) tableRef {
	if b.inline && !e.mapped && len(e.ports) == 1 && e.idx >= 0 && e.idx <= inlineIdx && e.fams&policy.AllFamilies != 0 {
		t := tableRef{off: uint32(e.ports[0].Lo) | uint32(e.ports[0].Hi)<<16, n: tableInline | uint32(e.idx)}
		for fi, f := range families {
			if e.fams.Has(f) {
				t.n |= inlineV4 << fi
			}
		}
		return t
	}
	var in [4]int32
	for fi, f := range families {
		in[fi*2], in[fi*2+1] = -1, -1
		if e.fams.Has(f) {
			in[fi*2] = e.idx
			if e.mapped {
				in[fi*2+1] = e.idx
			}
		}
	}
	out := [4]int32{-1, -1, -1, -1}
	start := len(b.segs)
	if in == out { // a rule of no family: one empty segment
		b.seg(0, out, false)
		return tableRef{off: uint32(start), n: 1}
	}
	if len(e.ports) == 0 || e.ports[0].Lo > 0 {
		b.seg(0, out, e.mapped)
	}
	for _, r := range e.ports {
		b.seg(r.Lo, in, e.mapped)
		if r.Hi < policy.MaxPort {
			b.seg(r.Hi+1, out, e.mapped)
		}
	}
	t := tableRef{off: uint32(start), n: uint32(len(b.segs) - start)}
	if e.mapped {
		t.n |= tableMaps
	}
	return t
}
