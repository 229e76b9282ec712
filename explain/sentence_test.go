package explain

import (
	"strings"
	"testing"

	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
)

// compile parses and compiles one flag.
func compile(t *testing.T, flag string) *policy.Rule {
	t.Helper()
	ar, ds := grammar.ParseFlag(flag, nil)
	if ar == nil || len(ds) > 0 {
		t.Fatalf("%s: %v", flag, ds)
	}
	return policy.CompileRule(ar)
}

// TestSentences pins the sentence of every form, the tricky ones first.
func TestSentences(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		// *.x versus x.
		{"--allow-resolve=example.com", "Allow looking up example.com itself, not the names below it (A and AAAA records)."},
		{"--allow-resolve=*.example.com", "Allow looking up every name below example.com (such as a.example.com and a.b.example.com), not example.com itself (A and AAAA records)."},
		{"--allow-outbound=tcp://*.example.com:443", "Allow TCP connections to any IP address resolved from a name below example.com (not example.com itself) on port 443; this also allows looking up every name below example.com, not example.com itself."},
		{"--allow-resolve=*", "Allow looking up any name (A and AAAA records)."},
		// Families.
		{"--allow-resolve=example.com#ipv4-only", "Allow looking up example.com itself, not the names below it (A records only: IPv4 addresses)."},
		{"--allow-resolve=example.com#ipv6-only", "Allow looking up example.com itself, not the names below it (AAAA records only: IPv6 addresses)."},
		{"--allow-outbound=tcp://example.com:80#ipv6-only", "Allow TCP connections to any IPv6 address resolved from example.com on port 80; this also allows looking up example.com (AAAA records only: IPv6 addresses)."},
		{"--allow-outbound=tcp://example.com:80", "Allow TCP connections to any IP address resolved from example.com on port 80; this also allows looking up example.com."},
		// * does not allow lookups; ... is *:*; families of *.
		{"--allow-outbound=tcp://*:*", "Allow TCP connections to any address on any port; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)."},
		{"--allow-outbound=tcp://*:*#ipv4-only", "Allow TCP connections to any IPv4 address on any port; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)."},
		{"--allow-outbound=tcp://...#ipv6-only", "Allow TCP connections to any IPv6 address on any port; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)."},
		{"--allow-outbound=udp://...", "Allow sending UDP datagrams to any address on any port; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)."},
		// Ports.
		{"--allow-outbound=tcp://*:80,443", "Allow TCP connections to any address on ports 80 and 443; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)."},
		{"--allow-outbound=tcp://*:21,35000-35999", "Allow TCP connections to any address on ports 21 and 35000–35999; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)."},
		{"--allow-outbound=tcp://10.0.0.1:22,80-82,443", "Allow TCP connections to 10.0.0.1 on ports 22, 80–82 and 443."},
		{"--allow-inbound=tcp://*:0", "Allow listening for TCP connections (and accepting them) on every interface (IPv4 and IPv6) on a port the system picks (port 0)."},
		{"--allow-inbound=udp://*:*", "Allow binding UDP sockets (and receiving datagrams on them) on every interface (IPv4 and IPv6) on any port, or a port the system picks (port 0)."},
		// Addresses and networks.
		{"--allow-outbound=tcp://127.0.0.1:80", "Allow TCP connections to 127.0.0.1 on port 80."},
		{"--allow-outbound=tcp://10.0.0.0/8:443", "Allow TCP connections to 10.0.0.0/8 (10.0.0.0–10.255.255.255) on port 443."},
		{"--allow-outbound=udp://[2001:db8::/32]:53", "Allow sending UDP datagrams to 2001:db8::/32 (2001:db8::–2001:db8:ffff:ffff:ffff:ffff:ffff:ffff) on port 53."},
		{"--allow-outbound=tcp://0.0.0.0/0:443", "Allow TCP connections to any IPv4 address (0.0.0.0/0) on port 443; this does not allow looking up any name (a name needs an --allow-resolve rule or an outbound rule to that name)."},
		// localhost is loopback.
		{"--allow-resolve=localhost", "Allow looking up localhost, which always answers a loopback address (127.0.0.0/8 or ::1) without a DNS query."},
		{"--allow-outbound=tcp://localhost:8080#ipv4-only", "Allow TCP connections to localhost, that is an IPv4 loopback address (127.0.0.0/8), on port 8080; this also allows looking up localhost, which answers an IPv4 loopback address (127.0.0.0/8) without a DNS query."},
		{"--allow-inbound=tcp://localhost:80", "Allow listening for TCP connections (and accepting them) on the loopback interfaces only (127.0.0.0/8 and ::1) on port 80."},
		{"--allow-inbound=tcp://[::1]:80", "Allow listening for TCP connections (and accepting them) on the loopback address ::1 only, on port 80."},
		// Inbound hosts.
		{"--allow-inbound=tcp://*:80", "Allow listening for TCP connections (and accepting them) on every interface (IPv4 and IPv6) on port 80."},
		{"--allow-inbound=tcp://0.0.0.0:80", "Allow listening for TCP connections (and accepting them) on every interface, IPv4 only (0.0.0.0), on port 80."},
		{"--allow-inbound=tcp://[::]:80", "Allow listening for TCP connections (and accepting them) on every interface, IPv6 only ([::]), on port 80."},
		{"--allow-inbound=tcp://eth0:80", "Allow listening for TCP connections (and accepting them) on the network interface eth0 on port 80."},
		{"--allow-inbound=udp://eth0.100:53#ipv6-only", "Allow binding UDP sockets (and receiving datagrams on them) on the network interface eth0.100, IPv6 only, on port 53."},
		{"--allow-inbound=tcp://10.0.0.5:8080", "Allow listening for TCP connections (and accepting them) on the local address 10.0.0.5 only, on port 8080."},
		// Mappings: guest view, then host view.
		{"--allow-resolve=my-database.internal->172.17.0.14", "Allow looking up my-database.internal, which answers 172.17.0.14 and nothing else, without a DNS query (a lookup of IPv6 addresses gets no answer)."},
		{"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433", "Allow TCP connections to my-database.internal, which the guest resolves to exactly 172.17.0.14 without a DNS query, on port 5432; a guest connection to my-database.internal (172.17.0.14) port 5432 is made by the host to 172.17.0.14 port 5433; this also allows looking up my-database.internal, which answers 172.17.0.14 and nothing else, without a DNS query (a lookup of IPv6 addresses gets no answer)."},
		{"--allow-outbound=tcp://example.com:80->8080", "Allow TCP connections to any IP address resolved from example.com on port 80; a guest connection to an address of example.com port 80 is made by the host to the same address port 8080; this also allows looking up example.com."},
		{"--allow-outbound=udp://10.0.0.1:8000-8009->9000-9009", "Allow sending UDP datagrams to 10.0.0.1 on ports 8000–8009; a guest datagram to 10.0.0.1 ports 8000–8009 is sent by the host to 10.0.0.1 ports 9000–9009 (8000 to 9000, …, 8009 to 9009)."},
		{"--allow-inbound=tcp://*:80->8888", "Allow listening for TCP connections (and accepting them) on every interface (IPv4 and IPv6) on port 80: the guest listens on port 80; the host listens on port 8888."},
		{"--allow-inbound=udp://localhost:53->5353", "Allow binding UDP sockets (and receiving datagrams on them) on the loopback interfaces only (127.0.0.0/8 and ::1) on port 53: the guest binds port 53; the host binds port 5353."},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			if got := Sentence(compile(t, tc.flag)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestSentenceContrasts checks what sets tricky pairs of forms apart.
func TestSentenceContrasts(t *testing.T) {
	for _, tc := range []struct {
		flag        string
		has, hasNot []string
	}{
		{"--allow-resolve=*.example.com", []string{"below example.com", "not example.com itself"}, []string{"example.com itself, not"}},
		{"--allow-resolve=example.com", []string{"example.com itself, not the names below it"}, []string{"every name"}},
		{"--allow-outbound=tcp://*:*", []string{"any address", "does not allow looking up"}, []string{"IPv4", "IPv6", "also allows looking up"}},
		{"--allow-outbound=tcp://*:*#ipv4-only", []string{"any IPv4 address", "does not allow looking up"}, []string{"IPv6"}},
		{"--allow-outbound=tcp://example.com:80", []string{"resolved from example.com", "also allows looking up example.com"}, []string{"does not allow"}},
		{"--allow-inbound=tcp://*:0", []string{"a port the system picks"}, []string{"port 0 "}},
		{"--allow-inbound=tcp://*:80->8888", []string{"the guest listens on port 80; the host listens on port 8888"}, nil},
		{"--allow-outbound=tcp://db.internal->172.17.0.14:5432->5433", []string{"guest connection to db.internal (172.17.0.14) port 5432 is made by the host to 172.17.0.14 port 5433"}, nil},
		{"--allow-outbound=tcp://example.com:80#ipv6-only", []string{"IPv6 address", "AAAA records only"}, []string{"IPv4", "A and AAAA"}},
		{"--allow-inbound=tcp://localhost:80", []string{"loopback", "127.0.0.0/8 and ::1"}, []string{"every interface"}},
	} {
		s := Sentence(compile(t, tc.flag))
		for _, h := range tc.has {
			if !strings.Contains(s, h) {
				t.Errorf("%s: sentence lacks %q:\n%s", tc.flag, h, s)
			}
		}
		for _, h := range tc.hasNot {
			if strings.Contains(s, h) {
				t.Errorf("%s: sentence has %q:\n%s", tc.flag, h, s)
			}
		}
	}
}
