package diff

import (
	"slices"

	"github.com/capspec/capspec/policy"
)

// portIndex finds, among some rules, those whose ports meet a set of
// ports, in time that grows with how many it finds rather than with how
// many it holds: the rules' port ranges sorted by their first port, with a
// tree of the highest last port over them, so that a question skips every
// run of ranges ending before it.
type portIndex struct {
	ranges []portEntry
	// maxHi is a complete binary tree over ranges (leaves from len(maxHi)/2
	// on) of the highest Hi below each node.
	maxHi []uint16
}

type portEntry struct {
	policy.PortRange
	rule *policy.Rule
}

// newPortIndex indexes the ports of rules (a resolve rule has none, and is
// never found).
func newPortIndex(rules []*policy.Rule) *portIndex {
	x := &portIndex{}
	for _, r := range rules {
		for _, pr := range r.Ports {
			x.ranges = append(x.ranges, portEntry{pr, r})
		}
	}
	slices.SortFunc(x.ranges, func(a, b portEntry) int { return int(a.Lo) - int(b.Lo) })
	n := 1
	for n < len(x.ranges) {
		n *= 2
	}
	x.maxHi = make([]uint16, 2*n)
	for i, e := range x.ranges {
		x.maxHi[n+i] = e.Hi
	}
	for i := n - 1; i >= 1; i-- {
		x.maxHi[i] = max(x.maxHi[2*i], x.maxHi[2*i+1])
	}
	return x
}

// meeting calls yield once with every rule whose ports meet ps, until
// yield returns false; it returns false when stopped.
func (x *portIndex) meeting(ps policy.PortSet, yield func(*policy.Rule) bool) bool {
	for qi, q := range ps {
		// The ranges starting at or before q.Hi: a prefix of the sorted ranges.
		end, _ := slices.BinarySearchFunc(x.ranges, int(q.Hi)+1, func(e portEntry, t int) int { return int(e.Lo) - t })
		ok := x.walk(1, 0, len(x.maxHi)/2, end, q, func(e portEntry) bool {
			// Report a rule once: at the first of its ranges that meets ps,
			// and the first range of ps that range meets.
			return first(e.rule.Ports, ps) != e.PortRange || qi != firstIn(ps, e.PortRange) || yield(e.rule)
		})
		if !ok {
			return false
		}
	}
	return true
}

// walk visits the ranges below node n (covering ranges [lo, hi) of the
// sorted order) that lie before end and reach q.Lo, in order, until f
// returns false.
func (x *portIndex) walk(n, lo, hi, end int, q policy.PortRange, f func(portEntry) bool) bool {
	if lo >= end || x.maxHi[n] < q.Lo {
		return true
	}
	if hi-lo == 1 {
		return f(x.ranges[lo])
	}
	mid := (lo + hi) / 2
	return x.walk(2*n, lo, mid, end, q, f) && x.walk(2*n+1, mid, hi, end, q, f)
}

// first returns the first range of s that meets t (s and t meet).
func first(s, t policy.PortSet) policy.PortRange {
	for _, r := range s {
		if firstIn(t, r) >= 0 {
			return r
		}
	}
	return policy.PortRange{}
}

// firstIn returns the index of the first range of s that meets r.
func firstIn(s policy.PortSet, r policy.PortRange) int {
	for i, q := range s {
		if q.Lo <= r.Hi && r.Lo <= q.Hi {
			return i
		}
	}
	return -1
}

// firstOnPort finds, among some rules, the first few (by index) whose
// ports hold a port, in time that does not grow with how many rules hold
// it: a segment tree over the 65536 ports where each rule sits in the
// nodes that make up its ranges, each node keeping only its first limit
// rules. The first limit rules holding a port are among the first limit
// of the nodes above the port's leaf.
type firstOnPort struct {
	limit int
	nodes map[int32][]*policy.Rule // by node (1 the root, 2n and 2n+1 the halves of n)
}

// portLeaves is the number of leaves of firstOnPort's tree: every port.
const portLeaves = 1 << 16

// newFirstOnPort indexes the ports of rules, given in the order of their
// indexes.
func newFirstOnPort(rules []*policy.Rule, limit int) *firstOnPort {
	x := &firstOnPort{limit: limit, nodes: map[int32][]*policy.Rule{}}
	for _, r := range rules {
		for _, pr := range r.Ports {
			x.add(1, 0, portLeaves, int(pr.Lo), int(pr.Hi)+1, r)
		}
	}
	return x
}

// add puts r in the nodes that make up ports [lo, hi) below node n (which
// covers [nlo, nhi)), unless a node has its limit.
func (x *firstOnPort) add(n int32, nlo, nhi, lo, hi int, r *policy.Rule) {
	switch {
	case hi <= nlo || nhi <= lo:
	case lo <= nlo && nhi <= hi:
		rs := x.nodes[n]
		if len(rs) < x.limit {
			x.nodes[n] = append(rs, r)
		}
	default:
		mid := (nlo + nhi) / 2
		x.add(2*n, nlo, mid, lo, hi, r)
		x.add(2*n+1, mid, nhi, lo, hi, r)
	}
}

// first returns the first limit rules (by index) whose ports hold port,
// in the order of their indexes.
func (x *firstOnPort) first(port uint16) []*policy.Rule {
	var out []*policy.Rule
	n, lo, hi := int32(1), 0, portLeaves
	for {
		out = append(out, x.nodes[n]...)
		if hi-lo == 1 {
			break
		}
		mid := (lo + hi) / 2
		if int(port) < mid {
			n, hi = 2*n, mid
		} else {
			n, lo = 2*n+1, mid
		}
	}
	// A rule sits in one node above a port (its ranges do not overlap).
	slices.SortFunc(out, func(a, b *policy.Rule) int { return a.Index - b.Index })
	return out[:min(len(out), x.limit)]
}
