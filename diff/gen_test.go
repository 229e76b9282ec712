package diff

// Random policies and requests for the differential tests. The pools are
// small so that rules of two policies and requests collide often. This is
// a copy of the generator of eval's tests (eval/gen_test.go) with the
// requests split into atoms; it goes when the shared generator
// (internal/policygen) lands.

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

var (
	genNames   = []string{"internal", "example.com", "a.example.com", "b.a.example.com", "example.org", "db.internal", "x.internal", "localhost", "com", "y.z.test"}
	genAddrs   = []string{"10.0.0.1", "10.0.0.5", "10.1.2.3", "127.0.0.1", "127.0.0.2", "192.168.1.5", "93.184.216.34", "8.8.8.8", "[2001:db8::1]", "[::1]", "[fe80::1]", "[2001:db8:1::5]"}
	genNets    = []string{"10.0.0.0/8", "10.0.0.0/24", "10.0.0.0/31", "0.0.0.0/0", "127.0.0.0/8", "192.168.0.0/16", "[2001:db8::/32]", "[::/0]", "93.184.216.0/24", "0.0.0.0/1", "128.0.0.0/1", "[8000::/1]"}
	genIfaces  = []string{"eth0", "eth1", "lo"}
	genPorts   = []int{0, 1, 22, 53, 80, 81, 443, 5432, 5433, 8080, 8888, 65535}
	genFamilys = []string{"", "", "", "#ipv4-only", "#ipv6-only"}
)

func pickOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func genPortSpec(r *rand.Rand, inbound bool) string {
	port := func() int {
		for {
			if p := pickOf(r, genPorts); p != 0 {
				return p
			}
		}
	}
	switch r.IntN(8) {
	case 0:
		return "*"
	case 1:
		if inbound {
			return "0"
		}
		return fmt.Sprint(port())
	case 2:
		a, b := port(), port()
		return fmt.Sprintf("%d-%d", min(a, b), max(a, b))
	case 3:
		return fmt.Sprintf("%d,%d", port(), port())
	}
	return fmt.Sprint(port())
}

func genMapping(r *rand.Rand) string {
	from := pickOf(r, []int{22, 53, 80, 443, 5432, 8080})
	to := pickOf(r, []int{22, 80, 5433, 8080, 8888, 9000})
	if r.IntN(3) == 0 {
		return fmt.Sprintf("%d-%d->%d-%d", from, from+2, to, to+2)
	}
	return fmt.Sprintf("%d->%d", from, to)
}

func genRule(r *rand.Rand) string {
	proto := pickOf(r, []string{"tcp", "udp"})
	fam := pickOf(r, genFamilys)
	switch r.IntN(3) {
	case 0:
		host := pickOf(r, genNames)
		switch r.IntN(6) {
		case 0:
			host = "*"
		case 1, 2:
			host = "*." + host
		case 3:
			host += "->" + pickOf(r, genAddrs)
		}
		return "--allow-resolve=" + host + fam
	case 1:
		var host string
		switch r.IntN(7) {
		case 0:
			host = "*"
		case 1:
			host = pickOf(r, genAddrs)
		case 2:
			host = pickOf(r, genNets)
		case 3:
			host = "*." + pickOf(r, genNames)
		case 4:
			host = pickOf(r, genNames) + "->" + pickOf(r, genAddrs)
		default:
			host = pickOf(r, genNames)
		}
		if r.IntN(12) == 0 {
			return "--allow-outbound=" + proto + "://..." + fam
		}
		ports := genPortSpec(r, false)
		if r.IntN(6) == 0 {
			ports = genMapping(r)
		}
		return "--allow-outbound=" + proto + "://" + host + ":" + ports + fam
	}
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
	return "--allow-inbound=" + proto + "://" + host + ":" + ports + fam
}

// genFlags writes up to n random flags.
func genFlags(r *rand.Rand, n int) []string {
	flags := make([]string, r.IntN(n+1))
	for i := range flags {
		flags[i] = genRule(r)
	}
	return flags
}

// mutate changes a policy a little: drops, adds or replaces a few flags,
// so that pairs share most rules (as a change under review does).
func mutate(r *rand.Rand, flags []string) []string {
	out := slices.Clone(flags)
	for range 1 + r.IntN(3) {
		switch {
		case len(out) > 0 && r.IntN(3) == 0:
			i := r.IntN(len(out))
			out = slices.Delete(out, i, i+1)
		case len(out) > 0 && r.IntN(2) == 0:
			out[r.IntN(len(out))] = genRule(r)
		default:
			out = slices.Insert(out, r.IntN(len(out)+1), genRule(r))
		}
	}
	return out
}

// compileFlags parses and compiles flags as a flags file called name, one
// flag a line; flags with errors are left out. ok is false when the
// policy has a mapping conflict (CS101).
func compileFlags(tb testing.TB, name string, flags []string) (p *policy.Policy, ok bool) {
	tb.Helper()
	ins, err := source.FlagsFile{Name: name, Content: strings.Join(flags, "\n") + "\n"}.Read()
	if err != nil {
		tb.Fatal(err)
	}
	var aps []*ast.Policy
	for _, in := range ins {
		ap, _ := grammar.Parse(in)
		aps = append(aps, ap)
	}
	p, ds := policy.Compile(aps...)
	return p, !diag.HasErrors(ds)
}

// genName returns a name of the pool or one below it, sometimes a name
// no rule names.
func genName(r *rand.Rand) string {
	n := pickOf(r, genNames)
	switch r.IntN(6) {
	case 0:
		n = "q." + n
	case 1:
		n = "other.example"
	}
	return n
}

func genAddr(r *rand.Rand) netip.Addr {
	if r.IntN(8) == 0 {
		return pickOf(r, []netip.Addr{netip.MustParseAddr("11.0.0.1"), netip.MustParseAddr("128.0.0.1"), netip.MustParseAddr("2001:db9::1"), netip.MustParseAddr("10.0.0.0")})
	}
	return netip.MustParseAddr(strings.Trim(pickOf(r, genAddrs), "[]"))
}

// genRequest makes a random request; atomic is false for a connect by
// name (decided through the lookup and the connects to the addresses it
// returns) and a lookup of an IP literal.
func genRequest(r *rand.Rand) (q eval.Request, atomic bool) {
	port := uint16(pickOf(r, genPorts))
	if r.IntN(4) == 0 {
		port = uint16(pickOf(r, []int{2, 444, 5434, 8081, 9000, 8889}))
	}
	switch r.IntN(4) {
	case 0:
		q := eval.Request{Op: eval.Lookup, Name: genName(r)}
		q.Family = pickOf(r, []policy.Families{0, policy.IPv4, policy.IPv6})
		return q, true
	case 1, 2:
		q := eval.Request{Op: pickOf(r, []eval.Op{eval.Connect, eval.Send}), Port: port}
		switch r.IntN(4) {
		case 0:
			q.Name = genName(r)
			return q, false
		case 1:
			q.Addr = genAddr(r)
		default:
			q.Addr, q.Name = genAddr(r), genName(r)
		}
		return q, true
	}
	q = eval.Request{Op: pickOf(r, []eval.Op{eval.Listen, eval.Bind}), Port: port}
	switch r.IntN(5) {
	case 0:
		q.Local = eval.LocalAny
	case 1:
		q.Local = eval.LocalLocalhost
	case 2:
		q.Local, q.Name = eval.LocalInterface, pickOf(r, append(genIfaces, "eth9"))
	case 3:
		q.Addr = pickOf(r, []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()})
	default:
		q.Addr = genAddr(r)
	}
	return q, true
}

// sameDecision compares what two decisions allow and where they send it:
// everything but the index of the deciding rule.
func sameDecision(a, b eval.Decision) bool {
	ea, eb := a.Invalid, b.Invalid
	a.Invalid, b.Invalid = nil, nil
	if (ea == nil) != (eb == nil) || ea != nil && ea.Error() != eb.Error() {
		return false
	}
	a.Rule, b.Rule = 0, 0
	return a == b
}

// ruleRequests returns requests aimed at the rules of policies: for each
// rule, its host (a name below a wildcard, a mapped address via its name,
// an address of a network) at ports at and around its ports, in both
// families.
func ruleRequests(r *rand.Rand, ps ...*policy.Policy) []eval.Request {
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
			addrs = append(addrs, genAddr(r), genAddr(r))
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
						out = append(out, eval.Request{Op: op, Local: eval.LocalLocalhost, Port: port}, eval.Request{Op: op, Addr: netip.MustParseAddr("127.0.0.1"), Port: port}, eval.Request{Op: op, Addr: netip.IPv6Loopback(), Port: port})
					default:
						out = append(out, eval.Request{Op: op, Local: eval.LocalAny, Port: port}, eval.Request{Op: op, Addr: genAddr(r), Port: port})
					}
				}
			}
		}
	}
	return out
}
