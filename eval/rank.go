package eval

import (
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Where several rules allow a request, the winner must not depend on the
// order of the rules: the formatter reorders them (SPEC §4.5). So:
//
//   - a rule with a port mapping wins over one without;
//   - among mapping rules, the more specific host wins: an address (the
//     longer prefix first) over a name (exact names and localhost) over a
//     wildcard over "*" for outbound rules; an address over an interface
//     over localhost over "*" for inbound ones; then the lowest host port
//     (the smallest mapping offset); then the first in policy order, which
//     can no longer change the host port;
//   - among rules without mapping, the first in policy order (any of them
//     gives the same host side);
//   - among mapping resolve rules for one name and family, the lowest
//     address, then the first in policy order.
//
// mapRank is the sort key of a mapping rule: lower wins.
func mapRank(r *policy.Rule) uint64 {
	var class, spread uint64
	switch r.Host.Kind {
	case policy.AddressHost:
		class = 0
		spread = uint64(r.Host.Prefix.Addr().BitLen() - r.Host.Prefix.Bits())
	case policy.InterfaceHost, policy.NameHost:
		class = 1
	case policy.LocalhostHost:
		class = 1 // a name outbound
		if r.Kind == ast.Inbound {
			class = 2
		}
	case policy.WildcardHost:
		class = 2
	default: // "*"
		class = 3
	}
	off := uint64(r.PortMap.Offset() + 1<<16) // 0 .. 2^17-1
	return class<<60 | spread<<52 | off<<32 | uint64(uint32(r.Index))
}

// betterHostMap reports whether mapping resolve rule a wins over b (nil).
func betterHostMap(a, b *policy.Rule) bool {
	if b == nil {
		return true
	}
	if c := a.HostMap.Compare(b.HostMap); c != 0 {
		return c < 0
	}
	return a.Index < b.Index
}

// betterAddrMap is betterHostMap for an index's (address, rule) pairs.
func betterAddrMap(a netip.Addr, ai int32, b netip.Addr, bi int32) bool {
	if bi < 0 {
		return true
	}
	if c := a.Compare(b); c != 0 {
		return c < 0
	}
	return ai < bi
}
