package literal

import (
	"net/netip"
	"strconv"
)

// FormatAddr writes an address as a rule writes it: IPv4 in dotted
// decimal, IPv6 in RFC 5952 form in brackets ("[2001:db8::1]").
func FormatAddr(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	return "[" + a.String() + "]"
}

// FormatPrefix writes a network as a rule writes it: a single address as
// FormatAddr does, "10.0.0.0/8", "[2001:db8::/32]". The prefix is written
// masked.
func FormatPrefix(p netip.Prefix) string {
	if p.IsSingleIP() {
		return FormatAddr(p.Addr())
	}
	p = p.Masked()
	s := p.Addr().String() + "/" + strconv.Itoa(p.Bits())
	if p.Addr().Is6() {
		return "[" + s + "]"
	}
	return s
}
