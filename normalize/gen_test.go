package normalize

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
)

// Pools for random policies and requests: small, so that rules overlap,
// merge and subsume often, and requests hit them.
var (
	genNames  = []string{"example.com", "a.example.com", "b.a.example.com", "example.org", "badexample.com", "db.internal", "localhost", "com", "y.z.test", "x.y.z.test"}
	genAddrs  = []string{"10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.1.2.3", "127.0.0.1", "192.168.1.5", "93.184.216.34", "172.17.0.14", "[2001:db8::]", "[2001:db8::1]", "[::1]", "[fe80::1]"}
	genNets   = []string{"10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "10.0.0.0/24", "10.0.0.0/31", "10.0.0.2/31", "0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "127.0.0.0/8", "192.168.0.0/16", "[2001:db8::/32]", "[2001:db8::/127]", "[::/0]", "93.184.216.0/24"}
	genIfaces = []string{"eth0", "eth1", "lo", "eth9"}
	genPorts  = []int{1, 22, 53, 79, 80, 81, 82, 443, 5432, 5433, 8080, 8888, 65535}
	genFams   = []string{"", "", "", "#ipv4-only", "#ipv6-only"}
)

func pickOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// genPorts writes a random port list, sometimes in a noncanonical spelling.
func genPortSpec(r *rand.Rand, inbound bool) string {
	switch r.IntN(10) {
	case 0:
		return "*"
	case 1:
		if inbound {
			return "0"
		}
		return "1-65535"
	case 2:
		a, b := pickOf(r, genPorts), pickOf(r, genPorts)
		return fmt.Sprintf("%d-%d", min(a, b), max(a, b))
	case 3:
		return fmt.Sprintf("%d,%d,%d", pickOf(r, genPorts), pickOf(r, genPorts), pickOf(r, genPorts))
	case 4:
		p := pickOf(r, genPorts)
		return fmt.Sprintf("0%d", p) // a leading zero
	case 5:
		return "1-79,81-65535"
	}
	return fmt.Sprint(pickOf(r, genPorts))
}

// genMapping returns ports with a port mapping.
func genMapping(r *rand.Rand) string {
	from := pickOf(r, []int{22, 53, 80, 443, 5432, 8080})
	to := pickOf(r, []int{22, 80, 5433, 8080, 8888, 9000})
	if r.IntN(3) == 0 {
		return fmt.Sprintf("%d-%d->%d-%d", from, from+2, to, to+2)
	}
	return fmt.Sprintf("%d->%d", from, to)
}

// respell writes a name as people might: in capitals, with a trailing dot.
func respell(r *rand.Rand, s string) string {
	switch r.IntN(8) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		if !strings.HasPrefix(s, "[") && !strings.Contains(s, "/") && s != "*" {
			return s + "."
		}
	}
	return s
}

// genFlag writes one random valid flag, often in a noncanonical spelling.
func genFlag(r *rand.Rand) string {
	for {
		if f := genAnyFlag(r); valid(f) {
			return f
		}
	}
}

// valid reports whether a flag parses without errors.
func valid(flag string) bool {
	r, _ := grammar.ParseFlag(flag, nil)
	return r != nil
}

// genAnyFlag writes one random flag, which may have errors.
func genAnyFlag(r *rand.Rand) string {
	proto := pickOf(r, []string{"tcp", "udp", "TCP"})
	fam := pickOf(r, genFams)
	var flag, spec string
	switch r.IntN(3) {
	case 0:
		flag = "--allow-resolve"
		host := pickOf(r, genNames)
		switch r.IntN(6) {
		case 0:
			host = "*"
		case 1, 2:
			host = "*." + host
		case 3:
			if host != "localhost" {
				host += "->" + pickOf(r, genAddrs)
			}
		}
		spec = respell(r, host) + fam
	case 1:
		flag = "--allow-outbound"
		var host string
		switch r.IntN(8) {
		case 0:
			host = "*"
		case 1:
			host = pickOf(r, genAddrs)
		case 2, 3:
			host = pickOf(r, genNets)
		case 4:
			host = "*." + pickOf(r, genNames)
		case 5:
			if n := pickOf(r, genNames); n != "localhost" {
				host = n + "->" + pickOf(r, genAddrs)
				break
			}
			fallthrough
		default:
			host = pickOf(r, genNames)
		}
		if r.IntN(12) == 0 {
			spec = proto + "://..." + fam
			break
		}
		ports := genPortSpec(r, false)
		if r.IntN(6) == 0 {
			ports = genMapping(r)
		}
		spec = proto + "://" + respell(r, host) + ":" + ports + fam
	default:
		flag = "--allow-inbound"
		var host string
		switch r.IntN(6) {
		case 0:
			host = "*"
		case 1:
			host = "localhost"
		case 2:
			host = pickOf(r, genIfaces)
		case 3:
			host = pickOf(r, []string{"0.0.0.0", "[::]"})
		default:
			host = pickOf(r, genAddrs)
		}
		ports := genPortSpec(r, true)
		if r.IntN(5) == 0 {
			ports = genMapping(r)
		}
		spec = proto + "://" + host + ":" + ports + fam
	}
	if r.IntN(6) == 0 {
		return flag + " " + spec
	}
	return flag + "=" + spec
}

// genFile writes a random flags file of n flags, with comments (each
// "# cN", numbered from 0) and empty lines here and there.
func genFile(r *rand.Rand, n int) (text string, comments int) {
	var b strings.Builder
	comment := func() {
		fmt.Fprintf(&b, "# c%d", comments)
		comments++
	}
	for i := range n {
		for r.IntN(4) == 0 {
			b.WriteString("\n")
		}
		if r.IntN(3) == 0 {
			comment()
			b.WriteString("\n")
		}
		b.WriteString(genFlag(r))
		switch r.IntN(5) {
		case 0:
			b.WriteString("  ")
			comment()
		case 1:
			if i+1 < n {
				b.WriteString(" ") // the next flag on the same line
				continue
			}
		}
		b.WriteString("\n")
	}
	if r.IntN(3) == 0 {
		b.WriteString("\n")
		comment()
		b.WriteString("\n")
	}
	return b.String(), comments
}

// genIfaceTable is the interface table requests are decided with.
func genIfaceTable() *eval.Interfaces {
	return eval.NewInterfaces(map[string][]netip.Prefix{
		"eth0": {netip.MustParsePrefix("10.0.0.5/24"), netip.MustParsePrefix("fe80::1/64")},
		"eth1": {netip.MustParsePrefix("192.168.1.5/24")},
		"lo":   {netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
	})
}

// genRequest makes a random request from the pools and from names, addresses and ports of extra.
func genRequest(r *rand.Rand, extra *requestPool) eval.Request {
	names, addrs, ports := genNames, genAddrs, genPorts
	if extra != nil && r.IntN(2) == 0 {
		if len(extra.names) > 0 {
			names = extra.names
		}
		if len(extra.addrs) > 0 {
			addrs = extra.addrs
		}
		if len(extra.ports) > 0 {
			ports = extra.ports
		}
	}
	name := func() string {
		n := pickOf(r, names)
		if r.IntN(6) == 0 {
			n = "q." + n
		}
		return n
	}
	addr := func() netip.Addr {
		a, err := netip.ParseAddr(strings.Trim(pickOf(r, addrs), "[]"))
		if err != nil {
			return netip.MustParseAddr("10.0.0.1")
		}
		return a
	}
	port := uint16(pickOf(r, ports))
	if r.IntN(10) == 0 {
		port = 0
	}
	switch r.IntN(4) {
	case 0:
		return eval.Request{Op: eval.Lookup, Name: name(), Family: pickOf(r, []policy.Families{0, 0, policy.IPv4, policy.IPv6})}
	case 1, 2:
		q := eval.Request{Op: pickOf(r, []eval.Op{eval.Connect, eval.Send}), Port: port}
		switch r.IntN(3) {
		case 0:
			q.Name = name()
		case 1:
			q.Addr = addr()
		default:
			q.Addr, q.Name = addr(), name()
		}
		return q
	}
	q := eval.Request{Op: pickOf(r, []eval.Op{eval.Listen, eval.Bind}), Port: port}
	switch r.IntN(5) {
	case 0:
		q.Local = eval.LocalAny
	case 1:
		q.Local = eval.LocalLocalhost
	case 2:
		q.Local, q.Name = eval.LocalInterface, pickOf(r, genIfaces)
	case 3:
		q.Addr = pickOf(r, []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()})
	default:
		q.Addr = addr()
	}
	return q
}

// requestPool holds names, addresses and ports taken from a policy, so
// that requests about arbitrary (fuzzed) policies hit their rules.
type requestPool struct {
	names []string
	addrs []string
	ports []int
}

// poolOf collects the hosts and ports of rules: names (a wildcard's
// domain and one name below it), addresses and the ends of networks, port
// range ends and their neighbors.
func poolOf(rules []*policy.Rule) *requestPool {
	p := &requestPool{}
	for _, r := range rules {
		h := r.Host
		switch h.Kind {
		case policy.NameHost, policy.LocalhostHost:
			p.names = append(p.names, h.Name)
		case policy.WildcardHost:
			p.names = append(p.names, h.Name, "w."+h.Name)
		case policy.AddressHost:
			a := h.Prefix.Addr()
			p.addrs = append(p.addrs, a.String(), a.Prev().String(), lastAddr(h.Prefix).String(), lastAddr(h.Prefix).Next().String())
		}
		if r.HostMap.IsValid() {
			p.addrs = append(p.addrs, r.HostMap.String())
		}
		for _, pr := range r.Ports {
			p.ports = append(p.ports, int(pr.Lo), int(pr.Hi), int(pr.Lo)-1, int(pr.Hi)+1)
		}
	}
	var ports []int
	for _, x := range p.ports {
		if x >= 0 && x <= 65535 {
			ports = append(ports, x)
		}
	}
	p.ports = ports
	var addrs []string
	for _, a := range p.addrs {
		if a != "invalid IP" {
			addrs = append(addrs, a)
		}
	}
	p.addrs = addrs
	return p
}

// lastAddr returns the last address of a network.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}
