package policygen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// The mix: a policy and a set of distinct requests shaped like real
// traffic, shared by the decision benchmarks (BenchmarkDecideMix), the
// differential test of the mix and the comparison with other engines
// (bench/peers). Half the requests hit a rule; the other half are near
// misses of one (a port just past a range, the address just outside a
// network, the apex of a wildcard, a parent or child name, the other
// protocol or family).
//
// The policy has no mappings and no networks that cover a family (no /0,
// no halves), so that engines deciding only allow or deny, such as Cedar
// and Rego, can model every decision of it exactly.

// MixPolicy writes a policy of n rules: outbound rules to exact names,
// wildcards at two depths, IPv4 and IPv6 addresses and networks, over TCP
// and UDP; resolve rules for names and wildcards; inbound rules on
// addresses and interfaces; ports single, listed, ranged and "*"; family
// modifiers. A few broad rules (localhost, "*" on one port) come first
// when n allows, and a sixteenth of the requests are about them.
func MixPolicy(n int) []string {
	r := rand.New(rand.NewPCG(4, uint64(n)))
	flags := make([]string, 0, n)
	fams := []string{"", "", "#ipv4-only", "#ipv6-only"}
	fam := func() string { return Pick(r, fams) }
	proto := func() string {
		if r.IntN(4) == 0 {
			return "udp"
		}
		return "tcp"
	}
	ports := func(inbound bool) string {
		switch r.IntN(16) {
		case 0:
			return "*"
		case 1, 2, 3:
			a := 1 + r.IntN(60000)
			return fmt.Sprintf("%d-%d", a, a+r.IntN(1000))
		case 4, 5, 6:
			return fmt.Sprintf("%d,%d,%d", 1+r.IntN(1000), 1000+r.IntN(1000), 8000+r.IntN(1000))
		case 7, 8:
			return "80,443"
		case 9:
			if inbound {
				return "0"
			}
		}
		return fmt.Sprint(1 + r.IntN(65000))
	}
	broad := []string{
		"--allow-inbound=tcp://localhost:8000-8999",
		"--allow-outbound=tcp://*:443#ipv6-only",
		"--allow-outbound=udp://*:53#ipv4-only",
	}
	switch {
	case n >= 100:
		flags = append(flags, broad...)
	case n >= 10:
		flags = append(flags, broad[0])
	}
	// The kinds of rule, in an order that gives a policy of 10 rules one
	// of each main kind.
	for i := 0; len(flags) < n; i++ {
		switch i % 16 {
		case 0, 9, 14:
			flags = append(flags, fmt.Sprintf("--allow-outbound=%s://svc%d.example.com:%s%s", proto(), i, ports(false), fam()))
		case 1, 13:
			flags = append(flags, fmt.Sprintf("--allow-resolve=host%d.example.org%s", i, fam()))
		case 2:
			flags = append(flags, fmt.Sprintf("--allow-outbound=%s://10.%d.%d.%d:%s", proto(), r.IntN(256), r.IntN(256), 1+r.IntN(254), ports(false)))
		case 3:
			flags = append(flags, fmt.Sprintf("--allow-outbound=%s://*.zone%d.example.net:%s%s", proto(), i, ports(false), fam()))
		case 4:
			flags = append(flags, fmt.Sprintf("--allow-inbound=%s://10.%d.%d.%d:%s", proto(), r.IntN(256), r.IntN(256), 1+r.IntN(254), ports(true)))
		case 5:
			flags = append(flags, fmt.Sprintf("--allow-outbound=%s://[2001:db8:%x::/48]:%s", proto(), r.IntN(65536), ports(false)))
		case 6:
			flags = append(flags, fmt.Sprintf("--allow-resolve=*.r%d.example.org%s", i, fam()))
		case 7:
			flags = append(flags, fmt.Sprintf("--allow-outbound=%s://172.%d.%d.0/24:%s", proto(), 16+r.IntN(16), r.IntN(256), ports(false)))
		case 8:
			flags = append(flags, fmt.Sprintf("--allow-inbound=%s://eth%d:%s", proto(), r.IntN(1000), ports(true)))
		case 10:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://*.k%d.svc.cluster.local:%s%s", i, ports(false), fam()))
		case 11:
			flags = append(flags, fmt.Sprintf("--allow-outbound=%s://[2001:db8:%x::%x]:%s", proto(), r.IntN(65536), 1+r.IntN(65535), ports(false)))
		case 12:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://10.%d.0.0/16:%s", r.IntN(256), ports(false)))
		case 15:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://[fd00:%x:%x::/64]:%s", r.IntN(65536), r.IntN(65536), ports(false)))
		}
	}
	return flags
}

// MixSize is the number of requests of a mix: a power of two, so that a
// benchmark can cycle through them with a mask.
const MixSize = 1024

// MixRequests makes m distinct requests for the rules of p (MixPolicy):
// even ones hit a rule picked at random, odd ones are near misses of one.
// Every kind of request is among them: lookups with and without a family,
// connects and sends by name, by address and by address via a name, and
// listens and binds on addresses, interfaces, localhost and "*". Names are
// canonical (lowercase, no trailing dot), as a runtime passes them on.
func MixRequests(p *policy.Policy, m int) []eval.Request {
	r := rand.New(rand.NewPCG(5, uint64(len(p.Rules))))
	seen := map[string]bool{}
	out := make([]eval.Request, 0, m)
	for tries := 0; len(out) < m && len(p.Rules) > 0 && tries < 1000*m; tries++ {
		rule := Pick(r, p.Rules)
		if r.IntN(16) == 0 {
			rule = p.Rules[r.IntN(min(3, len(p.Rules)))] // the broad rules
		}
		q := mixHit(r, rule)
		if len(out)%2 == 1 {
			q = mixMiss(r, rule, q)
		}
		key := fmt.Sprintf("%s|%d|%d", q, q.Family, q.Local)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, q)
	}
	return out
}

// mixLabel returns a random label, a name below a wildcard's domain.
func mixLabel(r *rand.Rand) string {
	return Pick(r, []string{"www", "api", "a", "b1", "mail", "cdn", "x-y"}) + fmt.Sprint(r.IntN(1000))
}

// mixPort returns a random port of a set (80 for an empty one).
func mixPort(r *rand.Rand, ps policy.PortSet) uint16 {
	if len(ps) == 0 {
		return 80
	}
	pr := Pick(r, ps)
	return pr.Lo + uint16(r.IntN(pr.Len()))
}

// mixFamily returns a family of fs at random.
func mixFamily(r *rand.Rand, fs policy.Families) policy.Families {
	if fs == policy.AllFamilies {
		return Pick(r, []policy.Families{policy.IPv4, policy.IPv6})
	}
	return fs
}

// mixAddr returns a random address of family f that is no unspecified,
// loopback or documentation-network address of the mix.
func mixAddr(r *rand.Rand, f policy.Families) netip.Addr {
	if f == policy.IPv6 {
		return netip.AddrFrom16([16]byte{0x26, 0x06, byte(r.IntN(256)), byte(r.IntN(256)), 15: byte(1 + r.IntN(254))})
	}
	return netip.AddrFrom4([4]byte{byte(1 + r.IntN(9)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
}

// inPrefix returns a random address of a network.
func inPrefix(r *rand.Rand, p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		if r.IntN(2) == 0 {
			b[i/8] |= 1 << (7 - i%8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// opOf returns the operation of a rule's kind and protocol.
func opOf(rule *policy.Rule) eval.Op {
	switch {
	case rule.Kind == ast.Resolve:
		return eval.Lookup
	case rule.Kind == ast.Outbound:
		if rule.Protocol == ast.UDP {
			return eval.Send
		}
		return eval.Connect
	case rule.Protocol == ast.UDP:
		return eval.Bind
	}
	return eval.Listen
}

// mixHit makes a request the rule allows.
func mixHit(r *rand.Rand, rule *policy.Rule) eval.Request {
	h := rule.Host
	q := eval.Request{Op: opOf(rule), Port: mixPort(r, rule.Ports)}
	name := func() string {
		switch h.Kind {
		case policy.WildcardHost:
			if r.IntN(4) == 0 {
				return mixLabel(r) + "." + mixLabel(r) + "." + h.Name
			}
			return mixLabel(r) + "." + h.Name
		case policy.AnyHost:
			return mixLabel(r) + ".example.com"
		}
		return h.Name
	}
	switch q.Op {
	case eval.Lookup:
		q.Port = 0
		q.Name = name()
		if r.IntN(2) == 0 {
			q.Family = mixFamily(r, rule.Families)
		}
	case eval.Connect, eval.Send:
		switch {
		case h.Kind == policy.AddressHost:
			q.Addr = inPrefix(r, h.Prefix)
		case h.Kind == policy.AnyHost:
			q.Addr = mixAddr(r, mixFamily(r, rule.Families))
		case r.IntN(3) == 0:
			q.Name, q.Addr = name(), mixAddr(r, mixFamily(r, rule.Families))
		default:
			q.Name = name()
		}
	default:
		switch h.Kind {
		case policy.AddressHost:
			q.Addr = h.Prefix.Addr()
		case policy.InterfaceHost:
			q.Local, q.Name = eval.LocalInterface, h.Name
		case policy.LocalhostHost:
			switch r.IntN(3) {
			case 0:
				q.Local = eval.LocalLocalhost
			case 1:
				q.Addr = netip.AddrFrom4([4]byte{127, 0, byte(r.IntN(4)), byte(1 + r.IntN(254))})
			default:
				q.Addr = netip.IPv6Loopback()
			}
		default:
			q.Local = eval.LocalAny
		}
	}
	return q
}

// mixMiss changes one thing of a hit of the rule so that the rule no
// longer allows it (another rule may).
func mixMiss(r *rand.Rand, rule *policy.Rule, q eval.Request) eval.Request {
	for range 8 {
		switch r.IntN(5) {
		case 0: // a port just outside
			if len(rule.Ports) == 0 {
				continue
			}
			pr := Pick(r, rule.Ports)
			if r.IntN(2) == 0 && pr.Hi < policy.MaxPort {
				q.Port = pr.Hi + 1
				return q
			}
			if pr.Lo > 1 {
				q.Port = pr.Lo - 1
				return q
			}
		case 1: // the other protocol
			switch q.Op {
			case eval.Connect:
				q.Op = eval.Send
			case eval.Send:
				q.Op = eval.Connect
			case eval.Listen:
				q.Op = eval.Bind
			case eval.Bind:
				q.Op = eval.Listen
			default:
				continue
			}
			return q
		case 2: // a name near the rule's
			if !rule.Host.Kind.IsName() || rule.Host.Kind == policy.LocalhostHost || q.Name == "" {
				continue
			}
			d := rule.Host.Name
			switch {
			case rule.Host.Kind == policy.WildcardHost && r.IntN(2) == 0:
				q.Name = d // the apex
			case rule.Host.Kind == policy.WildcardHost:
				q.Name = "x" + d // not at a label boundary
			case r.IntN(2) == 0:
				q.Name = mixLabel(r) + "." + d // below an exact name
			default:
				q.Name = "x" + d
			}
			return q
		case 3: // the address just outside the network
			if rule.Host.Kind != policy.AddressHost || q.Local == eval.LocalInterface {
				continue
			}
			p := rule.Host.Prefix.Masked()
			a := p.Addr().Prev()
			if r.IntN(2) == 0 {
				a = lastAddr(p).Next()
			}
			if !a.IsValid() || policy.IsUnspecifiedDestination(a) {
				continue
			}
			q.Addr = a
			return q
		case 4: // the other family
			if rule.Families == policy.AllFamilies {
				continue
			}
			other := policy.AllFamilies &^ rule.Families
			switch {
			case q.Op == eval.Lookup:
				q.Family = other
			case q.Addr.IsValid() && q.Name != "":
				q.Addr = mixAddr(r, other)
			default:
				continue
			}
			return q
		}
	}
	// Nothing near: a name no rule of the mix has.
	q = eval.Request{Op: eval.Connect, Name: mixLabel(r) + ".unknown.test", Port: 443}
	return q
}
