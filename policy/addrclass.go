package policy

import (
	"net/netip"

	"github.com/capspec/capspec/literal"
)

// This file is the one home of the address classes that rules, requests,
// lint and explain ask about: loopback, unspecified, link-local and the
// cloud metadata addresses. Every pass calls these functions; none keeps a
// list of its own.

// Loopback networks: the addresses of localhost.
var (
	Loopback4 = netip.MustParsePrefix("127.0.0.0/8")
	Loopback6 = netip.MustParsePrefix("::1/128")
)

// Unspecified networks: a connect or send to an address inside them is
// denied whatever the rules say (SPEC §3.3); on Linux they reach the host
// itself.
var (
	Unspecified4 = netip.MustParsePrefix("0.0.0.0/8")
	Unspecified6 = netip.MustParsePrefix("::/128")
)

// LoopbackPrefix returns the loopback network of one family.
func LoopbackPrefix(f Families) netip.Prefix {
	if f == IPv6 {
		return Loopback6
	}
	return Loopback4
}

// IsLoopback reports whether a is a loopback address (127.0.0.0/8 or ::1).
// An IPv4-mapped address is decided as its IPv4 address.
// It is on the path of decisions, so it compares bytes rather than asking
// the prefixes (the same function: TestAddrClassesFast).
func IsLoopback(a netip.Addr) bool {
	if a.Is4() || a.Is4In6() {
		return a.As16()[12] == 127 // Loopback4
	}
	return a == netip.IPv6Loopback() // Loopback6 (a zoned address is in no prefix)
}

// IsUnspecifiedDestination reports whether a is no valid destination of a
// connect or send: 0.0.0.0/8 or [::] (SPEC §3.3). An IPv4-mapped address is
// decided as its IPv4 address.
// It is on the path of every connect and send, so it compares bytes rather
// than asking the prefixes (the same function: TestAddrClassesFast).
func IsUnspecifiedDestination(a netip.Addr) bool {
	if a.Is4() || a.Is4In6() {
		return a.As16()[12] == 0 // Unspecified4
	}
	return a == netip.IPv6Unspecified() // Unspecified6 (a zoned address is in no prefix)
}

// AddrClass is a named class of addresses that an outbound rule should not
// reach by accident.
type AddrClass struct {
	What     string         // "loopback", "link-local", ...
	Prefixes []netip.Prefix // its networks, IPv4 first
}

// SensitiveClasses returns the classes of sensitive destinations (CS205):
// loopback, link-local, the cloud metadata addresses and the unspecified
// addresses. It returns a new slice on every call.
func SensitiveClasses() []AddrClass {
	return []AddrClass{
		{"loopback", []netip.Prefix{Loopback4, Loopback6}},
		{"link-local", []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10")}},
		{"the cloud metadata address", []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("fd00:ec2::254/128")}},
		{"the unspecified address", []netip.Prefix{Unspecified4, Unspecified6}},
	}
}

// IsLocalhostName reports whether a canonical name reaches loopback
// without a DNS query: localhost itself and, as RFC 6761 §6.3 asks
// resolvers to treat them, the names below it (app.localhost).
func IsLocalhostName(name string) bool {
	return name == literal.Localhost || UnderDomain(name, literal.Localhost)
}
