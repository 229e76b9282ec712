// Package policygen makes random policies and requests for tests: flags
// over small pools of names, addresses, networks, interfaces and ports, so
// that rules overlap, merge and subsume often; networks that cover a
// family only together; and requests that hit the rules and just miss them
// (a name below a wildcard's domain, the address just outside a network,
// the port just past a range); pairs of policies that differ a little
// where they meet (Mutate, Related); and requests aimed at every rule of
// such pairs (Aimed). The tests of the evaluator, the formatter, interop
// and diff share it.
package policygen

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// The pools: small, so that rules and requests collide often.
var (
	Names = []string{"example.com", "a.example.com", "b.a.example.com", "example.org", "badexample.com", "db.internal", "localhost", "com", "x.y.z.test", "y.z.test"}
	Addrs = []string{"10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.1.2.3", "127.0.0.1", "127.0.0.2", "192.168.1.5",
		"93.184.216.34", "172.17.0.14", "8.8.8.8", "[2001:db8::]", "[2001:db8::1]", "[::1]", "[fe80::1]", "[2606:2800::1]", "[2001:db8:1::5]"}
	Nets = []string{"10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "10.0.0.0/24", "10.0.0.0/31", "10.0.0.2/31", "0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1",
		"128.0.0.0/2", "192.0.0.0/2", "127.0.0.0/8", "192.168.0.0/16", "93.184.216.0/24", "[2001:db8::/32]", "[2001:db8::/64]", "[2001:db8::/127]",
		"[::/0]", "[::/1]", "[8000::/1]"}
	// Splits are networks that cover a family only together.
	Splits = [][]string{
		{"0.0.0.0/1", "128.0.0.0/1"},
		{"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"},
		{"0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"},
		{"[::/1]", "[8000::/1]"},
	}
	Ifaces   = []string{"eth0", "eth1", "lo", "eth9"}
	Ports    = []int{1, 22, 53, 79, 80, 81, 82, 443, 5432, 5433, 8080, 8888, 65535}
	Families = []string{"", "", "", "#ipv4-only", "#ipv6-only"}
	// Unspecified are destinations a connect or send is always denied.
	Unspecified = []string{"0.0.0.0", "0.1.2.3", "[::]", "[::ffff:0.0.0.0]"}
)

// Pick returns a random element of xs.
func Pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// Options say how flags are written.
type Options struct {
	// Respell writes flags as people might: names in capitals or with a
	// trailing dot, ports with a leading zero or as "1-65535", "TCP", and
	// the two-word form "--allow-X SPEC".
	Respell bool
}

// portSpec writes a random port list (never 0 outbound).
func portSpec(r *rand.Rand, inbound bool, o Options) string {
	n := 8
	if o.Respell {
		n = 11
	}
	switch r.IntN(n) {
	case 0:
		return "*"
	case 1:
		if inbound {
			return "0"
		}
		return fmt.Sprint(Pick(r, Ports))
	case 2:
		a, b := Pick(r, Ports), Pick(r, Ports)
		return fmt.Sprintf("%d-%d", min(a, b), max(a, b))
	case 3:
		return fmt.Sprintf("%d,%d", Pick(r, Ports), Pick(r, Ports))
	case 8:
		return fmt.Sprintf("%d,%d,%d", Pick(r, Ports), Pick(r, Ports), Pick(r, Ports))
	case 9:
		return fmt.Sprintf("0%d", Pick(r, Ports)) // a leading zero
	case 10:
		return Pick(r, []string{"1-65535", "1-79,81-65535"})
	}
	return fmt.Sprint(Pick(r, Ports))
}

// mapping returns a port spec with a port mapping.
func mapping(r *rand.Rand) string {
	from := Pick(r, []int{22, 53, 80, 443, 5432, 8080})
	to := Pick(r, []int{22, 80, 5433, 8080, 8888, 9000})
	if r.IntN(3) == 0 {
		return fmt.Sprintf("%d-%d->%d-%d", from, from+2, to, to+2)
	}
	return fmt.Sprintf("%d->%d", from, to)
}

// respell writes a host as people might: in capitals, with a trailing dot.
func respell(r *rand.Rand, s string, o Options) string {
	if !o.Respell {
		return s
	}
	switch r.IntN(8) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		if !strings.HasPrefix(s, "[") && !strings.Contains(s, "/") && !strings.HasPrefix(s, "*") && !strings.Contains(s, "->") {
			return s + "."
		}
	}
	return s
}

// AnyFlag writes one random flag, which may have errors (a mapping of
// localhost, say).
func AnyFlag(r *rand.Rand, o Options) string {
	proto := Pick(r, []string{"tcp", "udp"})
	if o.Respell && r.IntN(3) == 0 {
		proto = "TCP"
	}
	fam := Pick(r, Families)
	var flag, spec string
	switch r.IntN(3) {
	case 0:
		flag = "--allow-resolve"
		host := Pick(r, Names)
		switch r.IntN(6) {
		case 0:
			host = "*"
		case 1, 2:
			host = "*." + host
		case 3:
			host += "->" + Pick(r, Addrs)
		}
		spec = respell(r, host, o) + fam
	case 1:
		flag = "--allow-outbound"
		var host string
		switch r.IntN(8) {
		case 0:
			host = "*"
		case 1:
			host = Pick(r, Addrs)
		case 2, 3:
			host = Pick(r, Nets)
		case 4:
			host = "*." + Pick(r, Names)
		case 5:
			host = Pick(r, Names) + "->" + Pick(r, Addrs)
		default:
			host = Pick(r, Names)
		}
		if r.IntN(12) == 0 {
			spec = proto + "://..." + fam
			break
		}
		ports := portSpec(r, false, o)
		if r.IntN(6) == 0 {
			ports = mapping(r)
		}
		spec = proto + "://" + respell(r, host, o) + ":" + ports + fam
	default:
		flag = "--allow-inbound"
		var host string
		switch r.IntN(6) {
		case 0:
			host = "*"
		case 1:
			host = "localhost"
		case 2:
			host = Pick(r, Ifaces)
		case 3:
			host = Pick(r, []string{"0.0.0.0", "[::]"})
		default:
			host = Pick(r, Addrs)
		}
		ports := portSpec(r, true, o)
		if r.IntN(5) == 0 {
			ports = mapping(r)
		}
		spec = proto + "://" + host + ":" + ports + fam
	}
	if o.Respell && r.IntN(6) == 0 {
		return flag + " " + spec
	}
	return flag + "=" + spec
}

// Flag writes one random flag without errors.
func Flag(r *rand.Rand, o Options) string {
	for {
		if f := AnyFlag(r, o); Valid(f) {
			return f
		}
	}
}

// Valid reports whether a flag parses without errors.
func Valid(flag string) bool {
	r, _ := grammar.ParseFlag(flag, nil)
	return r != nil
}

// Policy writes n random flags (some may have errors: Compile skips
// them), sometimes with networks that cover a family together (Split)
// among them.
func Policy(r *rand.Rand, n int, o Options) []string {
	flags := make([]string, n)
	for i := range flags {
		flags[i] = AnyFlag(r, o)
	}
	if r.IntN(3) == 0 {
		for _, f := range Split(r) {
			flags = slices.Insert(flags, r.IntN(len(flags)+1), f)
		}
	}
	return flags
}

// Mutate changes a policy a little, as a change under review does: it
// drops, replaces or inserts one to three flags, so that the two policies
// share most rules. Half the new flags are Related to a flag already
// there, so that the change meets the policy where it matters (a name
// mapped below one of its wildcards, a wildcard over one of its names).
func Mutate(r *rand.Rand, flags []string, o Options) []string {
	out := slices.Clone(flags)
	next := func() string {
		if len(out) > 0 && r.IntN(2) == 0 {
			return Related(r, out, o)
		}
		return Flag(r, o)
	}
	for range 1 + r.IntN(3) {
		switch {
		case len(out) > 0 && r.IntN(3) == 0:
			i := r.IntN(len(out))
			out = slices.Delete(out, i, i+1)
		case len(out) > 0 && r.IntN(2) == 0:
			out[r.IntN(len(out))] = next()
		default:
			out = slices.Insert(out, r.IntN(len(out)+1), next())
		}
	}
	return out
}

// Related writes a valid flag about a host that one of flags (valid or
// not) names, so that the two interact. For an inbound rule, its local
// side on other ports. For the rest: for a wildcard, a name below its
// domain (of Names, or one no rule names), mapped or not; for "*", a
// mapped name; for a name, its mapping, a wildcard over it or below it,
// or the name on other ports; for an address or a network, a network of
// Nets overlapping it, or a name mapped to its address. When flags name
// no host, a random flag (Flag).
func Related(r *rand.Rand, flags []string, o Options) string {
	var rules []*policy.Rule
	for _, f := range flags {
		if x, _ := grammar.ParseFlag(f, nil); x != nil {
			if p, _ := policy.Compile(&ast.Policy{Rules: []*ast.Rule{x}}); len(p.Rules) == 1 {
				rules = append(rules, p.Rules[0])
			}
		}
	}
	for range 8 {
		if len(rules) == 0 {
			break
		}
		if f := related(r, Pick(r, rules), o); f != "" && Valid(f) {
			return f
		}
	}
	return Flag(r, o)
}

// related writes a flag about the host of rule x, or "" when it has none
// to offer.
func related(r *rand.Rand, x *policy.Rule, o Options) string {
	proto := Pick(r, []string{"tcp", "udp"})
	fam := Pick(r, Families)
	h := x.Host
	if x.Kind == ast.Inbound {
		ports := portSpec(r, true, o)
		if r.IntN(5) == 0 {
			ports = mapping(r)
		}
		var local string
		switch h.Kind {
		case policy.AnyHost:
			local = "*"
		case policy.AddressHost:
			local = literal.FormatAddr(h.Prefix.Addr())
		default:
			local = h.Name // localhost, an interface
		}
		return "--allow-inbound=" + proto + "://" + local + ":" + ports + fam
	}
	ports := portSpec(r, false, o)
	if r.IntN(6) == 0 {
		ports = mapping(r)
	}
	// about writes a resolve or an outbound rule to host, mapped to an
	// address of Addrs or not.
	about := func(host string, mapped bool) string {
		if mapped {
			host += "->" + Pick(r, Addrs)
		}
		if r.IntN(2) == 0 {
			return "--allow-resolve=" + host + fam
		}
		return "--allow-outbound=" + proto + "://" + host + ":" + ports + fam
	}
	switch h.Kind {
	case policy.WildcardHost:
		below := []string{"w." + h.Name}
		for _, n := range Names {
			if policy.UnderDomain(n, h.Name) {
				below = append(below, n)
			}
		}
		return about(Pick(r, below), r.IntN(3) != 0)
	case policy.AnyHost:
		return about(Pick(r, Names), true)
	case policy.NameHost:
		switch r.IntN(4) {
		case 0:
			if i := strings.IndexByte(h.Name, '.'); i >= 0 {
				return about("*."+h.Name[i+1:], false)
			}
			return about("*", false)
		case 1:
			return about("*."+h.Name, false)
		case 2:
			return about(h.Name, false)
		}
		return about(h.Name, true)
	case policy.AddressHost:
		var near []string
		for _, n := range Nets {
			if netip.MustParsePrefix(strings.Trim(n, "[]")).Overlaps(h.Prefix) {
				near = append(near, n)
			}
		}
		if len(near) == 0 || r.IntN(2) == 0 {
			return "--allow-resolve=" + Pick(r, Names) + "->" + literal.FormatAddr(h.Prefix.Addr()) + fam
		}
		return "--allow-outbound=" + proto + "://" + Pick(r, near) + ":" + ports + fam
	}
	return ""
}

// Split writes outbound rules to networks that together cover a family,
// of one protocol and port, sometimes with a port missing in one of them,
// with a mapping (alike or not) or a family modifier.
func Split(r *rand.Rand) []string {
	nets := Pick(r, Splits)
	proto := Pick(r, []string{"tcp", "udp"})
	ports := Pick(r, []string{"80", "443", "80,443", "*"})
	m := mapping(r)
	var flags []string
	for i, n := range nets {
		ps := ports
		switch r.IntN(8) {
		case 0:
			if i == 0 {
				ps = "80" // a port missing in one of them, at times
			}
		case 1:
			ps = m
		case 2:
			ps = mapping(r)
		}
		fam := ""
		if r.IntN(10) == 0 {
			fam = Pick(r, Families)
		}
		flags = append(flags, "--allow-outbound="+proto+"://"+n+":"+ps+fam)
	}
	return flags
}

// File writes a random flags file of n valid flags in people's spellings,
// with comments (each "# cN", numbered from 0) and empty lines here and
// there, and sometimes several flags on a line.
func File(r *rand.Rand, n int) (text string, comments int) {
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
		b.WriteString(Flag(r, Options{Respell: true}))
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

// Compile parses and compiles flags, skipping those with errors.
func Compile(tb testing.TB, flags []string) (*policy.Policy, []diag.Diagnostic) {
	tb.Helper()
	ap := &ast.Policy{Name: "test"}
	for _, f := range flags {
		if r, _ := grammar.ParseFlag(f, nil); r != nil {
			r.Index = len(ap.Rules)
			ap.Rules = append(ap.Rules, r)
		}
	}
	return policy.Compile(ap)
}

// Interfaces is the interface table requests are decided with.
func Interfaces() *eval.Interfaces {
	return eval.NewInterfaces(map[string][]netip.Prefix{
		"eth0": {netip.MustParsePrefix("10.0.0.5/24"), netip.MustParsePrefix("fe80::1/64")},
		"eth1": {netip.MustParsePrefix("192.168.1.5/24")},
		"lo":   {netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
	})
}

// Pool holds names, addresses and ports of requests.
type Pool struct {
	Names []string
	Addrs []string
	Ports []int
}

// PoolOf collects the near misses of rules: names (a wildcard's domain and
// one name below it), addresses (a network's first and last, and the ones
// just outside; host mappings), port range ends and their neighbours.
func PoolOf(rules []*policy.Rule) *Pool {
	p := &Pool{}
	for _, r := range rules {
		h := r.Host
		switch h.Kind {
		case policy.NameHost, policy.LocalhostHost:
			p.AddName(h.Name)
		case policy.WildcardHost:
			p.AddDomain(h.Name)
		case policy.AddressHost:
			p.AddPrefix(h.Prefix)
		}
		if r.HostMap.IsValid() {
			p.Addrs = append(p.Addrs, r.HostMap.String())
		}
		for _, pr := range r.Ports {
			p.AddPortRange(int(pr.Lo), int(pr.Hi))
		}
	}
	return p
}

// AddName adds a name to the pool.
func (p *Pool) AddName(name string) { p.Names = append(p.Names, name) }

// AddDomain adds the near misses of a domain pattern: the domain itself
// and one name below it.
func (p *Pool) AddDomain(domain string) { p.Names = append(p.Names, domain, "w."+domain) }

// AddPrefix adds the near misses of a network: its first and last
// address, and the ones just outside it.
func (p *Pool) AddPrefix(pf netip.Prefix) {
	first, last := pf.Masked().Addr(), lastAddr(pf)
	for _, a := range []netip.Addr{first, first.Prev(), last, last.Next()} {
		if a.IsValid() {
			p.Addrs = append(p.Addrs, a.String())
		}
	}
}

// AddPortRange adds the near misses of a port range: its ends and their
// neighbours (within 0..65535).
func (p *Pool) AddPortRange(lo, hi int) {
	for _, x := range []int{lo, hi, lo - 1, hi + 1} {
		if x >= 0 && x <= policy.MaxPort {
			p.Ports = append(p.Ports, x)
		}
	}
}

// lastAddr returns the last address of a network.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// Request makes a random request from the pools, and half the time from
// the names, addresses and ports of near (PoolOf), where it has some.
// Names are sometimes one label deeper, in capitals or with a trailing
// dot; IPv4 addresses sometimes IPv4-mapped; destinations sometimes
// unspecified.
func Request(r *rand.Rand, near *Pool) eval.Request {
	names, addrs, ports := Names, Addrs, Ports
	if near != nil && r.IntN(2) == 0 {
		if len(near.Names) > 0 {
			names = near.Names
		}
		if len(near.Addrs) > 0 {
			addrs = near.Addrs
		}
		if len(near.Ports) > 0 {
			ports = near.Ports
		}
	}
	name := func() string {
		n := Pick(r, names)
		switch r.IntN(8) {
		case 0:
			n = "q." + n
		case 1:
			n = strings.ToUpper(n)
		case 2:
			n += "."
		}
		return n
	}
	addr := func() netip.Addr {
		s := Pick(r, addrs)
		if r.IntN(20) == 0 {
			s = Pick(r, Unspecified)
		}
		a, err := netip.ParseAddr(strings.Trim(s, "[]"))
		if err != nil {
			return netip.MustParseAddr("10.0.0.1")
		}
		if r.IntN(10) == 0 && a.Is4() {
			return netip.AddrFrom16(a.As16()) // IPv4-mapped
		}
		return a
	}
	port := uint16(Pick(r, ports))
	if r.IntN(10) == 0 {
		port = 0
	}
	switch r.IntN(4) {
	case 0:
		q := eval.Request{Op: eval.Lookup, Name: name(), Family: Pick(r, []policy.Families{0, 0, policy.IPv4, policy.IPv6})}
		if r.IntN(15) == 0 {
			q.Name, q.Addr = "", addr()
		}
		return q
	case 1, 2:
		q := eval.Request{Op: Pick(r, []eval.Op{eval.Connect, eval.Send}), Port: port}
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
	q := eval.Request{Op: Pick(r, []eval.Op{eval.Listen, eval.Bind}), Port: port}
	switch r.IntN(5) {
	case 0:
		q.Local = eval.LocalAny
	case 1:
		q.Local = eval.LocalLocalhost
	case 2:
		q.Local, q.Name = eval.LocalInterface, Pick(r, Ifaces)
	case 3:
		q.Addr = Pick(r, []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()})
	default:
		q.Addr = addr()
	}
	return q
}

// Aimed returns requests aimed at the rules of policies (compared
// policies are given together): for each rule, its host — its name; for a
// wildcard, a name below its domain, the domain itself and every name
// below it that a rule of the policies maps; an address of a network and
// the one just past it; its mapped address and those of the names it
// matches — at and around its ports, in both families for lookups, with
// two addresses of Addrs besides. Requests to a name always give an
// address (a connect by name alone is decided through lookups).
func Aimed(r *rand.Rand, ps ...*policy.Policy) []eval.Request {
	var out []eval.Request
	var mapped []*policy.Rule
	for _, p := range ps {
		for _, m := range p.Resolves {
			if m.HostMap.IsValid() {
				mapped = append(mapped, m)
			}
		}
	}
	ports := func(x *policy.Rule) []uint16 {
		var out []uint16
		for _, pr := range x.Ports {
			out = append(out, pr.Lo, pr.Hi, pr.Hi+1)
			if pr.Lo > 0 {
				out = append(out, pr.Lo-1)
			}
		}
		return out
	}
	addr := func() netip.Addr {
		s := Pick(r, Addrs)
		if r.IntN(8) == 0 {
			s = Pick(r, []string{"11.0.0.1", "128.0.0.1", "[2001:db9::1]"}) // in no pool
		}
		return netip.MustParseAddr(strings.Trim(s, "[]"))
	}
	for _, p := range ps {
		for _, x := range append(slices.Clone(p.Rules), p.Resolves...) {
			var names []string
			switch x.Host.Kind {
			case policy.NameHost, policy.LocalhostHost:
				names = []string{x.Host.Name}
			case policy.WildcardHost:
				names = []string{"w." + x.Host.Name, x.Host.Name}
				for _, m := range mapped {
					if policy.UnderDomain(m.Host.Name, x.Host.Name) {
						names = append(names, m.Host.Name)
					}
				}
			}
			var addrs []netip.Addr
			if x.Host.Kind == policy.AddressHost {
				addrs = append(addrs, x.Host.Prefix.Addr(), lastAddr(x.Host.Prefix).Next())
			}
			if x.HostMap.IsValid() {
				addrs = append(addrs, x.HostMap)
			}
			for _, m := range mapped {
				if slices.Contains(names, m.Host.Name) {
					addrs = append(addrs, m.HostMap)
				}
			}
			addrs = append(addrs, addr(), addr())
			switch x.Kind {
			case ast.Resolve:
				for _, n := range names {
					for _, f := range []policy.Families{0, policy.IPv4, policy.IPv6} {
						out = append(out, eval.Request{Op: eval.Lookup, Name: n, Family: f})
					}
				}
			case ast.Outbound:
				op := eval.Connect
				if x.Protocol == ast.UDP {
					op = eval.Send
				}
				for _, port := range ports(x) {
					for _, a := range addrs {
						if !a.IsValid() {
							continue
						}
						out = append(out, eval.Request{Op: op, Addr: a, Port: port})
						for _, n := range names {
							out = append(out, eval.Request{Op: op, Addr: a, Port: port, Name: n})
						}
					}
				}
			case ast.Inbound:
				op := eval.Listen
				if x.Protocol == ast.UDP {
					op = eval.Bind
				}
				for _, port := range ports(x) {
					switch x.Host.Kind {
					case policy.AddressHost:
						out = append(out, eval.Request{Op: op, Addr: x.Host.Prefix.Addr(), Port: port})
					case policy.InterfaceHost:
						out = append(out, eval.Request{Op: op, Local: eval.LocalInterface, Name: x.Host.Name, Port: port})
					case policy.LocalhostHost:
						out = append(out, eval.Request{Op: op, Local: eval.LocalLocalhost, Port: port},
							eval.Request{Op: op, Addr: netip.MustParseAddr("127.0.0.1"), Port: port},
							eval.Request{Op: op, Addr: netip.IPv6Loopback(), Port: port})
					default:
						out = append(out, eval.Request{Op: op, Local: eval.LocalAny, Port: port}, eval.Request{Op: op, Addr: addr(), Port: port})
					}
				}
			}
		}
	}
	return out
}

// SameDecision compares decisions, errors by message.
func SameDecision(a, b eval.Decision) bool {
	ea, eb := a.Invalid, b.Invalid
	a.Invalid, b.Invalid = nil, nil
	if (ea == nil) != (eb == nil) || ea != nil && ea.Error() != eb.Error() {
		return false
	}
	return a == b
}

// Bench writes a policy of n rules for benchmarks: exact names, wildcards,
// addresses, networks, port lists, ranges and families, for all three
// kinds, with a few broad rules every size has.
func Bench(n int) []string {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	flags := make([]string, 0, n)
	fams := []string{"", "", "#ipv4-only", "#ipv6-only"}
	ports := func() string {
		switch r.IntN(4) {
		case 0:
			return fmt.Sprint(1 + r.IntN(65000))
		case 1:
			a := 1 + r.IntN(60000)
			return fmt.Sprintf("%d-%d", a, a+r.IntN(1000))
		case 2:
			return fmt.Sprintf("%d,%d,%d", 1+r.IntN(1000), 1000+r.IntN(1000), 8000+r.IntN(1000))
		}
		return "80,443"
	}
	for i := 0; len(flags) < n; i++ {
		fam := fams[r.IntN(len(fams))]
		switch i % 10 {
		case 0, 1:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://svc%d.example.com:%s%s", i, ports(), fam))
		case 2:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://*.zone%d.example.net:%s%s", i, ports(), fam))
		case 3:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://10.%d.%d.%d:%s", r.IntN(256), r.IntN(256), r.IntN(256), ports()))
		case 4:
			flags = append(flags, fmt.Sprintf("--allow-outbound=udp://172.%d.%d.0/24:%s", 16+r.IntN(16), r.IntN(256), ports()))
		case 5:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://[2001:db8:%x::%x]:%s", r.IntN(65536), r.IntN(65536), ports()))
		case 6:
			flags = append(flags, fmt.Sprintf("--allow-resolve=host%d.example.org%s", i, fam))
		case 7:
			flags = append(flags, fmt.Sprintf("--allow-resolve=*.r%d.example.org%s", i, fam))
		case 8:
			flags = append(flags, fmt.Sprintf("--allow-inbound=tcp://10.%d.%d.%d:%s", r.IntN(256), r.IntN(256), r.IntN(256), ports()))
		case 9:
			flags = append(flags, fmt.Sprintf("--allow-inbound=tcp://eth%d:%d", r.IntN(100), 1+r.IntN(65000)))
		}
	}
	// A few broad rules every size has.
	flags[0] = "--allow-outbound=tcp://*:443#ipv6-only"
	if n > 1 {
		flags[1] = "--allow-inbound=tcp://localhost:8000-8999"
	}
	// Networks covering IPv4 only together, for a connect by name.
	if n > 4 {
		flags[2] = "--allow-outbound=tcp://0.0.0.0/1:8443"
		flags[3] = "--allow-outbound=tcp://128.0.0.0/1:8443->9443"
		flags[4] = "--allow-resolve=api.example.com"
	}
	return flags
}

// BenchRequests writes n request lines for a policy made by Bench(rules):
// connects to names, wildcards, addresses and networks, sends, lookups
// (some recording answers, then connects to the answers), listens on
// addresses and interfaces; about half hit a rule, the rest miss, many
// narrowly. The lines are distinct.
func BenchRequests(n, rules int) string {
	r := rand.New(rand.NewPCG(2, uint64(n)))
	k := func() int { return r.IntN(max(rules, 1)) }
	var b strings.Builder
	var recorded []string
	for i := range n {
		switch i % 12 {
		case 0:
			fmt.Fprintf(&b, "connect tcp svc%d.example.com:%d\n", k(), Pick(r, []int{80, 443, 8080}))
		case 1:
			fmt.Fprintf(&b, "connect tcp a%d.zone%d.example.net:443\n", i, k())
		case 2:
			fmt.Fprintf(&b, "connect tcp 10.%d.%d.%d:%d\n", r.IntN(256), r.IntN(256), r.IntN(256), Pick(r, []int{80, 443, 1 + r.IntN(65000)}))
		case 3:
			fmt.Fprintf(&b, "send udp 172.%d.%d.%d:%d\n", 16+r.IntN(16), r.IntN(256), r.IntN(256), Pick(r, []int{53, 80, 443}))
		case 4:
			fmt.Fprintf(&b, "connect tcp [2001:db8:%x::%x]:%d\n", r.IntN(65536), r.IntN(65536), Pick(r, []int{443, 80}))
		case 5:
			fmt.Fprintf(&b, "lookup host%d.example.org\n", k())
		case 6:
			fmt.Fprintf(&b, "lookup w%d.r%d.example.org ipv4\n", i, k())
		case 7:
			fmt.Fprintf(&b, "listen tcp 10.%d.%d.%d:%d\n", r.IntN(256), r.IntN(256), r.IntN(256), Pick(r, []int{80, 443, 8080}))
		case 8:
			fmt.Fprintf(&b, "listen tcp eth%d:%d\n", r.IntN(100), 1+r.IntN(65000))
		case 9:
			a := fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
			recorded = append(recorded, a)
			fmt.Fprintf(&b, "lookup api.example.com => %s, 2001:db8:%x::%x\n", a, i>>16, i&0xffff)
		case 10:
			a := fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), 1+r.IntN(254))
			if len(recorded) > 0 && r.IntN(2) == 0 {
				a = Pick(r, recorded)
			}
			fmt.Fprintf(&b, "connect tcp %s:%d\n", a, Pick(r, []int{8443, 443}))
		case 11:
			fmt.Fprintf(&b, "connect tcp api.example.com:%d\n", Pick(r, []int{8443, 443, 80}))
		}
	}
	return b.String()
}

// Case is one random policy of a randomized test.
type Case struct {
	Seed   uint64
	Rand   *rand.Rand // made the policy; the test's requests come from it too
	Flags  []string   // as Policy writes them (some may have errors)
	Policy *policy.Policy
}

// Cases yields n random policies of 1 to size flags (Policy, compiled by
// Compile), each with the random source that made it, seeded by its number
// and salt: a test names the seed of a failing case, and a salt of its own
// keeps tests from all seeing the same policies. With testing.Short, n is
// a tenth.
func Cases(tb testing.TB, n int, salt uint64, size int) iter.Seq[Case] {
	if testing.Short() {
		n = max(1, n/10)
	}
	return func(yield func(Case) bool) {
		for seed := range uint64(n) {
			r := rand.New(rand.NewPCG(seed, salt))
			flags := Policy(r, 1+r.IntN(size), Options{})
			p, _ := Compile(tb, flags)
			if !yield(Case{Seed: seed, Rand: r, Flags: flags, Policy: p}) {
				return
			}
		}
	}
}
