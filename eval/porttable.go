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
// live flat in two arenas of the Index, the segments' first ports (los)
// and the segments (segs), so that a query reads a few bytes of ports
// (scanned, or bisected when there are many) and one answer; tableRef
// locates a table in them.

// tableRef locates a table in the arenas: [off, off+n).
type tableRef struct{ off, n uint32 }

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
	if first >= 0 && (h.first < 0 || first < h.first) {
		h.first = first
	}
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

// at returns the answers of table t (not empty) for port. Short tables
// are scanned here (inlined into the queries), long ones bisected.
func (x *Index) at(t tableRef, port uint16) *[4]int32 {
	los := x.los[t.off : t.off+t.n]
	i := 0
	if len(los) > 8 {
		i = lastAtMost(los, port)
	} else {
		for i+1 < len(los) && los[i+1] <= port {
			i++
		}
	}
	return &x.segs[int(t.off)+i]
}

// query merges into h the answer of table t for port in family index fi.
func (x *Index) query(t tableRef, port uint16, fi int, h *slotHit) {
	if t.n == 0 {
		return
	}
	b := x.at(t, port)
	h.merge(b[fi*2], b[fi*2+1], x.rank)
}

// query2 merges into h the answers of table t for port in both families.
func (x *Index) query2(t tableRef, port uint16, h *[2]slotHit) {
	if t.n == 0 {
		return
	}
	b := x.at(t, port)
	h[0].merge(b[0], b[1], x.rank)
	h[1].merge(b[2], b[3], x.rank)
}

// tableBuilder appends tables to the arenas, reusing its scratch space.
// A segment covers the ports from its lo up to the next segment's lo;
// its best holds, by [family*2 + mapping], the first rule index, -1 for
// none.
type tableBuilder struct {
	los    []uint16
	best   [][4]int32
	bounds []int
	next   [4][]int32 // per slot: next unpainted segment (union-find)
	mapped []tableEntry
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
	start := len(b.los)
	for _, lo := range bounds {
		b.los = append(b.los, uint16(lo))
		b.best = append(b.best, [4]int32{-1, -1, -1, -1})
	}
	best := b.best[start:]
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
			first, _ := slices.BinarySearch(bounds, int(r.Lo))
			last := n - 1
			if r.Hi < policy.MaxPort {
				last, _ = slices.BinarySearch(bounds, int(r.Hi)+1)
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
	los := b.los[start:]
	k := 1
	for i := 1; i < n; i++ {
		if best[i] != best[k-1] {
			los[k], best[k] = los[i], best[i]
			k++
		}
	}
	b.los, b.best = b.los[:start+k], b.best[:start+k]
	return tableRef{off: uint32(start), n: uint32(k)}
}

// seg appends a segment.
func (b *tableBuilder) seg(lo uint16, best [4]int32) {
	b.los = append(b.los, lo)
	b.best = append(b.best, best)
}

// buildOne appends the table of one rule: its port ranges (sorted,
// disjoint and not adjacent) with the gaps between them, as build would
// paint them.
func (b *tableBuilder) buildOne(e tableEntry) tableRef {
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
	start := len(b.los)
	if in == out { // a rule of no family: one empty segment
		b.seg(0, out)
		return tableRef{off: uint32(start), n: 1}
	}
	if len(e.ports) == 0 || e.ports[0].Lo > 0 {
		b.seg(0, out)
	}
	for _, r := range e.ports {
		b.seg(r.Lo, in)
		if r.Hi < policy.MaxPort {
			b.seg(r.Hi+1, out)
		}
	}
	return tableRef{off: uint32(start), n: uint32(len(b.los) - start)}
}
