package explain

import (
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/internal/prose"
	"github.com/capspec/capspec/policy"
)

// Sentence says in plain words what one compiled rule grants, in the manner
// of the seed's comments: "Allow TCP connections to any IP address resolved
// from example.com on port 80; this also allows looking up example.com."
// Mappings are written guest view first, then host view.
func Sentence(r *policy.Rule) string {
	return "Allow " + body(r, true) + "."
}

// Summary says what a rule grants by itself, without "Allow" and without
// what it implies: the line of a grant in the effective summary.
func Summary(r *policy.Rule) string {
	return capitalize(body(r, false)) + "."
}

// body is the sentence of a rule after "Allow", with the implied resolve
// (or, for "*", that no lookup is allowed) when implied is set.
func body(r *policy.Rule, implied bool) string {
	switch r.Kind {
	case ast.Resolve:
		return "looking up " + lookupObject(r)
	case ast.Outbound:
		return outboundBody(r, implied)
	case ast.Inbound:
		return inboundBody(r)
	}
	return r.String()
}

// mappedAnswer says what a host mapping answers a lookup of its name (SPEC
// §3.2): that one address and nothing else, without a DNS query, so that
// a lookup of the other family only gets no answer: "db.internal, which
// answers 10.0.0.5 and nothing else, without a DNS query (a lookup of IPv6
// addresses gets no answer)".
func mappedAnswer(name string, a netip.Addr) string {
	return name + ", which answers " + a.String() + " and nothing else, without a DNS query" + noOtherFamily(a)
}

// noOtherFamily says that a lookup of the family a mapped address is not
// of gets no answer: " (a lookup of IPv6 addresses gets no answer)".
func noOtherFamily(a netip.Addr) string {
	other := "IPv6"
	if a.Is6() {
		other = "IPv4"
	}
	return " (a lookup of " + other + " addresses gets no answer)"
}

// overrideSentence says how the mapping grant m wins over another grant
// where both match (where: "For db.internal", "On port 80"), naming the
// rules of m (by).
func overrideSentence(m *policy.Rule, where, by string) string {
	if m.Kind == ast.Resolve {
		return where + ", the mapping of " + by + " is the whole answer: " + m.HostMap.String() +
			", without a DNS query" + noOtherFamily(m.HostMap) + "."
	}
	return where + ", the mapping of " + by + " applies instead (a mapping wins)."
}

// lookupObject is what a resolve rule lets the guest look up, with the
// records or the answer: "example.com itself, not the names below it (A
// and AAAA records)".
func lookupObject(r *policy.Rule) string {
	h := r.Host
	switch {
	case r.HostMap.IsValid():
		return mappedAnswer(h.Name, r.HostMap)
	case h.Kind == policy.LocalhostHost:
		return "localhost, which always answers " + loopbackList(r.Families) + " without a DNS query"
	}
	var s string
	switch h.Kind {
	case policy.AnyHost:
		s = "any name"
	case policy.WildcardHost:
		s = "every name below " + h.Name + " (such as a." + h.Name + " and a.b." + h.Name + "), not " + h.Name + " itself"
	default:
		s = h.Name + " itself, not the names below it"
	}
	return s + " (" + records(r.Families) + ")"
}

// records names the answers a lookup of some families returns.
func records(f policy.Families) string {
	switch f {
	case policy.IPv4:
		return "A records only: IPv4 addresses"
	case policy.IPv6:
		return "AAAA records only: IPv6 addresses"
	}
	return "A and AAAA records"
}

// loopbackList names the loopback addresses of some families.
func loopbackList(f policy.Families) string {
	switch f {
	case policy.IPv4:
		return "an IPv4 loopback address (127.0.0.0/8)"
	case policy.IPv6:
		return "the IPv6 loopback address ::1"
	}
	return "a loopback address (127.0.0.0/8 or ::1)"
}

// outboundBody is the sentence of an outbound rule after "Allow".
func outboundBody(r *policy.Rule, implied bool) string {
	var b strings.Builder
	if r.Protocol == ast.UDP {
		b.WriteString("sending UDP datagrams to ")
	} else {
		b.WriteString("TCP connections to ")
	}
	b.WriteString(outboundTarget(r))
	b.WriteString(" ")
	b.WriteString(portPhrase(r.Ports, true))
	if r.PortMap.IsMapped() {
		b.WriteString("; ")
		b.WriteString(outboundMapping(r))
	}
	if !implied {
		return b.String()
	}
	if ir := r.ImpliedResolve(); ir != nil {
		b.WriteString("; this also allows looking up ")
		b.WriteString(impliedObject(ir))
	} else if r.Host.Kind == policy.AnyHost || r.Host.Kind == policy.AddressHost && r.Host.Prefix.Bits() == 0 {
		b.WriteString("; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)")
	}
	return b.String()
}

// impliedObject is what an implied resolve lets the guest look up, shorter
// than lookupObject: the records are named only when restricted.
func impliedObject(r *policy.Rule) string {
	h := r.Host
	switch {
	case r.HostMap.IsValid():
		return mappedAnswer(h.Name, r.HostMap)
	case h.Kind == policy.LocalhostHost:
		return "localhost, which answers " + loopbackList(r.Families) + " without a DNS query"
	}
	s := h.Name
	if h.Kind == policy.WildcardHost {
		s = "every name below " + h.Name + ", not " + h.Name + " itself"
	}
	if r.Families != policy.AllFamilies {
		s += " (" + records(r.Families) + ")"
	}
	return s
}

// ipWord is "IP " for both families, or the family word.
func ipWord(fw string) string {
	if fw == "" {
		return "IP "
	}
	return fw
}

// outboundTarget is the guest-side destination of an outbound rule.
func outboundTarget(r *policy.Rule) string {
	h, fw := r.Host, r.Families.Adjective()
	switch h.Kind {
	case policy.AnyHost:
		return "any " + fw + "address"
	case policy.AddressHost:
		return prefixPhrase(h.Prefix)
	case policy.LocalhostHost:
		return "localhost, that is " + loopbackList(r.Families) + ","
	case policy.NameHost:
		if r.HostMap.IsValid() {
			return h.Name + ", which the guest resolves to exactly " + r.HostMap.String() + " without a DNS query,"
		}
		return "any " + ipWord(fw) + "address resolved from " + h.Name
	case policy.WildcardHost:
		return "any " + ipWord(fw) + "address resolved from a name below " + h.Name + " (not " + h.Name + " itself)"
	}
	return h.String()
}

// prefixPhrase writes an address ("10.0.0.1"), a network with its first
// and last address ("10.0.0.0/8 (10.0.0.0–10.255.255.255)") or a whole
// family ("any IPv4 address (0.0.0.0/0)").
func prefixPhrase(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	if p.Bits() == 0 {
		if p.Addr().Is4() {
			return "any IPv4 address (0.0.0.0/0)"
		}
		return "any IPv6 address (::/0)"
	}
	rg := netipx.RangeOfPrefix(p)
	return p.String() + " (" + rg.From().String() + "–" + rg.To().String() + ")"
}

// outboundMapping writes a port mapping of an outbound rule, guest view
// first: "a guest connection to my-database.internal (172.17.0.14) port
// 5432 is made by the host to 172.17.0.14 port 5433".
func outboundMapping(r *policy.Rule) string {
	guest, host := "an address", "the same address"
	h := r.Host
	switch h.Kind {
	case policy.AddressHost:
		guest = prefixPhrase(h.Prefix)
		if h.Prefix.IsSingleIP() {
			host = guest
		} else {
			guest = "an address in " + h.Prefix.String()
		}
	case policy.LocalhostHost:
		guest = "a loopback address"
	case policy.NameHost:
		guest = "an address of " + h.Name
		if r.HostMap.IsValid() {
			guest = h.Name + " (" + r.HostMap.String() + ")"
			host = r.HostMap.String()
		}
	case policy.WildcardHost:
		guest = "an address of a name below " + h.Name
	}
	from, to := r.PortMap.From, r.PortMap.To
	verb, made := "a guest connection to ", " is made by the host to "
	if r.Protocol == ast.UDP {
		verb, made = "a guest datagram to ", " is sent by the host to "
	}
	return verb + guest + " " + portRangeWord(from) + made + host + " " + portRangeWord(to) + inOrder(r.PortMap)
}

// portRangeWord writes "port 80" or "ports 8000–8009".
func portRangeWord(r policy.PortRange) string {
	if r.Lo == r.Hi {
		return "port " + strconv.Itoa(int(r.Lo))
	}
	return "ports " + rangeText(r)
}

// inOrder spells out a range mapping: " (8000 to 9000, …, 8009 to 9009)".
func inOrder(m policy.PortMapping) string {
	if m.From.Lo == m.From.Hi {
		return ""
	}
	return " (" + strconv.Itoa(int(m.From.Lo)) + " to " + strconv.Itoa(int(m.To.Lo)) + ", …, " +
		strconv.Itoa(int(m.From.Hi)) + " to " + strconv.Itoa(int(m.To.Hi)) + ")"
}

// rangeText writes a port range with an en dash: "35000–35999".
func rangeText(r policy.PortRange) string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "–" + strconv.Itoa(int(r.Hi))
}

// portPhrase writes the ports of a rule: "on port 80", "on ports 80 and
// 443", "on any port", "on a port the system picks (port 0)".
func portPhrase(s policy.PortSet, outbound bool) string {
	if s.Equal(policy.AllPorts(outbound)) {
		if outbound {
			return "on any port"
		}
		return "on any port, or a port the system picks (port 0)"
	}
	var items []string
	zero := false
	for _, r := range s {
		if r.Lo == 0 {
			zero = true
			if r.Hi == 0 {
				continue
			}
			r.Lo = 1
		}
		items = append(items, rangeText(r))
	}
	if len(items) == 0 {
		return "on a port the system picks (port 0)"
	}
	word := "ports "
	if len(items) == 1 && s[len(s)-1].Lo == s[len(s)-1].Hi {
		word = "port "
	}
	out := "on " + word + prose.JoinAnd(items)
	if zero {
		out += ", or a port the system picks (port 0)"
	}
	return out
}

// inboundBody is the sentence of an inbound rule after "Allow".
func inboundBody(r *policy.Rule) string {
	var b strings.Builder
	if r.Protocol == ast.UDP {
		b.WriteString("binding UDP sockets (and receiving datagrams on them) on ")
	} else {
		b.WriteString("listening for TCP connections (and accepting them) on ")
	}
	b.WriteString(localPhrase(r))
	b.WriteString(" ")
	b.WriteString(portPhrase(r.Ports, false))
	if m := r.PortMap; m.IsMapped() {
		verb := "listens on "
		if r.Protocol == ast.UDP {
			verb = "binds "
		}
		b.WriteString(": the guest " + verb + portRangeWord(m.From) + "; the host " + verb + portRangeWord(m.To) + inOrder(m))
	}
	return b.String()
}

// localPhrase writes the local side of an inbound rule: "every interface
// (IPv4 and IPv6)", "the loopback interfaces only (127.0.0.0/8 and ::1)".
func localPhrase(r *policy.Rule) string {
	h, f := r.Host, r.Families
	switch h.Kind {
	case policy.AnyHost:
		switch f {
		case policy.IPv4:
			return "every interface, IPv4 only (0.0.0.0),"
		case policy.IPv6:
			return "every interface, IPv6 only ([::]),"
		}
		return "every interface (IPv4 and IPv6)"
	case policy.LocalhostHost:
		switch f {
		case policy.IPv4:
			return "the IPv4 loopback interface only (127.0.0.0/8)"
		case policy.IPv6:
			return "the IPv6 loopback interface only (::1)"
		}
		return "the loopback interfaces only (127.0.0.0/8 and ::1)"
	case policy.InterfaceHost:
		s := "the network interface " + h.Name
		switch f {
		case policy.IPv4:
			s += ", IPv4 only,"
		case policy.IPv6:
			s += ", IPv6 only,"
		}
		return s
	case policy.AddressHost:
		if policy.IsLoopback(h.Prefix.Addr()) {
			return "the loopback address " + h.Prefix.Addr().String() + " only,"
		}
		return "the local address " + h.Prefix.Addr().String() + " only,"
	}
	return h.String()
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
