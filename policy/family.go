package policy

import (
	"net/netip"

	"github.com/capspec/capspec/ast"
)

// Families is a set of address families: IPv4, IPv6, both, or none.
type Families uint8

// The families.
const (
	IPv4        Families = 1 << iota // A answers, IPv4 addresses
	IPv6                             // AAAA answers, IPv6 addresses
	NoFamily    Families = 0
	AllFamilies          = IPv4 | IPv6
)

// FamiliesOf returns the families a modifier allows: both for none.
func FamiliesOf(f ast.Family) Families {
	switch f {
	case ast.IPv4Only:
		return IPv4
	case ast.IPv6Only:
		return IPv6
	}
	return AllFamilies
}

// FamilyOf returns the family of an address (IPv4 for an IPv4-mapped IPv6
// address), or NoFamily for the zero Addr.
func FamilyOf(a netip.Addr) Families {
	switch {
	case !a.IsValid():
		return NoFamily
	case a.Is4() || a.Is4In6():
		return IPv4
	}
	return IPv6
}

// Has reports whether every family of g is in f (and g is not empty).
func (f Families) Has(g Families) bool { return g != 0 && f&g == g }

// Overlaps reports whether f and g share a family.
func (f Families) Overlaps(g Families) bool { return f&g != 0 }

// Modifier returns the modifier that restricts a rule to f: "#ipv4-only",
// "#ipv6-only", or "" for both families (or none).
func (f Families) Modifier() string {
	switch f {
	case IPv4:
		return "#ipv4-only"
	case IPv6:
		return "#ipv6-only"
	}
	return ""
}

// Adjective names a restriction to one family as words go before
// "address": "IPv4 ", "IPv6 ", or "" for both families (or none).
func (f Families) Adjective() string {
	switch f {
	case IPv4:
		return "IPv4 "
	case IPv6:
		return "IPv6 "
	}
	return ""
}

// String names the families: "ipv4", "ipv6", "ipv4, ipv6" or "none".
func (f Families) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	case AllFamilies:
		return "ipv4, ipv6"
	}
	return "none"
}

// List returns the families as names ("ipv4", "ipv6"), in that order.
func (f Families) List() []string {
	var out []string
	if f&IPv4 != 0 {
		out = append(out, "ipv4")
	}
	if f&IPv6 != 0 {
		out = append(out, "ipv6")
	}
	return out
}
