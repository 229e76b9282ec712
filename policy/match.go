package policy

import (
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
)

// This file is the one home of matching: whether a rule covers one request
// (SPEC §3), what a lookup answers, and which of several matching rules
// wins. The reference evaluator, the index's build and the explanations of
// capspec eval all ask these questions here and nowhere else.

// MatchesName reports whether a name host matches the (normalized) name n:
// "*" matches every name, an exact name itself, a wildcard every name with
// one or more whole labels before its domain (never the domain itself).
func (h Host) MatchesName(n string) bool {
	switch h.Kind {
	case AnyHost:
		return true
	case NameHost, LocalhostHost:
		return n == h.Name
	case WildcardHost:
		return len(n) > len(h.Name)+1 && strings.HasSuffix(n, h.Name) && n[len(n)-len(h.Name)-1] == '.'
	}
	return false
}

// UnderDomain reports whether n is strictly below domain d by whole labels.
func UnderDomain(n, d string) bool { return Host{Kind: WildcardHost, Name: d}.MatchesName(n) }

// MatchesAddr reports whether an outbound host allows a connect to address
// a by the address alone: "*" every address, a network the addresses in it.
// A name host never does (an address is resolved from a name: see
// ResolvedFrom); neither does any host for the zero Addr.
func (h Host) MatchesAddr(a netip.Addr) bool {
	switch h.Kind {
	case AnyHost:
		return true
	case AddressHost:
		return a.IsValid() && h.Prefix.Contains(a)
	}
	return false
}

// MatchesLocalAddr reports whether an inbound host covers a listen on the
// local address a (not an unspecified one, which only "*" covers), given the
// interfaces that own a: "*", the address itself, localhost for a loopback
// address, an interface owning it.
func (h Host) MatchesLocalAddr(a netip.Addr, owners []string) bool {
	switch h.Kind {
	case AnyHost:
		return true
	case AddressHost:
		return h.Prefix.Addr() == a
	case LocalhostHost:
		return IsLoopback(a)
	case InterfaceHost:
		return slices.Contains(owners, h.Name)
	}
	return false
}

// MatchesInterface reports whether an inbound host covers a listen on the
// interface name: "*", that interface, and localhost when the interface is
// a loopback one (all its addresses are loopback). A rule for one of the
// interface's addresses does not.
func (h Host) MatchesInterface(name string, loopback bool) bool {
	switch h.Kind {
	case AnyHost:
		return true
	case InterfaceHost:
		return h.Name == name
	case LocalhostHost:
		return loopback
	}
	return false
}

// Applies reports whether an outbound or inbound rule is for protocol
// proto, the guest port and family f, whatever its host.
func (r *Rule) Applies(proto ast.Protocol, port uint16, f Families) bool {
	return r.Protocol == proto && r.Families.Has(f) && r.Ports.Contains(port)
}

// HostPort returns the host-side port of the guest port p: p mapped by the
// rule's port mapping, or p itself.
func (r *Rule) HostPort(p uint16) uint16 {
	if r.PortMap.IsMapped() {
		return r.PortMap.Map(p)
	}
	return p
}

// MapsName reports whether r is a host mapping ("name->ip", explicit or
// implied) that answers the lookup of name in family f.
func (r *Rule) MapsName(name string, f Families) bool {
	return r.Kind == ast.Resolve && r.HostMap.IsValid() && r.Families.Has(f) && r.Host.MatchesName(name)
}

// NameMaps are the addresses one name is mapped to: [0] in IPv4, [1] in
// IPv6, the zero Addr in a family without a mapping.
type NameMaps [2]netip.Addr

// Mapped reports whether the name is mapped in some family.
func (m NameMaps) Mapped() bool { return m[0].IsValid() || m[1].IsValid() }

// In returns the mapping in family f (the zero Addr: none).
func (m NameMaps) In(f Families) netip.Addr { return m[slot(f)] }

// slot returns 0 for IPv4 and 1 for IPv6.
func slot(f Families) int {
	if f == IPv6 {
		return 1
	}
	return 0
}

// LoopbackAddr returns what localhost answers in a family: 127.0.0.1 or ::1.
func LoopbackAddr(f Families) netip.Addr {
	if f == IPv6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// Answer says what an allowed lookup of name gives in family f, where the
// name's mappings are m (SPEC §3.2, §3.3):
//
//   - a mapped name answers its mapping and nothing else: in a family it
//     is not mapped in, the lookup gives nothing (ok is false), and no DNS
//     query is made in any family;
//   - localhost answers 127.0.0.1 or ::1 without DNS;
//   - any other name is answered by DNS (dns is true, addr is the zero Addr).
func Answer(name string, f Families, m NameMaps) (addr netip.Addr, dns, ok bool) {
	switch {
	case m.Mapped():
		a := m.In(f)
		return a, false, a.IsValid()
	case name == "localhost":
		return LoopbackAddr(f), false, true
	}
	return netip.Addr{}, true, true
}

// ResolvedFrom reports whether an allowed lookup of name in family f can
// give the address a, for a connect or send "resolved from" name: any
// address for a name DNS answers (the zero Addr, an address DNS gives and
// nobody knows yet, included), only the mapping for a mapped name, only
// loopback addresses for localhost.
func ResolvedFrom(name string, f Families, m NameMaps, a netip.Addr) bool {
	ans, dns, ok := Answer(name, f, m)
	switch {
	case !ok:
		return false
	case dns:
		return true
	case !a.IsValid():
		return false // the answer is known; it is not DNS's
	case !m.Mapped(): // localhost
		return LoopbackPrefix(f).Contains(a)
	}
	return a == ans
}

// Where several rules allow one request, the winner must not depend on the
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
//     address, then the first in policy order (BetterHostMap).

// MapRank is the sort key of a mapping rule among the rules allowing one
// request: the lower wins.
func (r *Rule) MapRank() uint64 {
	var class, spread uint64
	switch r.Host.Kind {
	case AddressHost:
		class = 0
		spread = uint64(r.Host.Prefix.Addr().BitLen() - r.Host.Prefix.Bits())
	case InterfaceHost, NameHost:
		class = 1
	case LocalhostHost:
		class = 1 // a name outbound
		if r.Kind == ast.Inbound {
			class = 2
		}
	case WildcardHost:
		class = 2
	default: // "*"
		class = 3
	}
	off := uint64(r.PortMap.Offset() + 1<<16) // 0 .. 2^17-1
	return class<<60 | spread<<52 | off<<32 | uint64(uint32(r.Index))
}

// BetterHostMap reports whether the mapping resolve rule a answers a
// lookup rather than b (nil: none yet): the lower address, then the first.
func BetterHostMap(a, b *Rule) bool {
	if b == nil {
		return true
	}
	if c := a.HostMap.Compare(b.HostMap); c != 0 {
		return c < 0
	}
	return a.Index < b.Index
}

// Pick keeps the winner among the rules allowing one request in one
// family: the port-mapping rule of lowest MapRank, else the first rule.
// The zero Pick is empty.
type Pick struct{ Mapped, First *Rule }

// Add considers one more rule allowing the request.
func (pk *Pick) Add(r *Rule) {
	if pk.First == nil || r.Index < pk.First.Index {
		pk.First = r
	}
	if r.PortMap.IsMapped() && (pk.Mapped == nil || r.MapRank() < pk.Mapped.MapRank()) {
		pk.Mapped = r
	}
}

// Merge considers the rules another Pick kept.
func (pk *Pick) Merge(o Pick) {
	if o.First != nil {
		pk.Add(o.First)
	}
	if o.Mapped != nil {
		pk.Add(o.Mapped)
	}
}

// Winner returns the deciding rule, or nil when no rule allows the request.
func (pk Pick) Winner() *Rule {
	if pk.Mapped != nil {
		return pk.Mapped
	}
	return pk.First
}

// NetSummary is what the networks (outbound address rules) allowing one
// protocol, port and family say about a connect or send to an address DNS
// gives for a name, which nobody knows yet.
type NetSummary struct {
	// Covers is true when the networks together cover every address of the
	// family (0.0.0.0/0; or 0.0.0.0/1 and 128.0.0.0/1; ...): then every
	// address DNS can give is allowed.
	Covers bool
	// Pick is the winner among the networks.
	Pick Pick
	// Mapping says how the mapping networks map the port: MapOffset is
	// their offset when they all agree (MapMixed false) and there is one
	// (MapAny); MapCovers is true when they alone cover the family.
	MapAny, MapMixed, MapCovers bool
	MapOffset                   int
}

// SummarizeNets summarizes the networks allowing one protocol and port in
// family f.
func SummarizeNets(nets []*Rule, f Families) NetSummary {
	var s NetSummary
	var all, mapped netipx.IPSetBuilder
	for _, r := range nets {
		s.Pick.Add(r)
		all.AddPrefix(r.Host.Prefix)
		if !r.PortMap.IsMapped() {
			continue
		}
		mapped.AddPrefix(r.Host.Prefix)
		switch o := r.PortMap.Offset(); {
		case !s.MapAny:
			s.MapAny, s.MapOffset = true, o
		case o != s.MapOffset:
			s.MapMixed = true
		}
	}
	s.Covers = CoversFamily(&all, f)
	s.MapCovers = s.MapAny && CoversFamily(&mapped, f)
	return s
}

// CoversFamily reports whether the networks of b cover every address of family f.
func CoversFamily(b *netipx.IPSetBuilder, f Families) bool {
	set, err := b.IPSet()
	return err == nil && set.ContainsPrefix(fullPrefix(f))
}

// DecideUnknown decides a connect or send of the guest port to an address
// DNS gives, which nobody knows yet, in one family: whole holds the rules
// allowing every address (the host "*", and the rules to names the address
// is resolved from), nets summarizes the networks. It is allowed when a
// connect to every address of the family would be: by a whole rule, or by
// networks that together cover the family. The winner is nil when it is
// denied. The host port is the one every address would get, or 0 when it
// depends on the address (networks that map the port cover only some
// addresses, or map it differently).
func DecideUnknown(whole Pick, nets NetSummary, port uint16) (winner *Rule, hostPort uint16) {
	all := whole
	if nets.Covers {
		all.Merge(nets.Pick) // a mapping network wins over the rest (MapRank)
	}
	if winner = all.Winner(); winner == nil {
		return nil, 0
	}
	// An address outside the mapping networks gets the whole rules' mapping.
	outside := 0
	if whole.Mapped != nil {
		outside = whole.Mapped.PortMap.Offset()
	}
	known, off := true, outside
	switch {
	case nets.MapMixed:
		known = false
	case nets.MapAny:
		off = nets.MapOffset
		known = off == outside || nets.MapCovers
	}
	if known {
		hostPort = uint16(int(port) + off)
	}
	return winner, hostPort
}
