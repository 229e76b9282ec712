package interop

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// A small generator of random policies and requests over a shared
// vocabulary, so that rules and requests meet at their boundaries. (The
// lead is merging the project's generators into internal/policygen; this
// one stays small on purpose.)

var (
	genNames    = []string{"example.com", "a.example.com", "b.a.example.com", "example.org", "db.internal", "notexample.com", "localhost"}
	genWild     = []string{"*.example.com", "*.org", "*.a.example.com"}
	genAddrs    = []string{"10.0.0.1", "10.0.0.0/8", "10.1.0.0/16", "192.168.1.0/24", "127.0.0.1", "[2001:db8::1]", "[2001:db8::/32]", "[::1]", "203.0.113.7"}
	genLocals   = []string{"*", "localhost", "eth0", "10.0.0.1", "[::1]", "127.0.0.1"}
	genPorts    = []string{"80", "443", "8000-8010", "*", "53", "1-1024", "80,443", "65535", "5432"}
	genInPorts  = []string{"80", "8080", "0", "*", "1-1024", "53"}
	genFamilies = []string{"", "", "", "#ipv4-only", "#ipv6-only"}
	genResolves = []string{"example.com", "*.example.com", "*", "db.internal->10.0.0.1", "example.org#ipv4-only", "a.example.com"}
	genReqNames = append(append([]string{}, genNames...), "x.example.com", "x.a.example.com", "other.net", "x.org", "badexample.com", "x.db.internal")
	genReqAddrs = []string{"10.0.0.1", "10.0.0.2", "10.1.2.3", "10.255.255.255", "11.0.0.1", "192.168.1.77", "192.168.2.1", "127.0.0.1", "127.0.0.2", "203.0.113.7", "2001:db8::1", "2001:db8::2", "2001:db9::1", "::1", "0.0.0.0", "::", "8.8.8.8"}
	genReqPorts = []uint16{0, 1, 53, 79, 80, 81, 443, 1024, 1025, 5432, 7999, 8000, 8005, 8010, 8011, 8080, 65534, 65535}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// randomFlags returns a random policy's flags (all valid).
func randomFlags(r *rand.Rand) []string {
	n := 1 + r.IntN(5)
	var out []string
	for len(out) < n {
		var f string
		switch r.IntN(4) {
		case 0:
			f = "--allow-resolve=" + pick(r, genResolves)
		case 1, 2:
			proto := pick(r, []string{"tcp", "udp"})
			var host string
			switch r.IntN(4) {
			case 0:
				host = pick(r, genNames)
			case 1:
				host = pick(r, genWild)
			case 2:
				host = pick(r, genAddrs)
			default:
				host = "*"
			}
			ports := pick(r, genPorts)
			if r.IntN(8) == 0 && !strings.ContainsAny(ports, ",*-") {
				ports += "->" + fmt.Sprint(9000+r.IntN(5))
			}
			f = "--allow-outbound=" + proto + "://" + host + ":" + ports + pick(r, genFamilies)
		default:
			proto := pick(r, []string{"tcp", "udp"})
			ports := pick(r, genInPorts)
			if r.IntN(8) == 0 && ports == "80" {
				ports = "80->8888"
			}
			f = "--allow-inbound=" + proto + "://" + pick(r, genLocals) + ":" + ports + pick(r, genFamilies)
		}
		if p, ds := eval.CompileFlags(append(out, f)...); len(ds) == 0 && p != nil {
			out = append(out, f)
		}
	}
	return out
}

// randomRequest returns a random request near the vocabulary.
func randomRequest(r *rand.Rand) (eval.Request, policy.Families) {
	fam := pick(r, []policy.Families{policy.IPv4, policy.IPv6})
	port := pick(r, genReqPorts)
	if r.IntN(6) == 0 {
		port = uint16(r.IntN(65536))
	}
	addr := netip.MustParseAddr(pick(r, genReqAddrs))
	if r.IntN(8) == 0 {
		addr = netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
	}
	name := pick(r, genReqNames)
	switch r.IntN(6) {
	case 0:
		return eval.Request{Op: eval.Lookup, Name: name, Family: fam}, fam
	case 1, 2:
		op := pick(r, []eval.Op{eval.Connect, eval.Send})
		if port == 0 {
			port = 1
		}
		switch r.IntN(3) {
		case 0:
			return eval.Request{Op: op, Addr: addr, Port: port}, policy.FamilyOf(addr)
		case 1:
			return eval.Request{Op: op, Name: name, Port: port}, fam
		default:
			return eval.Request{Op: op, Addr: addr, Name: name, Port: port}, policy.FamilyOf(addr)
		}
	default:
		op := pick(r, []eval.Op{eval.Listen, eval.Bind})
		switch r.IntN(4) {
		case 0:
			return eval.Request{Op: op, Local: eval.LocalAny, Port: port}, fam
		case 1:
			return eval.Request{Op: op, Local: eval.LocalLocalhost, Port: port}, fam
		case 2:
			return eval.Request{Op: op, Local: eval.LocalInterface, Name: pick(r, []string{"eth0", "eth1", "lo"}), Port: port}, fam
		default:
			return eval.Request{Op: op, Local: eval.LocalAddr, Addr: addr, Port: port}, policy.FamilyOf(addr)
		}
	}
}
