package lint

import (
	"fmt"
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var embeddedIPv4Rule = Rule{
	ID:               "CS210",
	Name:             "embedded-ipv4",
	Severity:         diag.Warning,
	SecuritySeverity: 5.0,
	Doc: Doc{
		Summary: "IPv6 target inside NAT64 (64:ff9b::/96), 6to4 (2002::/16) or Teredo (2001::/32): reaches an IPv4 host",
		Rationale: `Some IPv6 addresses carry an IPv4 address inside them and are translated or
tunnelled to it: NAT64 (64:ff9b::/96) by a NAT64 gateway, 6to4 (2002::/16) and
Teredo (2001::/32) by relays. A rule for such an address reaches an IPv4 host,
so it can get around IPv4 rules (and #ipv6-only). The diagnostic names the IPv4
host; write an IPv4 rule for it if that is what you mean.`,
		Bad:  "--allow-outbound=tcp://[64:ff9b::a00:1]:443\n",
		Good: "--allow-outbound=tcp://[2001:db8::1]:443\n",
	},
	Run: runEmbeddedIPv4,
}

// embeddingPrefixes are the IPv6 ranges that carry an IPv4 address.
var embeddingPrefixes = [...]struct {
	name   string
	prefix netip.Prefix
}{
	{"NAT64", netip.MustParsePrefix("64:ff9b::/96")},
	{"6to4", netip.MustParsePrefix("2002::/16")},
	{"Teredo", netip.MustParsePrefix("2001::/32")},
}

func runEmbeddedIPv4(p *Pass) {
	for _, r := range p.Rules() {
		if r.Kind == ast.Outbound && r.Host.Kind == policy.AddressHost && r.Host.Prefix.Addr().Is6() {
			if msg := embeddedIn(r.Host.Prefix); msg != "" {
				p.reportAt(r, hostNode(r), "%s %s", hostText(r), msg)
			}
		}
		if a := r.HostMap; a.Is6() && r.Kind != ast.Inbound {
			if msg := embeddedIn(netip.PrefixFrom(a, 128)); msg != "" {
				p.reportAt(r, r.Source.HostMap, "%s %s", r.Source.HostMap.Raw, msg)
			}
		}
	}
}

// embeddedIn describes how a network inside an embedding range reaches
// IPv4, or returns "".
func embeddedIn(pf netip.Prefix) string {
	for _, e := range embeddingPrefixes {
		if pf.Bits() < e.prefix.Bits() || !e.prefix.Contains(pf.Addr()) {
			continue
		}
		b := pf.Addr().As16()
		var v4 [4]byte
		var bits int
		switch e.name {
		case "NAT64":
			copy(v4[:], b[12:16])
			bits = pf.Bits() - 96
		case "6to4":
			copy(v4[:], b[2:6])
			bits = min(pf.Bits()-16, 32)
		case "Teredo":
			for i := range v4 {
				v4[i] = b[12+i] ^ 0xff
			}
			bits = max(pf.Bits()-96, 0)
		}
		a := netip.AddrFrom4(v4)
		if bits >= 32 {
			return fmt.Sprintf("is a %s address: it reaches the IPv4 host %s", e.name, a)
		}
		if bits <= 0 {
			return fmt.Sprintf("is inside the %s range %s: it reaches IPv4 hosts", e.name, e.prefix)
		}
		return fmt.Sprintf("is inside the %s range %s: it reaches the IPv4 hosts %s", e.name, e.prefix, netip.PrefixFrom(a, bits).Masked())
	}
	return ""
}
