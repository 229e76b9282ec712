package eval

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
)

// compileFlags parses and compiles flags, skipping those with errors.
func compileFlags(tb testing.TB, flags []string) (*policy.Policy, []diag.Diagnostic) {
	tb.Helper()
	ap := &ast.Policy{Name: "test"}
	for _, f := range flags {
		r, _ := grammar.ParseFlag(f, nil)
		if r != nil {
			r.Index = len(ap.Rules)
			ap.Rules = append(ap.Rules, r)
		}
	}
	return policy.Compile(ap)
}

// testIfaces is the interface table of the tests.
func testIfaces() *Interfaces {
	return NewInterfaces(map[string][]netip.Prefix{
		"eth0": {netip.MustParsePrefix("10.0.0.5/24"), netip.MustParsePrefix("fe80::1/64")},
		"eth1": {netip.MustParsePrefix("192.168.1.5/24")},
		"lo":   {netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
	})
}

// Pools for random policies and requests: small, so that rules and
// requests collide often.
var (
	genNames = []string{"example.com", "a.example.com", "b.a.example.com", "example.org", "badexample.com", "db.internal", "localhost", "com", "x.y.z.test", "y.z.test"}
	genAddrs = []string{"10.0.0.1", "10.0.0.5", "10.1.2.3", "127.0.0.1", "127.0.0.2", "192.168.1.5", "93.184.216.34", "172.17.0.14", "8.8.8.8", "[2001:db8::1]", "[::1]", "[fe80::1]", "[2606:2800::1]", "[2001:db8:1::5]"}
	genNets  = []string{"10.0.0.0/8", "10.0.0.0/24", "10.0.0.0/31", "0.0.0.0/0", "127.0.0.0/8", "192.168.0.0/16", "[2001:db8::/32]", "[::/0]", "[2001:db8::/64]", "93.184.216.0/24", "0.0.0.0/1", "128.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2", "[::/1]", "[8000::/1]"}
	// genSplits are networks that cover a family only together.
	genSplits = [][]string{
		{"0.0.0.0/1", "128.0.0.0/1"},
		{"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"},
		{"0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"},
		{"[::/1]", "[8000::/1]"},
	}
	genIfaces  = []string{"eth0", "eth1", "lo", "eth9"}
	genPorts   = []int{0, 1, 22, 53, 80, 81, 443, 5432, 5433, 8080, 8888, 65535}
	genFamilys = []string{"", "", "", "#ipv4-only", "#ipv6-only"}
)

func pickOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// genPortSpec writes a random port list (never 0 for outbound).
func genPortSpec(r *rand.Rand, inbound bool) string {
	port := func() int {
		for {
			p := pickOf(r, genPorts)
			if p != 0 {
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

// genMapping returns a port spec with a port mapping.
func genMapping(r *rand.Rand) string {
	from := pickOf(r, []int{22, 53, 80, 443, 5432, 8080})
	to := pickOf(r, []int{22, 80, 5433, 8080, 8888, 9000})
	if r.IntN(3) == 0 {
		return fmt.Sprintf("%d-%d->%d-%d", from, from+2, to, to+2)
	}
	return fmt.Sprintf("%d->%d", from, to)
}

// genRule writes one random flag.
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

// genPolicy writes n random flags, sometimes with networks that cover a
// family together (genSplit) among them.
func genPolicy(r *rand.Rand, n int) []string {
	flags := make([]string, n)
	for i := range flags {
		flags[i] = genRule(r)
	}
	if r.IntN(3) == 0 {
		for _, f := range genSplit(r) {
			flags = slices.Insert(flags, r.IntN(len(flags)+1), f)
		}
	}
	return flags
}

// genSplit writes outbound rules to networks that together cover a
// family, of one protocol and port, sometimes with a port missing in one
// of them, with a mapping (alike or not) or a family modifier.
func genSplit(r *rand.Rand) []string {
	nets := pickOf(r, genSplits)
	proto := pickOf(r, []string{"tcp", "udp"})
	ports := pickOf(r, []string{"80", "443", "80,443", "*"})
	mapping := genMapping(r)
	var flags []string
	for i, n := range nets {
		ps := ports
		switch r.IntN(8) {
		case 0:
			if i == 0 {
				ps = "80" // a port missing in one of them, at times
			}
		case 1:
			ps = mapping
		case 2:
			ps = genMapping(r)
		}
		fam := ""
		if r.IntN(10) == 0 {
			fam = pickOf(r, genFamilys)
		}
		flags = append(flags, "--allow-outbound="+proto+"://"+n+":"+ps+fam)
	}
	return flags
}

// genName returns a name from the pool, sometimes a subdomain, sometimes
// spelled in another case or with a trailing dot.
func genName(r *rand.Rand) string {
	n := pickOf(r, genNames)
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

// genRequest makes a random request.
func genRequest(r *rand.Rand) Request {
	addr := func() netip.Addr {
		a := netip.MustParseAddr(strings.Trim(pickOf(r, genAddrs), "[]"))
		if r.IntN(10) == 0 && a.Is4() {
			return netip.AddrFrom16(a.As16()) // IPv4-mapped
		}
		return a
	}
	port := uint16(pickOf(r, genPorts))
	switch r.IntN(4) {
	case 0:
		q := Request{Op: Lookup, Name: genName(r)}
		q.Family = pickOf(r, []policy.Families{0, 0, policy.IPv4, policy.IPv6})
		if r.IntN(15) == 0 {
			q.Name, q.Addr = "", addr()
		}
		return q
	case 1, 2:
		q := Request{Op: pickOf(r, []Op{Connect, Send}), Port: port}
		switch r.IntN(3) {
		case 0:
			q.Name = genName(r)
		case 1:
			q.Addr = addr()
		default:
			q.Addr, q.Name = addr(), genName(r)
		}
		return q
	}
	q := Request{Op: pickOf(r, []Op{Listen, Bind}), Port: port}
	switch r.IntN(5) {
	case 0:
		q.Local = LocalAny
	case 1:
		q.Local = LocalLocalhost
	case 2:
		q.Local, q.Name = LocalInterface, pickOf(r, genIfaces)
	case 3:
		q.Addr = pickOf(r, []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()})
	default:
		q.Addr = addr()
	}
	return q
}

// sameDecision compares decisions, errors by message.
func sameDecision(a, b Decision) bool {
	ea, eb := a.Invalid, b.Invalid
	a.Invalid, b.Invalid = nil, nil
	if (ea == nil) != (eb == nil) || ea != nil && ea.Error() != eb.Error() {
		return false
	}
	return a == b
}

// benchPolicy writes a policy of n rules for benchmarks: exact names,
// wildcards, addresses, networks, port lists, ranges and families, for all
// three kinds.
func benchPolicy(n int) []string {
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
