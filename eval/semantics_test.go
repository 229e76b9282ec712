package eval

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// summary writes a decision compactly for table tests:
// "deny", or "allow rN [families] [host-side address] [=answers]".
func summary(q Request, d Decision) string {
	if d.Invalid != nil {
		return "invalid: " + d.Invalid.Error()
	}
	if !d.Allowed {
		return "deny"
	}
	s := "allow"
	if d.NoRuleNeeded {
		s += " free"
	} else {
		s += fmt.Sprintf(" r%d", d.Rule)
	}
	if d.Families != 3 && !q.Addr.IsValid() {
		s += " " + d.Families.String()
	}
	switch {
	case d.HostAddr.IsValid() && (q.Op != Lookup):
		if q.Addr != d.HostAddr || d.HostPort != q.Port || q.Addr.Is4In6() {
			s += " " + AddrPort(d.HostAddr, d.HostPort)
		}
	case d.HostPort != q.Port && q.Op != Lookup:
		s += fmt.Sprintf(" :%d", d.HostPort)
	}
	for _, a := range d.Answers {
		if a.IsValid() {
			s += " =" + a.String()
		}
	}
	return s
}

type reqCase struct{ req, want string }

// checkRequests decides request lines against flags with both engines.
func checkRequests(t *testing.T, name string, flags []string, cases []reqCase) {
	t.Helper()
	p, ds := compileFlags(t, flags)
	if len(p.Rules) != len(flags) || len(ds) > 0 {
		t.Fatalf("%s: policy did not compile cleanly: %d of %d rules, %v", name, len(p.Rules), len(flags), ds)
	}
	ifaces := testIfaces()
	ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
	for _, c := range cases {
		it, err := ParseRequest(c.req)
		if err != nil {
			t.Errorf("%s: ParseRequest(%q): %v", name, c.req, err)
			continue
		}
		a, b := ref.Decide(it.Request), idx.Decide(it.Request)
		if got := summary(it.Request, a); got != c.want {
			t.Errorf("%s: %s\n  got  %s\n  want %s", name, c.req, got, c.want)
		}
		if !sameDecision(a, b) {
			t.Errorf("%s: %s: engines differ: %+v vs %+v", name, c.req, a, b)
		}
	}
}

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
		{"mapping wins over a non-mapping resolve", []string{"--allow-resolve=db", "--allow-resolve=db->10.0.0.1"}, []reqCase{
			{"lookup db", "allow r1 =10.0.0.1"},
			{"lookup db ipv6", "allow r0 ipv6"},
		}},
		{"explicit mapping applies to an outbound name rule", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://db:5432"}, []reqCase{
			{"connect tcp db:5432", "allow r1 10.0.0.1:5432"},
			{"connect tcp 10.0.0.1:5432 via db", "allow r1"},
			{"connect tcp 10.0.0.2:5432 via db", "deny"},
			{"connect tcp [2001:db8::1]:5432 via db", "allow r1"},
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

func TestParseRequest(t *testing.T) {
	tests := []struct{ line, want string }{
		{"lookup Example.COM.", "lookup example.com"},
		{"LOOKUP example.com IPv6", "lookup example.com ipv6"},
		{"lookup ::1", "lookup ::1"},
		{"lookup [::ffff:10.0.0.1]", "lookup 10.0.0.1"},
		{"connect tcp [::ffff:10.0.0.1]:80", "connect tcp 10.0.0.1:80"},
		{"connect tcp [2001:DB8::1]:443 via Example.com", "connect tcp [2001:db8::1]:443 via example.com"},
		{"send udp 8.8.8.8:53 # dns", "send udp 8.8.8.8:53"},
		{"listen tcp *:0", "listen tcp *:0"},
		{"listen tcp eth0:1:80", "listen tcp eth0:1:80"},
		{"bind udp LOCALHOST:53", "bind udp localhost:53"},
		{"listen tcp [::]:80", "listen tcp [::]:80"},
		{`{"op":"connect","host":"93.184.216.34","port":80,"via":"example.com"}`, "connect tcp 93.184.216.34:80 via example.com"},
		{`{"op":"lookup","name":"example.com","family":"ipv4"}`, "lookup example.com ipv4"},
		{`{"op":"listen","local":"eth0","port":80}`, "listen tcp eth0:80"},
		{`{"op":"send","host":"2001:db8::1","port":53}`, "send udp [2001:db8::1]:53"},
		{"lookup example.com => 93.184.216.34, 2606:2800::1", "lookup example.com"},
	}
	for _, tt := range tests {
		it, err := ParseRequest(tt.line)
		if err != nil {
			t.Errorf("ParseRequest(%q): %v", tt.line, err)
			continue
		}
		if got := it.Request.String(); got != tt.want {
			t.Errorf("ParseRequest(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
	it, _ := ParseRequest("lookup example.com => 93.184.216.34, 2606:2800::1")
	if len(it.Answers) != 2 || it.Answers[1].String() != "2606:2800::1" {
		t.Errorf("answers = %v", it.Answers)
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		line       string
		start, end int
		want       string
	}{
		{"fetch example.com", 0, 5, "unknown request"},
		{"connect udp example.com:53", 8, 11, "connect is TCP; for UDP write send udp"},
		{"connect tcp example.com", 12, 23, "missing port"},
		{"connect tcp 127.1:80", 12, 17, "legacy numeric form of the IPv4 address 127.0.0.1"},
		{"connect tcp 2130706433:80", 12, 22, "legacy numeric form"},
		{"connect tcp 0x7f.0.0.1:80", 12, 22, "legacy numeric form"},
		{"connect tcp 010.0.0.1:80", 12, 21, "leading zeros"},
		{"connect tcp ::1:80", 12, 18, "IPv6 address must be written in brackets"},
		{"listen tcp fe80::1:80", 11, 21, "IPv6 address must be written in brackets"},
		{"connect tcp [fe80::1%eth0]:80", 12, 26, "zone"},
		{"connect tcp example.com:70000", 24, 29, "out of range"},
		{"connect tcp example.com:0", 24, 25, "port 0 is not a destination"},
		{"connect tcp *:80", 12, 13, "* is not a destination"},
		{"connect tcp 1.2.3.4:80 via 5.6.7.8", 27, 34, "not an address"},
		{"connect tcp example.com:80 via example.com", 31, 42, "already a name"},
		{"lookup a..b", 7, 11, "empty label"},
		{"lookup example.com ipv5", 19, 23, "ipv4 or ipv6"},
		{"lookup example.com => 1.2.3", 22, 27, "legacy numeric form"},
		{"connect tcp x.com:80 => 1.2.3.4", 21, 23, "only a lookup"},
		{"listen tcp 1eth:80", 11, 15, "must start with a letter"},
		{`{"op":"connect","host":"x.com"}`, 0, 31, "missing host or port"},
		{`{"op":"connect","hots":"x.com","port":1}`, 0, 40, "unknown field"},
	}
	for _, tt := range tests {
		_, err := ParseRequest(tt.line)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("ParseRequest(%q) = %v, want a syntax error", tt.line, err)
			continue
		}
		if !strings.Contains(se.Message, tt.want) || se.Start != tt.start || se.End != tt.end {
			t.Errorf("ParseRequest(%q) = %d-%d %q, want %d-%d %q", tt.line, se.Start, se.End, se.Message, tt.start, tt.end, tt.want)
		}
	}
}

// TestLibraryNormalizes decides requests made in code, not parsed: names
// and addresses in lookalike spellings decide like their canonical forms.
func TestLibraryNormalizes(t *testing.T) {
	p, _ := compileFlags(t, []string{"--allow-outbound=tcp://*.example.com:443", "--allow-outbound=tcp://10.0.0.1:80", "--allow-inbound=tcp://[fe80::1]:80"})
	for _, e := range []Decider{NewReference(p, testIfaces()), NewIndex(p, testIfaces())} {
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
