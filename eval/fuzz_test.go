package eval_test

import (
	"net/netip"
	"strings"
	"testing"

	. "github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreport"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// FuzzDecide decides a request against a policy (one flag per line) with
// both engines and requires that they agree, and that the explanation,
// which decides on its own, agrees with them.
func FuzzDecide(f *testing.F) {
	seed := strings.Join([]string{
		"--allow-outbound=tcp://example.com:80",
		"--allow-inbound=tcp://localhost:80",
		"--allow-resolve=*.example.com",
		"--allow-outbound=tcp://...#ipv4-only",
		"--allow-outbound=tcp://*:21,35000-35999",
		"--allow-inbound=tcp://eth0:80",
		"--allow-inbound=tcp://*:0",
		"--allow-resolve=my-database.internal->172.17.0.14",
		"--allow-inbound=tcp://*:80->8888",
		"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433",
		"--allow-outbound=udp://10.0.0.0/8:53#ipv4-only",
	}, "\n")
	f.Add(seed, uint8(Connect), "example.com", []byte{}, uint16(80), uint8(0), uint8(0))
	f.Add(seed, uint8(Connect), "my-database.internal", []byte{172, 17, 0, 14}, uint16(5432), uint8(0), uint8(0))
	f.Add(seed, uint8(Lookup), "A.Example.COM.", []byte{}, uint16(0), uint8(2), uint8(0))
	f.Add(seed, uint8(Listen), "", []byte{127, 0, 0, 1}, uint16(80), uint8(0), uint8(LocalAddr))
	f.Add(seed, uint8(Listen), "eth0", []byte{}, uint16(80), uint8(0), uint8(LocalInterface))
	f.Add(seed, uint8(Send), "", netip.MustParseAddr("::ffff:10.1.2.3").AsSlice(), uint16(53), uint8(0), uint8(0))
	f.Add(seed, uint8(Lookup), "0x7f.1", []byte{}, uint16(0), uint8(0), uint8(0))
	// Unspecified destinations, a mapped name's other family, invisible
	// characters.
	f.Add(seed, uint8(Connect), "", []byte{0, 0, 0, 0}, uint16(80), uint8(0), uint8(0))
	f.Add(seed, uint8(Connect), "", []byte{0, 1, 2, 3}, uint16(80), uint8(0), uint8(0))
	f.Add(seed, uint8(Connect), "", make([]byte, 16), uint16(80), uint8(0), uint8(0))
	f.Add(seed, uint8(Lookup), "my-database.internal", []byte{}, uint16(0), uint8(2), uint8(0))
	f.Add(seed, uint8(Connect), "my-database.internal", netip.MustParseAddr("2001:db8::1").AsSlice(), uint16(5432), uint8(0), uint8(0))
	f.Add(seed, uint8(Lookup), "exam\u200bple.com", []byte{}, uint16(0), uint8(0), uint8(0))
	// Inbound mappings on localhost, a loopback address, the loopback
	// interface and "*": a listen on 127.0.0.1 or lo asks the table of the
	// address or interface and the localhost table, and the winning mapping
	// is the one of lowest rank over both.
	inbound := strings.Join([]string{
		"--allow-inbound=tcp://localhost:8080->18080",
		"--allow-inbound=tcp://127.0.0.1:8080-8081->28080-28081",
		"--allow-inbound=tcp://lo:8080",
		"--allow-inbound=tcp://*:8081->38081#ipv6-only",
		"--allow-inbound=udp://localhost:53-60->5353-5360",
		"--allow-inbound=udp://[::1]:53",
	}, "\n")
	f.Add(inbound, uint8(Listen), "", []byte{127, 0, 0, 1}, uint16(8080), uint8(0), uint8(LocalAddr))
	f.Add(inbound, uint8(Listen), "lo", []byte{}, uint16(8081), uint8(0), uint8(LocalInterface))
	f.Add(inbound, uint8(Bind), "", netip.IPv6Loopback().AsSlice(), uint16(53), uint8(0), uint8(LocalAddr))
	f.Add(inbound, uint8(Listen), "", []byte{}, uint16(8081), uint8(0), uint8(LocalLocalhost))
	// Networks that cover a family only together (one port missing in a
	// part, mappings alike and not), and mapping rules a tie-break decides.
	split := strings.Join([]string{
		"--allow-resolve=example.com",
		"--allow-outbound=tcp://0.0.0.0/1:80,443",
		"--allow-outbound=tcp://128.0.0.0/2:80",
		"--allow-outbound=tcp://192.0.0.0/2:80,443->8080,8443",
		"--allow-outbound=tcp://[::/1]:80->8080",
		"--allow-outbound=tcp://[8000::/1]:80->8080",
		"--allow-outbound=udp://0.0.0.0/1:53",
		"--allow-outbound=udp://128.0.0.0/1:53->5353",
		"--allow-outbound=tcp://example.com:22->2222",
		"--allow-outbound=tcp://10.0.0.0/8:22->2200",
		"--allow-inbound=tcp://eth0:80->8080",
		"--allow-inbound=tcp://10.0.0.5:80->9090",
		"--allow-inbound=tcp://lo:81->8181",
		"--allow-inbound=tcp://localhost:81->9191",
	}, "\n")
	f.Add(split, uint8(Connect), "example.com", []byte{}, uint16(80), uint8(0), uint8(0))
	f.Add(split, uint8(Connect), "example.com", []byte{}, uint16(443), uint8(0), uint8(0))
	f.Add(split, uint8(Send), "example.com", []byte{}, uint16(53), uint8(0), uint8(0))
	f.Add(split, uint8(Connect), "example.com", []byte{10, 1, 2, 3}, uint16(22), uint8(0), uint8(0))
	f.Add(split, uint8(Listen), "", []byte{10, 0, 0, 5}, uint16(80), uint8(0), uint8(LocalAddr))
	f.Add(split, uint8(Listen), "", []byte{127, 0, 0, 1}, uint16(81), uint8(0), uint8(LocalAddr))
	// Names the index holds, spelled otherwise: the table is asked with
	// the name as given before it is normalized (only a name found as it is
	// skips normalizing), so these must decide as their canonical form.
	names := strings.Join([]string{
		"--allow-outbound=tcp://svc-1.example.com:443",
		"--allow-outbound=tcp://*.zone1.example.net:80",
		"--allow-outbound=tcp://abcdefgh:22",
		"--allow-resolve=xn--bcher-kva.example",
		"--allow-inbound=tcp://eth0:80",
	}, "\n")
	for _, n := range []string{"svc-1.example.com", "SVC-1.example.com", "svc-1.example.com.", "a.zone1.example.net", "zone1.example.net",
		"a.ZONE1.example.net", "a..zone1.example.net", "abcdefgh", "abcdefgh.", "ABCDEFGH", "bücher.example", "xn--bcher-kva.example",
		"svc-1.example.com\u200b", "ｓｖｃ-1.example.com", "a-.zone1.example.net"} {
		f.Add(names, uint8(Connect), n, []byte{}, uint16(443), uint8(0), uint8(0))
		f.Add(names, uint8(Lookup), n, []byte{}, uint16(0), uint8(0), uint8(0))
	}
	f.Add(names, uint8(Listen), "ETH0", []byte{}, uint16(80), uint8(0), uint8(LocalInterface))
	f.Add(names, uint8(Listen), "eth0", []byte{}, uint16(80), uint8(0), uint8(LocalInterface))
	ifaces := policygen.Interfaces()
	f.Fuzz(func(t *testing.T, flags string, op uint8, name string, addr []byte, port uint16, fam uint8, local uint8) {
		p, _ := policygen.Compile(t, strings.Split(flags, "\n"))
		q := Request{Op: Op(op % 6), Name: name, Port: port, Family: policy.Families(fam % 3), Local: LocalKind(local % 4)}
		if a, ok := netip.AddrFromSlice(addr); ok {
			q.Addr = a
		}
		ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
		a, b := ref.Decide(q), idx.Decide(q)
		if !policygen.SameDecision(a, b) {
			t.Fatalf("%s: reference %+v, index %+v", q, a, b)
		}
		x := evalreport.NewExplainer(p, ifaces).Explain(q)
		if !policygen.SameDecision(x.Decision, a) || a.Allowed && !a.NoRuleNeeded && len(x.Allowing) == 0 || !a.Allowed && len(x.Allowing) > 0 {
			t.Fatalf("%s: explanation %+v disagrees with %+v", q, x, a)
		}
	})
}
