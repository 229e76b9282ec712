package policy

import (
	"slices"
	"strconv"
	"strings"
)

// MaxPort is the highest port number.
const MaxPort = 65535

// PortRange is the inclusive range of ports [Lo, Hi]; Lo == Hi for one port.
type PortRange struct {
	Lo, Hi uint16
}

// Len returns the number of ports in the range.
func (r PortRange) Len() int { return int(r.Hi) - int(r.Lo) + 1 }

// Contains reports whether port p is in the range.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// String writes "80" or "8000-8999".
func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// PortSet is a set of ports: sorted, disjoint, non-adjacent ranges. The
// zero value is the empty set. Every function returning a PortSet returns
// it in this normal form; a PortSet is never modified in place.
type PortSet []PortRange

// Ports returns the normal form of a set made of the given ranges, in any
// order, overlapping or not.
func Ports(ranges ...PortRange) PortSet {
	if len(ranges) == 0 {
		return nil
	}
	return normalizePorts(slices.Clone(ranges))
}

// normalizePorts is Ports, sorting and merging the ranges of rs in place.
func normalizePorts(rs []PortRange) PortSet {
	for i, r := range rs {
		if r.Lo > r.Hi {
			rs[i] = PortRange{r.Hi, r.Lo}
		}
	}
	slices.SortFunc(rs, func(a, b PortRange) int { return int(a.Lo) - int(b.Lo) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if int(r.Lo) <= int(last.Hi)+1 {
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// Port returns the set of one port.
func Port(p uint16) PortSet { return PortSet{{p, p}} }

// PortSpan returns the set of the ports lo through hi.
func PortSpan(lo, hi uint16) PortSet { return Ports(PortRange{lo, hi}) }

// The full port sets of each direction: outbound "*" is 1-65535 (port 0 is
// no destination); inbound "*" is 0-65535 (0 asks the system for a port).
var (
	allOutboundPorts = PortSet{{1, MaxPort}}
	allInboundPorts  = PortSet{{0, MaxPort}}
)

// AllPorts returns the set "*" stands for in a direction: 1-65535 for
// outbound, 0-65535 for inbound, and nil for resolve.
func AllPorts(outbound bool) PortSet {
	if outbound {
		return allOutboundPorts
	}
	return allInboundPorts
}

// IsEmpty reports whether the set has no port.
func (s PortSet) IsEmpty() bool { return len(s) == 0 }

// Len returns the number of ports in the set.
func (s PortSet) Len() int {
	n := 0
	for _, r := range s {
		n += r.Len()
	}
	return n
}

// Equal reports whether two sets hold the same ports.
func (s PortSet) Equal(t PortSet) bool { return slices.Equal(s, t) }

// Contains reports whether port p is in the set (binary search).
func (s PortSet) Contains(p uint16) bool {
	i, _ := slices.BinarySearchFunc(s, p, func(r PortRange, p uint16) int {
		switch {
		case r.Hi < p:
			return -1
		case r.Lo > p:
			return 1
		}
		return 0
	})
	return i < len(s) && s[i].Contains(p)
}

// Covers reports whether every port of t is in s.
func (s PortSet) Covers(t PortSet) bool {
	i := 0
	for _, r := range t {
		for i < len(s) && s[i].Hi < r.Lo {
			i++
		}
		if i == len(s) || s[i].Lo > r.Lo || s[i].Hi < r.Hi {
			return false
		}
	}
	return true
}

// Overlaps reports whether s and t share a port.
func (s PortSet) Overlaps(t PortSet) bool {
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		if s[i].Hi < t[j].Lo {
			i++
		} else if t[j].Hi < s[i].Lo {
			j++
		} else {
			return true
		}
	}
	return false
}

// Union returns the ports in s or t.
func (s PortSet) Union(t PortSet) PortSet {
	if len(s) == 0 {
		return t
	}
	if len(t) == 0 {
		return s
	}
	return Ports(append(slices.Clone(s), t...)...)
}

// Intersect returns the ports in both s and t.
func (s PortSet) Intersect(t PortSet) PortSet {
	var out PortSet
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		lo, hi := max(s[i].Lo, t[j].Lo), min(s[i].Hi, t[j].Hi)
		if lo <= hi {
			out = append(out, PortRange{lo, hi})
		}
		if s[i].Hi < t[j].Hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// Minus returns the ports of s that are not in t.
func (s PortSet) Minus(t PortSet) PortSet {
	var out PortSet
	j := 0
	for _, r := range s {
		lo := int(r.Lo)
		for j < len(t) && int(t[j].Hi) < lo {
			j++
		}
		k := j
		for k < len(t) && int(t[k].Lo) <= int(r.Hi) {
			if int(t[k].Lo) > lo {
				out = append(out, PortRange{uint16(lo), t[k].Lo - 1})
			}
			lo = int(t[k].Hi) + 1
			k++
		}
		if lo <= int(r.Hi) {
			out = append(out, PortRange{uint16(lo), r.Hi})
		}
	}
	return out
}

// Min returns the lowest port of a non-empty set.
func (s PortSet) Min() uint16 { return s[0].Lo }

// String lists the ranges as written in a rule: "80-82,443". The empty set
// is "" and no range is ever written as "*"; see Spell for that.
func (s PortSet) String() string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// Writable reports whether a rule can write the set: port 0 ("a port the
// system picks", inbound) stands only alone or inside the inbound "*"
// (0-65535), never in a list or range with other ports (SPEC §2, CS003).
func (s PortSet) Writable() bool {
	return !s.Contains(0) || s.Equal(Port(0)) || s.Equal(allInboundPorts)
}

// Spell writes the set as a rule of the given direction writes it: "*" for
// the full set of the direction, the ranges otherwise.
func (s PortSet) Spell(outbound bool) string {
	if s.Equal(AllPorts(outbound)) {
		return "*"
	}
	return s.String()
}
