package policy

import (
	"net/netip"

	"github.com/capspec/capspec/literal"
)

// HostKind says what a compiled rule's host is. The kinds are declared in
// canonical order (SPEC §4.5): "*", addresses, localhost, interfaces, names.
type HostKind uint8

// The host kinds.
const (
	AnyHost       HostKind = iota // "*": every name, address or interface
	AddressHost                   // an IP address (a /32 or /128 prefix) or a CIDR
	LocalhostHost                 // "localhost": loopback (127.0.0.0/8, ::1)
	InterfaceHost                 // "eth0": a named interface (inbound only)
	NameHost                      // "example.com": exactly that name
	WildcardHost                  // "*.example.com": names below example.com, never the apex
)

var hostKindNames = [...]string{"any", "address", "localhost", "interface", "name", "wildcard"}

// String names the kind: any, address, localhost, interface, name or wildcard.
func (k HostKind) String() string {
	if int(k) < len(hostKindNames) {
		return hostKindNames[k]
	}
	return "unknown"
}

// IsName reports whether hosts of this kind match by DNS name: exact names,
// wildcards and localhost.
func (k HostKind) IsName() bool { return k == NameHost || k == WildcardHost || k == LocalhostHost }

// Host is the host of a compiled rule. It is comparable, so it can be part
// of a map key.
type Host struct {
	Kind HostKind
	// Name is the domain of a name (lowercase A-labels, no trailing dot),
	// the domain below which a wildcard matches, "localhost", or the
	// interface name.
	Name string
	// Prefix is the network of an address host; a single address is a /32
	// or /128 prefix.
	Prefix netip.Prefix
}

// fullPrefix returns 0.0.0.0/0 or ::/0.
func fullPrefix(f Families) netip.Prefix {
	if f == IPv6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// String writes the host as a canonical rule writes it: "*", "10.0.0.1",
// "10.0.0.0/8", "[::1]", "[2001:db8::/32]", "localhost", "eth0",
// "example.com", "*.example.com".
func (h Host) String() string {
	switch h.Kind {
	case AnyHost:
		return "*"
	case AddressHost:
		return literal.FormatPrefix(h.Prefix)
	case WildcardHost:
		return "*." + h.Name
	}
	return h.Name
}

// coversNames reports whether every name that g matches, h matches too.
func (h Host) coversNames(g Host) bool {
	switch g.Kind {
	case AnyHost:
		return h.Kind == AnyHost
	case NameHost, LocalhostHost:
		return h.MatchesName(g.Name)
	case WildcardHost:
		switch h.Kind {
		case AnyHost:
			return true
		case WildcardHost:
			return g.Name == h.Name || h.MatchesName(g.Name)
		}
	}
	return false
}

// namesOverlap reports whether some name matches both name hosts.
func namesOverlap(h, g Host) bool { return h.coversNames(g) || g.coversNames(h) }
