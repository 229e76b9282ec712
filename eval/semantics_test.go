package eval_test

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/capspec/capspec/ast"
	. "github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// TestSeedExamples decides, for each example of seed/GrantingAccess.md,
// the requests its comment implies and their neighbours.
func TestSeedExamples(t *testing.T) {
	tests := []struct {
		flag  string
		cases []reqCase
	}{
		{"--allow-outbound=tcp://example.com:80", []reqCase{
			{"connect tcp example.com:80", "allow r0"},
			{"connect tcp 93.184.216.34:80 via example.com", "allow r0"},
			{"connect tcp [2606:2800::1]:80 via example.com", "allow r0"},
			{"connect tcp EXAMPLE.com.:80", "allow r0"},
			{"connect tcp example.com:443", "deny"},
			{"send udp example.com:80", "deny"},
			{"connect tcp 93.184.216.34:80", "deny"},
			{"connect tcp a.example.com:80", "deny"},
			{"connect tcp badexample.com:80", "deny"},
			{"connect tcp 93.184.216.34:80 via badexample.com", "deny"},
			{"lookup example.com", "allow r0"}, // implied resolve
			{"lookup example.com ipv6", "allow r0 ipv6"},
			{"lookup a.example.com", "deny"},
		}},
		{"--allow-inbound=tcp://localhost:80", []reqCase{
			{"listen tcp localhost:80", "allow r0 127.0.0.1:80"},
			{"listen tcp 127.0.0.1:80", "allow r0"},
			{"listen tcp 127.0.0.53:80", "allow r0"},
			{"listen tcp [::1]:80", "allow r0"},
			{"listen tcp [::ffff:127.0.0.1]:80", "allow r0"},
			{"listen tcp lo:80", "allow r0"},
			{"listen tcp 10.0.0.5:80", "deny"},
			{"listen tcp eth0:80", "deny"},
			{"listen tcp *:80", "deny"},
			{"listen tcp 0.0.0.0:80", "deny"},
			{"listen tcp localhost:81", "deny"},
			{"bind udp localhost:80", "deny"},
		}},
		{"--allow-resolve=example.com", []reqCase{
			{"lookup example.com", "allow r0"},
			{"lookup Example.COM.", "allow r0"},
			{"lookup example.com ipv4", "allow r0 ipv4"},
			{"lookup www.example.com", "deny"},
			{"lookup badexample.com", "deny"},
			{"connect tcp example.com:80", "deny"},
			{"lookup 93.184.216.34", "allow free =93.184.216.34"},
		}},
		{"--allow-resolve=*.example.com", []reqCase{
			{"lookup a.example.com", "allow r0"},
			{"lookup a.b.example.com", "allow r0"},
			{"lookup example.com", "deny"},
			{"lookup badexample.com", "deny"},
			{"lookup a.badexample.com", "deny"},
			{"lookup example.com.evil.org", "deny"},
		}},
		{"--allow-resolve=*", []reqCase{
			{"lookup example.com", "allow r0"},
			{"lookup anything.test", "allow r0"},
			{"lookup localhost", "allow r0 =127.0.0.1 =::1"},
			{"connect tcp example.com:80", "deny"},
		}},
		{"--allow-resolve=example.com#ipv4-only", []reqCase{
			{"lookup example.com", "allow r0 ipv4"},
			{"lookup example.com ipv4", "allow r0 ipv4"},
			{"lookup example.com ipv6", "deny"},
		}},
		{"--allow-resolve=example.com#ipv6-only", []reqCase{
			{"lookup example.com", "allow r0 ipv6"},
			{"lookup example.com ipv4", "deny"},
		}},
		{"--allow-outbound=tcp://127.0.0.1:80", []reqCase{
			{"connect tcp 127.0.0.1:80", "allow r0"},
			{"connect tcp [::ffff:127.0.0.1]:80", "allow r0"},
			{"connect tcp 127.0.0.1:81", "deny"},
			{"connect tcp 127.0.0.2:80", "deny"},
			{"connect tcp [::1]:80", "deny"},
			{"connect tcp localhost:80", "deny"}, // the lookup of localhost is not allowed
			{"send udp 127.0.0.1:80", "deny"},
		}},
		{"--allow-outbound=tcp://127.0.0.1:*", []reqCase{
			{"connect tcp 127.0.0.1:1", "allow r0"},
			{"connect tcp 127.0.0.1:65535", "allow r0"},
			{"connect tcp 127.0.0.1:22 via localhost", "allow r0"},
			{"connect tcp 127.0.0.3:22", "deny"},
		}},
		{"--allow-outbound=tcp://*:80", []reqCase{
			{"connect tcp 8.8.8.8:80", "allow r0"},
			{"connect tcp [2001:db8::1]:80", "allow r0"},
			{"connect tcp 8.8.8.8:443", "deny"},
			{"connect tcp example.com:80", "deny"}, // * allows no lookup
			{"lookup example.com", "deny"},
			{"connect tcp 8.8.8.8:80 via example.com", "allow r0"},
		}},
		{"--allow-outbound=tcp://*:*", []reqCase{
			{"connect tcp 8.8.8.8:1", "allow r0"},
			{"connect tcp [::1]:65535", "allow r0"},
			{"send udp 8.8.8.8:53", "deny"},
		}},
		{"--allow-outbound=tcp://...#ipv4-only", []reqCase{
			{"connect tcp 8.8.8.8:443", "allow r0"},
			{"connect tcp [::ffff:8.8.8.8]:443", "allow r0"},
			{"connect tcp [2001:db8::1]:443", "deny"},
		}},
		{"--allow-outbound=tcp://...#ipv6-only", []reqCase{
			{"connect tcp [2001:db8::1]:443", "allow r0"},
			{"connect tcp 8.8.8.8:443", "deny"},
			{"connect tcp [::ffff:8.8.8.8]:443", "deny"},
		}},
		{"--allow-outbound=tcp://*:80,443", []reqCase{
			{"connect tcp 1.2.3.4:80", "allow r0"},
			{"connect tcp 1.2.3.4:443", "allow r0"},
			{"connect tcp 1.2.3.4:81", "deny"},
		}},
		{"--allow-outbound=tcp://*:21,35000-35999", []reqCase{
			{"connect tcp 1.2.3.4:21", "allow r0"},
			{"connect tcp 1.2.3.4:35000", "allow r0"},
			{"connect tcp 1.2.3.4:35999", "allow r0"},
			{"connect tcp 1.2.3.4:36000", "deny"},
			{"connect tcp 1.2.3.4:22", "deny"},
		}},
		{"--allow-outbound=udp://...", []reqCase{
			{"send udp 8.8.8.8:53", "allow r0"},
			{"send udp [2001:db8::1]:53", "allow r0"},
			{"connect tcp 8.8.8.8:53", "deny"},
		}},
		{"--allow-inbound=tcp://eth0:80", []reqCase{
			{"listen tcp eth0:80", "allow r0"},
			{"listen tcp 10.0.0.5:80", "allow r0"},
			{"listen tcp [fe80::1]:80", "allow r0"},
			{"listen tcp 10.0.0.6:80", "deny"}, // in eth0's subnet, not its address
			{"listen tcp eth1:80", "deny"},
			{"listen tcp 192.168.1.5:80", "deny"},
			{"listen tcp *:80", "deny"},
			{"listen tcp eth0:81", "deny"},
		}},
		{"--allow-inbound=tcp://*:80", []reqCase{
			{"listen tcp *:80", "allow r0"},
			{"listen tcp 0.0.0.0:80", "allow r0"},
			{"listen tcp [::]:80", "allow r0"},
			{"listen tcp eth1:80", "allow r0"},
			{"listen tcp 192.168.1.5:80", "allow r0"},
			{"listen tcp *:0", "deny"},
			{"bind udp *:80", "deny"},
		}},
		{"--allow-inbound=tcp://*:0", []reqCase{
			{"listen tcp *:0", "allow r0"},
			{"listen tcp 10.0.0.5:0", "allow r0"},
			{"listen tcp *:80", "deny"},
		}},
		{"--allow-resolve=my-database.internal->172.17.0.14", []reqCase{
			{"lookup my-database.internal", "allow r0 ipv4 =172.17.0.14"},
			{"lookup my-database.internal ipv6", "deny"},
			{"lookup other.internal", "deny"},
		}},
		{"--allow-inbound=tcp://*:80->8888", []reqCase{
			{"listen tcp *:80", "allow r0 :8888"},
			{"listen tcp 10.0.0.5:80", "allow r0 10.0.0.5:8888"},
			{"listen tcp *:8888", "deny"},
			{"listen tcp *:81", "deny"},
		}},
		{"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433", []reqCase{
			{"connect tcp my-database.internal:5432", "allow r0 ipv4 172.17.0.14:5433"},
			{"connect tcp 172.17.0.14:5432 via my-database.internal", "allow r0 172.17.0.14:5433"},
			{"connect tcp 172.17.0.15:5432 via my-database.internal", "deny"},
			{"connect tcp 172.17.0.14:5432", "deny"},
			{"connect tcp my-database.internal:5433", "deny"},
			{"lookup my-database.internal", "allow r0 ipv4 =172.17.0.14"},
			{"connect tcp [2001:db8::1]:5432 via my-database.internal", "deny"},
		}},
	}
	for _, tt := range tests {
		checkRequests(t, tt.flag, []string{tt.flag}, tt.cases)
	}
}

// TestSemantics covers the bullets of SPEC §3 that involve several rules.
func TestSemantics(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		cases []reqCase
	}{
		// A mapping is the whole answer (SPEC §3.2; issue 10 finding 4): no
		// DNS answer of the other family.
		{"mapping wins over a non-mapping resolve", []string{"--allow-resolve=db", "--allow-resolve=db->10.0.0.1"}, []reqCase{
			{"lookup db", "allow r1 ipv4 =10.0.0.1"},
			{"lookup db ipv4", "allow r1 ipv4 =10.0.0.1"},
			{"lookup db ipv6", "deny"},
		}},
		{"mapping under *", []string{"--allow-resolve=*", "--allow-resolve=db->10.0.0.5"}, []reqCase{
			{"lookup db", "allow r1 ipv4 =10.0.0.5"},
			{"lookup db ipv6", "deny"},
			{"lookup other", "allow r0"},
		}},
		{"a mapping in each family", []string{"--allow-resolve=*", "--allow-resolve=db->10.0.0.5", "--allow-resolve=db->[2001:db8::5]"}, []reqCase{
			{"lookup db", "allow r1 =10.0.0.5 =2001:db8::5"},
			{"lookup db ipv6", "allow r2 ipv6 =2001:db8::5"},
		}},
		{"explicit mapping applies to an outbound name rule", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://db:5432"}, []reqCase{
			{"connect tcp db:5432", "allow r1 ipv4 10.0.0.1:5432"},
			{"connect tcp 10.0.0.1:5432 via db", "allow r1"},
			{"connect tcp 10.0.0.2:5432 via db", "deny"},
			{"connect tcp [2001:db8::1]:5432 via db", "deny"},
			{"lookup db ipv6", "deny"},
		}},
		{"the other family of a mapped name through *", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://*:5432"}, []reqCase{
			{"connect tcp db:5432", "allow r1 ipv4 10.0.0.1:5432"},
			{"connect tcp [2001:db8::1]:5432 via db", "allow r1"}, // * needs no name
		}},
		// A connect or send to an unspecified address is denied whatever
		// the rules say (SPEC §3.3; issue 10 finding 3).
		{"unspecified destinations", []string{"--allow-outbound=tcp://0.0.0.0/8:*", "--allow-outbound=tcp://*:*", "--allow-outbound=udp://...", "--allow-outbound=tcp://zero:80"}, []reqCase{
			{"connect tcp 0.0.0.0:5432", "deny"},
			{"connect tcp 0.255.1.2:80", "deny"},
			{"connect tcp [::]:22", "deny"},
			{"connect tcp [::ffff:0.0.0.0]:22", "deny"},
			{"connect tcp [::ffff:0.1.2.3]:22", "deny"},
			{"send udp 0.0.0.0:53", "deny"},
			{"send udp [::]:53", "deny"},
			{"connect tcp 0.0.0.0:80 via zero", "deny"},
			{"connect tcp 1.0.0.0:5432", "allow r1"},
			{"connect tcp [::1]:22", "allow r1"},
			{"connect tcp [::0.0.0.1]:22", "allow r1"}, // ::1 (loopback), not ::
			{"listen tcp 0.0.0.0:80", "deny"},
		}},
		{"by name through an address rule needs the lookup", []string{"--allow-resolve=example.com", "--allow-outbound=tcp://*:443"}, []reqCase{
			{"connect tcp example.com:443", "allow r1"},
			{"connect tcp example.org:443", "deny"},
		}},
		{"by name through a network rule: unknown address", []string{"--allow-resolve=example.com", "--allow-outbound=tcp://93.184.216.0/24:443"}, []reqCase{
			{"connect tcp example.com:443", "deny"},
			{"connect tcp 93.184.216.34:443 via example.com", "allow r1"},
		}},
		{"by name through a full network", []string{"--allow-resolve=example.com#ipv4-only", "--allow-outbound=tcp://0.0.0.0/0:443"}, []reqCase{
			{"connect tcp example.com:443", "allow r1 ipv4"},
		}},
		{"mapped name through a network rule", []string{"--allow-resolve=db->172.17.0.14", "--allow-outbound=tcp://172.16.0.0/12:5432"}, []reqCase{
			{"connect tcp db:5432", "allow r1 ipv4 172.17.0.14:5432"},
		}},
		{"localhost outbound", []string{"--allow-outbound=tcp://localhost:8080"}, []reqCase{
			{"connect tcp localhost:8080", "allow r0 127.0.0.1:8080"},
			{"connect tcp 127.0.0.9:8080 via localhost", "allow r0"},
			{"connect tcp 10.0.0.1:8080 via localhost", "deny"},
			{"connect tcp 127.0.0.1:8080", "deny"},
			{"lookup localhost", "allow r0 =127.0.0.1 =::1"},
		}},
		{"family of the implied resolve", []string{"--allow-outbound=tcp://example.com:80#ipv4-only"}, []reqCase{
			{"lookup example.com", "allow r0 ipv4"},
			{"connect tcp example.com:80", "allow r0 ipv4"},
			{"connect tcp [2606:2800::1]:80 via example.com", "deny"},
		}},
		{"first rule in order decides, mapping first", []string{"--allow-inbound=tcp://*:80", "--allow-inbound=tcp://eth0:80->8080", "--allow-inbound=tcp://10.0.0.5:80"}, []reqCase{
			{"listen tcp 10.0.0.5:80", "allow r1 10.0.0.5:8080"},
			{"listen tcp 192.168.1.5:80", "allow r0"},
			{"listen tcp eth0:80", "allow r1 :8080"},
		}},
		{"inbound families", []string{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=udp://[::]:53"}, []reqCase{
			{"listen tcp *:80", "allow r0 ipv4"},
			{"listen tcp [::]:80", "deny"},
			{"listen tcp 10.0.0.5:80", "allow r0"},
			{"listen tcp [fe80::1]:80", "deny"},
			{"bind udp *:53", "allow r1 ipv6"},
			{"bind udp [::1]:53", "allow r1"},
		}},
		{"outbound port range mapping", []string{"--allow-outbound=tcp://10.0.0.0/8:8000-8009->9000-9009"}, []reqCase{
			{"connect tcp 10.1.2.3:8005", "allow r0 10.1.2.3:9005"},
			{"connect tcp 10.1.2.3:8010", "deny"},
		}},
		{"nested wildcards", []string{"--allow-resolve=*.b.example.com#ipv6-only", "--allow-resolve=*.example.com#ipv4-only"}, []reqCase{
			{"lookup a.b.example.com", "allow r1"},
			{"lookup b.example.com", "allow r1 ipv4"},
			{"lookup a.b.example.com ipv6", "allow r0 ipv6"},
		}},
		{"VLAN interface names", []string{"--allow-inbound=tcp://eth0.100:80", "--allow-inbound=udp://eth0:1:53"}, []reqCase{
			{"listen tcp eth0.100:80", "allow r0"},
			{"listen tcp eth0:80", "deny"},
			{"bind udp eth0:1:53", "allow r1"},
		}},
		{"IDN names", []string{"--allow-outbound=tcp://bücher.example:443"}, []reqCase{
			{"connect tcp xn--bcher-kva.example:443", "allow r0"},
			{"connect tcp BÜCHER.example:443", "allow r0"},
			{"connect tcp bucher.example:443", "deny"},
		}},
	}
	for _, tt := range tests {
		checkRequests(t, tt.name, tt.flags, tt.cases)
	}
}

// TestLibraryNormalizes decides requests made in code, not parsed: names
// and addresses in lookalike spellings decide like their canonical forms.
func TestLibraryNormalizes(t *testing.T) {
	p, _ := policygen.Compile(t, []string{"--allow-outbound=tcp://*.example.com:443", "--allow-outbound=tcp://10.0.0.1:80", "--allow-inbound=tcp://[fe80::1]:80"})
	for _, e := range []Decider{NewReference(p, policygen.Interfaces()), NewIndex(p, policygen.Interfaces())} {
		mapped := netip.AddrFrom16(netip.MustParseAddr("10.0.0.1").As16())
		tests := []struct {
			q    Request
			want string
		}{
			{Request{Op: Connect, Addr: mapped, Port: 80}, "allow r1 10.0.0.1:80"},
			{Request{Op: Connect, Name: "WWW.Example.COM.", Port: 443}, "allow r0"},
			{Request{Op: Connect, Name: "example.com", Port: 443}, "deny"},
			{Request{Op: Connect, Name: "www.xn--bcher-kva.example", Port: 443}, "deny"},
			{Request{Op: Connect, Name: "127.1", Port: 443}, "invalid: \"127.1\" is a legacy numeric form of the IPv4 address 127.0.0.1; only the four-part decimal form is accepted"},
			{Request{Op: Connect, Name: "a..example.com", Port: 443}, "invalid: empty label in name"},
			{Request{Op: Listen, Addr: netip.MustParseAddr("fe80::1%eth0"), Port: 80}, "allow r2 [fe80::1]:80"},
			{Request{Op: Lookup, Name: "0x7f.0.0.1"}, "invalid: \"0x7f.0.0.1\" is a legacy numeric form of the IPv4 address 127.0.0.1; only the four-part decimal form is accepted"},
			{Request{Op: Connect, Port: 443}, "invalid: missing host"},
		}
		for _, tt := range tests {
			if got := summary(tt.q, e.Decide(tt.q)); got != tt.want {
				t.Errorf("%T %+v: got %s, want %s", e, tt.q, got, tt.want)
			}
		}
	}
}

// TestManyNestedWildcards decides names below more nested wildcard rules
// than the fast path keeps, with both engines.
func TestManyNestedWildcards(t *testing.T) {
	name := "a.b.c.d.e.f.g.h.i.j.k.l.example.com"
	var flags []string
	for d := name; ; {
		_, rest, ok := cutLabel(d)
		if !ok {
			break
		}
		flags = append(flags, "--allow-resolve=*."+rest+"#ipv6-only", "--allow-outbound=udp://*."+rest+":"+strconv.Itoa(len(flags)+1))
		d = rest
	}
	slices.Reverse(flags) // the deepest wildcards last, so the first rule is shallow
	p, _ := policygen.Compile(t, flags)
	ref, idx := NewReference(p, nil), NewIndex(p, nil)
	for d := name; d != ""; {
		for port := range uint16(len(flags) + 2) {
			for _, q := range []Request{{Op: Lookup, Name: d}, {Op: Send, Name: d, Port: port}, {Op: Send, Name: d, Addr: netip.MustParseAddr("2001:db8::1"), Port: port}} {
				if a, b := ref.Decide(q), idx.Decide(q); !policygen.SameDecision(a, b) {
					t.Fatalf("%s: reference %+v, index %+v", q, a, b)
				}
			}
		}
		_, d, _ = cutLabel(d)
	}
}

func cutLabel(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// TestUnspecifiedMapping: a name mapped to an unspecified address (CS011,
// so only in a policy made by hand) is denied too, by name and by address.
func TestUnspecifiedMapping(t *testing.T) {
	out := &policy.Rule{Kind: ast.Outbound, Protocol: ast.TCP, Host: policy.Host{Kind: policy.NameHost, Name: "zero"},
		HostMap: netip.IPv4Unspecified(), Ports: policy.Port(80), Families: policy.IPv4}
	p := &policy.Policy{Rules: []*policy.Rule{out}, Resolves: []*policy.Rule{out.ImpliedResolve()}}
	for _, e := range []Decider{NewReference(p, nil), NewIndex(p, nil)} {
		for _, q := range []Request{{Op: Connect, Name: "zero", Port: 80}, {Op: Connect, Name: "zero", Addr: netip.IPv4Unspecified(), Port: 80}} {
			if d := e.Decide(q); d.Allowed {
				t.Errorf("%T: %s allowed", e, q)
			}
		}
		if d := e.Decide(Request{Op: Lookup, Name: "zero"}); !d.Allowed || d.Answers[0] != netip.IPv4Unspecified() {
			t.Errorf("%T: lookup zero: %+v", e, d)
		}
	}
}
