package policy

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
)

func TestCompileSpelling(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://example.com:80"},
		{"--allow-outbound tcp://Example.COM.:443,80,81,82", "--allow-outbound=tcp://example.com:80-82,443"},
		{"--allow-outbound=tcp://x.com:7-7", "--allow-outbound=tcp://x.com:7"},
		{"--allow-outbound=tcp://x.com:0080", "--allow-outbound=tcp://x.com:80"},
		{"--allow-outbound=tcp://...#ipv4-only", "--allow-outbound=tcp://*:*#ipv4-only"},
		{"--allow-outbound=UDP://...", "--allow-outbound=udp://*:*"},
		{"--allow-outbound=tcp://*:1-65535", "--allow-outbound=tcp://*:*"},
		{"--allow-outbound=tcp://*:21,35000-35999", "--allow-outbound=tcp://*:21,35000-35999"},
		{"--allow-outbound=tcp://1.2.3.4:80#ipv4-only", "--allow-outbound=tcp://1.2.3.4:80"},
		{"--allow-outbound=tcp://10.0.0.1/32:80", "--allow-outbound=tcp://10.0.0.1:80"},
		{"--allow-outbound=tcp://[2001:DB8:0::1]:443", "--allow-outbound=tcp://[2001:db8::1]:443"},
		{"--allow-outbound=tcp://[2001:db8::1/128]:443", "--allow-outbound=tcp://[2001:db8::1]:443"},
		{"--allow-outbound=tcp://[2001:db8::/32]:443#ipv6-only", "--allow-outbound=tcp://[2001:db8::/32]:443"},
		{"--allow-outbound=tcp://*.Example.com:443#ipv6-only", "--allow-outbound=tcp://*.example.com:443#ipv6-only"},
		{"--allow-outbound tcp://db.internal->172.17.0.14:5432->5433", "--allow-outbound=tcp://db.internal->172.17.0.14:5432->5433"},
		{"--allow-outbound=tcp://db->172.17.0.14:5432#ipv4-only", "--allow-outbound=tcp://db->172.17.0.14:5432"},
		{"--allow-resolve=my-database.internal->172.17.0.14", "--allow-resolve=my-database.internal->172.17.0.14"},
		{"--allow-resolve=db->[2001:db8::1]", "--allow-resolve=db->[2001:db8::1]"},
		{"--allow-resolve=Bücher.example.", "--allow-resolve=xn--bcher-kva.example"},
		{"--allow-resolve=*", "--allow-resolve=*"},
		{"--allow-resolve=example.com#ipv6-only", "--allow-resolve=example.com#ipv6-only"},
		{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=tcp://*:80#ipv4-only"},
		{"--allow-inbound=tcp://[::]:80", "--allow-inbound=tcp://*:80#ipv6-only"},
		{"--allow-inbound=tcp://0.0.0.0:80#ipv4-only", "--allow-inbound=tcp://*:80#ipv4-only"},
		{"--allow-inbound=tcp://*:1-65535", "--allow-inbound=tcp://*:1-65535"},
		{"--allow-inbound=tcp://*:*", "--allow-inbound=tcp://*:*"},
		{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:0"},
		{"--allow-inbound=udp://...", "--allow-inbound=udp://*:*"},
		{"--allow-inbound=tcp://eth0:1:80", "--allow-inbound=tcp://eth0:1:80"},
		{"--allow-inbound=tcp://LOCALHOST:80", "--allow-inbound=tcp://localhost:80"},
		{"--allow-inbound=tcp://*:80->8888", "--allow-inbound=tcp://*:80->8888"},
		{"--allow-inbound=tcp://[::1]:80#ipv6-only", "--allow-inbound=tcp://[::1]:80"},
	}
	for _, tt := range tests {
		if got := rule(t, tt.flag).String(); got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.flag, got, tt.want)
		}
	}
}

func TestCompileMeaning(t *testing.T) {
	r := rule(t, "--allow-inbound=tcp://0.0.0.0:80")
	if r.Host.Kind != AnyHost || r.Families != IPv4 {
		t.Errorf("inbound 0.0.0.0 = %v %v, want any ipv4", r.Host.Kind, r.Families)
	}
	r = rule(t, "--allow-outbound=tcp://db->172.17.0.14:5432->5433")
	if r.Families != IPv4 || r.HostMap != netip.MustParseAddr("172.17.0.14") || r.PortMap.Map(5432) != 5433 {
		t.Errorf("mapped rule: %+v", r)
	}
	if got := rule(t, "--allow-outbound=tcp://...").Ports; !got.Equal(PortSet{{1, 65535}}) {
		t.Errorf("outbound ... ports = %v", got)
	}
	if got := rule(t, "--allow-inbound=tcp://...").Ports; !got.Equal(PortSet{{0, 65535}}) {
		t.Errorf("inbound ... ports = %v", got)
	}
	if got := rule(t, "--allow-outbound=tcp://10.0.0.1:80").Host.Prefix; got != netip.MustParsePrefix("10.0.0.1/32") {
		t.Errorf("address prefix = %v", got)
	}
}

func TestImpliedResolve(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"--allow-outbound=tcp://example.com:80", "--allow-resolve=example.com"},
		{"--allow-outbound=tcp://example.com:80#ipv4-only", "--allow-resolve=example.com#ipv4-only"},
		{"--allow-outbound=udp://*.example.com:53#ipv6-only", "--allow-resolve=*.example.com#ipv6-only"},
		{"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433", "--allow-resolve=my-database.internal->172.17.0.14"},
		{"--allow-outbound=tcp://localhost:80", "--allow-resolve=localhost"},
		{"--allow-outbound=tcp://*:80", ""},
		{"--allow-outbound=tcp://10.0.0.0/8:80", ""},
		{"--allow-resolve=example.com", ""},
		{"--allow-inbound=tcp://localhost:80", ""},
	}
	for _, tt := range tests {
		r := rule(t, tt.flag)
		got := ""
		if ir := r.ImpliedResolve(); ir != nil {
			got = ir.String()
			if ir.ImpliedBy != r || !ir.IsImplied() {
				t.Errorf("%s: ImpliedBy not set", tt.flag)
			}
		}
		if got != tt.want {
			t.Errorf("%s implies %q, want %q", tt.flag, got, tt.want)
		}
	}
	p, _ := compile(t, "--allow-resolve=a.com", "--allow-outbound=tcp://b.com:80", "--allow-outbound=tcp://*:80", "--allow-resolve=c.com")
	if got, want := spell(p.Resolves), "--allow-resolve=a.com\n--allow-resolve=b.com\n--allow-resolve=c.com\n"; got != want {
		t.Errorf("Resolves:\n%s want\n%s", got, want)
	}
	if p.Resolves[1].ImpliedBy != p.Rules[1] || p.Resolves[1].Index != 1 {
		t.Errorf("implied resolve not linked to rule 1")
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"--allow-outbound=tcp://*:*", "--allow-outbound=tcp://example.com:80", true},
		{"--allow-outbound=tcp://*:80", "--allow-outbound=tcp://example.com:443", false},
		{"--allow-outbound=tcp://*:80", "--allow-outbound=udp://example.com:80", false},
		{"--allow-outbound=tcp://*:80#ipv4-only", "--allow-outbound=tcp://example.com:80", false},
		{"--allow-outbound=tcp://*:80#ipv4-only", "--allow-outbound=tcp://10.0.0.0/8:80", true},
		{"--allow-outbound=tcp://*:80#ipv4-only", "--allow-outbound=tcp://[::1]:80", false},
		{"--allow-outbound=tcp://0.0.0.0/0:80", "--allow-outbound=tcp://*:80#ipv4-only", true},
		{"--allow-outbound=tcp://0.0.0.0/0:80", "--allow-outbound=tcp://*:80", false},
		{"--allow-outbound=tcp://0.0.0.0/0:80", "--allow-outbound=tcp://example.com:80#ipv4-only", true},
		{"--allow-outbound=tcp://10.0.0.0/8:*", "--allow-outbound=tcp://10.1.0.0/16:80,443", true},
		{"--allow-outbound=tcp://10.0.0.0/16:*", "--allow-outbound=tcp://10.0.0.0/8:80", false},
		{"--allow-outbound=tcp://10.0.0.0/8:*", "--allow-outbound=tcp://example.com:80", false},
		{"--allow-outbound=tcp://172.16.0.0/12:5432", "--allow-outbound=tcp://db->172.17.0.14:5432", true},
		{"--allow-outbound=tcp://127.0.0.0/8:80", "--allow-outbound=tcp://localhost:80#ipv4-only", true},
		{"--allow-outbound=tcp://127.0.0.0/8:80", "--allow-outbound=tcp://localhost:80", false},
		{"--allow-outbound=tcp://*.example.com:80", "--allow-outbound=tcp://a.b.example.com:80", true},
		{"--allow-outbound=tcp://*.example.com:80", "--allow-outbound=tcp://example.com:80", false},
		{"--allow-outbound=tcp://*.example.com:80", "--allow-outbound=tcp://badexample.com:80", false},
		{"--allow-outbound=tcp://*.example.com:80", "--allow-outbound=tcp://*.a.example.com:80", true},
		{"--allow-outbound=tcp://*.a.example.com:80", "--allow-outbound=tcp://*.example.com:80", false},
		{"--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://93.184.216.34:80", false},
		{"--allow-outbound=tcp://db:5432", "--allow-outbound=tcp://db->10.0.0.1:5432", true},
		{"--allow-outbound=tcp://db->10.0.0.1:5432", "--allow-outbound=tcp://db:5432", false},
		{"--allow-outbound=tcp://db->10.0.0.1:5432", "--allow-outbound=tcp://db:5432#ipv4-only", true},
		{"--allow-outbound=tcp://db->10.0.0.1:5432->5433", "--allow-outbound=tcp://db:5432#ipv4-only", true},
		{"--allow-outbound=tcp://db:5432", "--allow-outbound=tcp://db:5432->5433", false},
		{"--allow-outbound=tcp://*:8000-8009->9000-9009", "--allow-outbound=tcp://x:8001-8002->9001-9002", true},
		{"--allow-outbound=tcp://*:8000-8009->9000-9009", "--allow-outbound=tcp://x:8001-8002->9002-9003", false},
		{"--allow-outbound=tcp://example.com:80", "--allow-resolve=example.com", false},
		{"--allow-resolve=*", "--allow-resolve=example.com", true},
		{"--allow-resolve=*", "--allow-resolve=db->10.0.0.1", false},
		{"--allow-resolve=db->10.0.0.1", "--allow-resolve=db#ipv4-only", true},
		{"--allow-resolve=db->10.0.0.1", "--allow-resolve=db", false},
		{"--allow-resolve=db->10.0.0.1", "--allow-resolve=db->10.0.0.1", true},
		{"--allow-resolve=db->10.0.0.1", "--allow-resolve=db->10.0.0.2", false},
		{"--allow-resolve=example.com", "--allow-resolve=example.com#ipv4-only", true},
		{"--allow-resolve=example.com#ipv4-only", "--allow-resolve=example.com", false},
		{"--allow-resolve=*.example.com", "--allow-resolve=example.com", false},
		{"--allow-inbound=tcp://*:*", "--allow-inbound=tcp://eth0:80", true},
		{"--allow-inbound=tcp://*:*", "--allow-inbound=tcp://*:0", true},
		{"--allow-inbound=tcp://*:1-65535", "--allow-inbound=tcp://*:0", false},
		{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=tcp://10.0.0.5:80", true},
		{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=tcp://[::1]:80", false},
		{"--allow-inbound=tcp://localhost:80", "--allow-inbound=tcp://127.0.0.1:80", true},
		{"--allow-inbound=tcp://localhost:80", "--allow-inbound=tcp://[::1]:80", true},
		{"--allow-inbound=tcp://localhost:80", "--allow-inbound=tcp://10.0.0.1:80", false},
		{"--allow-inbound=tcp://eth0:80", "--allow-inbound=tcp://eth1:80", false},
		{"--allow-inbound=tcp://eth0:80", "--allow-inbound=tcp://10.0.0.5:80", false},
		{"--allow-inbound=tcp://*:80->8888", "--allow-inbound=tcp://eth0:80", true},
		{"--allow-inbound=tcp://*:80", "--allow-inbound=tcp://eth0:80->8888", false},
	}
	for _, tt := range tests {
		if got := Covers(rule(t, tt.a), rule(t, tt.b)); got != tt.want {
			t.Errorf("Covers(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"--allow-outbound=tcp://*:80", "--allow-outbound=tcp://*:443", "--allow-outbound=tcp://*:80,443"},
		{"--allow-outbound=tcp://*:80", "--allow-outbound=tcp://*:81-90", "--allow-outbound=tcp://*:80-90"},
		{"--allow-outbound=tcp://*:1-100", "--allow-outbound=tcp://*:101-65535", "--allow-outbound=tcp://*:*"},
		{"--allow-outbound=tcp://*:80", "--allow-outbound=udp://*:443", ""},
		{"--allow-outbound=tcp://a.com:80", "--allow-outbound=tcp://b.com:80", ""},
		{"--allow-outbound=tcp://a.com:80#ipv4-only", "--allow-outbound=tcp://a.com:80", ""},
		{"--allow-outbound=tcp://a.com:80#ipv4-only", "--allow-outbound=tcp://a.com:80#ipv6-only", "--allow-outbound=tcp://a.com:80"},
		{"--allow-outbound=tcp://a.com:80#ipv4-only", "--allow-outbound=tcp://a.com:443#ipv6-only", ""},
		{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=tcp://[::]:80", "--allow-inbound=tcp://*:80"},
		{"--allow-resolve=a.com#ipv4-only", "--allow-resolve=a.com#ipv6-only", "--allow-resolve=a.com"},
		{"--allow-outbound=tcp://10.0.0.0/9:80", "--allow-outbound=tcp://10.128.0.0/9:80", "--allow-outbound=tcp://10.0.0.0/8:80"},
		{"--allow-outbound=tcp://10.0.0.0:80", "--allow-outbound=tcp://10.0.0.1:80", "--allow-outbound=tcp://10.0.0.0/31:80"},
		{"--allow-outbound=tcp://10.0.0.1:80", "--allow-outbound=tcp://10.0.0.2:80", ""},
		{"--allow-outbound=tcp://10.0.0.0/9:80", "--allow-outbound=tcp://10.128.0.0/9:443", ""},
		{"--allow-inbound=tcp://10.0.0.0:80", "--allow-inbound=tcp://10.0.0.1:80", ""},
		{"--allow-outbound=tcp://[2001:db8::]:80", "--allow-outbound=tcp://[2001:db8::1]:80", "--allow-outbound=tcp://[2001:db8::/127]:80"},
		{"--allow-outbound=tcp://db->10.0.0.1:80", "--allow-outbound=tcp://db->10.0.0.1:443", "--allow-outbound=tcp://db->10.0.0.1:80,443"},
		{"--allow-outbound=tcp://db->10.0.0.1:80", "--allow-outbound=tcp://db->10.0.0.2:443", ""},
		{"--allow-inbound=tcp://*:80->8080", "--allow-inbound=tcp://*:81->8081", ""},
		{"--allow-inbound=tcp://*:80->8080", "--allow-inbound=tcp://*:80->8080", ""},
		{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:80", ""},
		{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:0"},
		{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:1-65535", "--allow-inbound=tcp://*:*"},
	}
	for _, tt := range tests {
		a, b := rule(t, tt.a), rule(t, tt.b)
		b.Index = 1
		m, ok := Merge(a, b)
		got := ""
		if ok {
			got = m.String()
			if len(m.Sources) != 2 || m.Index != 0 {
				t.Errorf("Merge(%s, %s): sources %d, index %d", tt.a, tt.b, len(m.Sources), m.Index)
			}
		}
		if got != tt.want {
			t.Errorf("Merge(%s, %s) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSubtract(t *testing.T) {
	tests := []struct {
		a, b  string
		want  string
		exact bool
	}{
		{"--allow-outbound=tcp://*:80", "--allow-outbound=tcp://*:80,443", "--allow-outbound=tcp://*:443", true},
		{"--allow-outbound=tcp://*:*", "--allow-outbound=tcp://example.com:80", "", true},
		{"--allow-outbound=udp://*:*", "--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://example.com:80", true},
		{"--allow-outbound=tcp://*:80#ipv4-only", "--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://example.com:80#ipv6-only", true},
		{"--allow-outbound=tcp://10.0.0.0/9:80", "--allow-outbound=tcp://10.0.0.0/8:80,443",
			"--allow-outbound=tcp://10.0.0.0/8:443\n--allow-outbound=tcp://10.128.0.0/9:80", true},
		{"--allow-outbound=tcp://10.0.0.0/8:*", "--allow-outbound=tcp://*:80#ipv4-only",
			"--allow-outbound=tcp://0.0.0.0/5:80\n--allow-outbound=tcp://8.0.0.0/7:80\n--allow-outbound=tcp://11.0.0.0/8:80\n--allow-outbound=tcp://12.0.0.0/6:80\n--allow-outbound=tcp://16.0.0.0/4:80\n--allow-outbound=tcp://32.0.0.0/3:80\n--allow-outbound=tcp://64.0.0.0/2:80\n--allow-outbound=tcp://128.0.0.0/1:80", true},
		{"--allow-outbound=tcp://a.example.com:80", "--allow-outbound=tcp://*.example.com:80", "--allow-outbound=tcp://*.example.com:80", false},
		{"--allow-outbound=tcp://b.com:80", "--allow-outbound=tcp://a.com:80", "--allow-outbound=tcp://a.com:80", true},
		{"--allow-inbound=tcp://*:8000-8004->9000-9004", "--allow-inbound=tcp://*:8000-8009->9000-9009",
			"--allow-inbound=tcp://*:8005-8009->9005-9009", true},
		{"--allow-resolve=example.com#ipv4-only", "--allow-resolve=example.com", "--allow-resolve=example.com#ipv6-only", true},
	}
	for _, tt := range tests {
		rest, exact := Subtract(rule(t, tt.a), rule(t, tt.b))
		if got := strings.TrimSuffix(spell(rest), "\n"); got != tt.want || exact != tt.exact {
			t.Errorf("Subtract(%s, %s) =\n%s (exact %v)\nwant\n%s (exact %v)", tt.a, tt.b, got, exact, tt.want, tt.exact)
		}
	}
}

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		want  string
	}{
		{"ports", []string{"--allow-outbound=tcp://*:443", "--allow-outbound=tcp://*:80,81", "--allow-outbound=tcp://*:82"},
			"--allow-outbound=tcp://*:80-82,443\n"},
		{"aggregate to fixpoint", []string{"--allow-outbound=tcp://10.0.0.0/9:80", "--allow-outbound=tcp://10.128.0.0/10:80", "--allow-outbound=tcp://10.192.0.0/10:80", "--allow-outbound=tcp://10.0.0.0/8:443"},
			"--allow-outbound=tcp://10.0.0.0/8:80,443\n"},
		{"port 0 stands alone", []string{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:80", "--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:443"},
			"--allow-inbound=tcp://*:0\n--allow-inbound=tcp://*:80,443\n"},
		{"port 0 completes *", []string{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:80", "--allow-inbound=tcp://*:1-79,81-65535"},
			"--allow-inbound=tcp://*:*\n"},
		{"aggregate many", []string{"--allow-outbound=tcp://10.0.0.0:80", "--allow-outbound=tcp://10.0.0.5:80", "--allow-outbound=tcp://10.0.0.1:80", "--allow-outbound=tcp://10.0.0.4:80", "--allow-outbound=tcp://10.0.0.9:80"},
			"--allow-outbound=tcp://10.0.0.0/31:80\n--allow-outbound=tcp://10.0.0.4/31:80\n--allow-outbound=tcp://10.0.0.9:80\n"},
		{"families", []string{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=tcp://[::]:80"}, "--allow-inbound=tcp://*:80\n"},
		{"implied resolve dropped", []string{"--allow-resolve=example.com", "--allow-outbound=tcp://example.com:80"},
			"--allow-outbound=tcp://example.com:80\n"},
		{"resolve broader than implied kept", []string{"--allow-resolve=example.com", "--allow-outbound=tcp://example.com:80#ipv4-only"},
			"--allow-resolve=example.com\n--allow-outbound=tcp://example.com:80#ipv4-only\n"},
		{"outbound name kept for its implied resolve", []string{"--allow-outbound=tcp://*:*", "--allow-outbound=tcp://example.com:80"},
			"--allow-outbound=tcp://*:*\n--allow-outbound=tcp://example.com:80\n"},
		{"outbound name dropped when resolve given", []string{"--allow-outbound=tcp://*:*", "--allow-outbound=tcp://example.com:80", "--allow-resolve=*"},
			"--allow-resolve=*\n--allow-outbound=tcp://*:*\n"},
		{"duplicate", []string{"--allow-inbound=tcp://*:80->8080", "--allow-inbound=tcp://*:80->8080"}, "--allow-inbound=tcp://*:80->8080\n"},
		{"subsumed", []string{"--allow-outbound=tcp://*.example.com:443", "--allow-outbound=tcp://a.example.com:443", "--allow-outbound=tcp://example.com:443"},
			"--allow-outbound=tcp://example.com:443\n--allow-outbound=tcp://*.example.com:443\n"},
		{"order", []string{"--allow-inbound=udp://*:53", "--allow-outbound=tcp://example.org:1", "--allow-outbound=tcp://a.example.com:1",
			"--allow-outbound=tcp://*.example.com:2", "--allow-outbound=tcp://example.com:3", "--allow-outbound=tcp://[::1]:1", "--allow-outbound=tcp://10.0.0.1:1",
			"--allow-outbound=tcp://*:9", "--allow-outbound=tcp://localhost:1", "--allow-resolve=z.com", "--allow-outbound=udp://*:1", "--allow-inbound=tcp://eth1:1", "--allow-inbound=tcp://eth0:1"},
			"--allow-resolve=z.com\n--allow-outbound=tcp://*:9\n--allow-outbound=tcp://10.0.0.1:1\n--allow-outbound=tcp://[::1]:1\n--allow-outbound=tcp://localhost:1\n" +
				"--allow-outbound=tcp://example.com:3\n--allow-outbound=tcp://*.example.com:2\n--allow-outbound=tcp://a.example.com:1\n--allow-outbound=tcp://example.org:1\n" +
				"--allow-outbound=udp://*:1\n--allow-inbound=tcp://eth0:1\n--allow-inbound=tcp://eth1:1\n--allow-inbound=udp://*:53\n"},
		{"family order", []string{"--allow-resolve=a.com#ipv6-only", "--allow-resolve=a.com#ipv4-only", "--allow-resolve=b.com#ipv6-only", "--allow-resolve=b.com"},
			"--allow-resolve=a.com\n--allow-resolve=b.com\n"},
		{"family order is by the modifier as written", []string{"--allow-resolve=db#ipv4-only", "--allow-resolve=db->[::1]"},
			"--allow-resolve=db->[::1]\n--allow-resolve=db#ipv4-only\n"},
	}
	for _, tt := range tests {
		p, _ := compile(t, tt.flags...)
		got := spell(Canonicalize(p.Rules))
		if got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, got, tt.want)
		}
		// Idempotent.
		again := spell(Canonicalize(Canonicalize(p.Rules)))
		if again != got {
			t.Errorf("%s: not idempotent:\n%s", tt.name, again)
		}
	}
}

func TestSubsumeReportsCover(t *testing.T) {
	p, _ := compile(t, "--allow-resolve=example.com", "--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://example.com:80")
	kept, dropped := Subsume(p.Rules)
	if len(kept) != 1 || len(dropped) != 2 {
		t.Fatalf("kept %d dropped %d", len(kept), len(dropped))
	}
	for _, d := range dropped {
		if d.By == nil {
			t.Errorf("%s dropped without a cover", d.Rule)
		}
		if d.Rule.Index == 2 && (d.By.Index != 1 || d.ResolveBy == nil) {
			t.Errorf("duplicate dropped by %v / %v", d.By, d.ResolveBy)
		}
	}
}

func TestConflicts(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		want  []string // substrings of the summaries, in order
	}{
		{"one name two addresses", []string{"--allow-resolve=db->10.0.0.1", "--allow-resolve=db->10.0.0.2"}, []string{"db is mapped to two addresses: 10.0.0.2 here and 10.0.0.1"}},
		{"implied mapping conflicts", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://db->10.0.0.2:5432"}, []string{"db is mapped to two addresses"}},
		{"same mapping twice", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://db->10.0.0.1:5432"}, nil},
		{"one address per family", []string{"--allow-resolve=db->10.0.0.1", "--allow-resolve=db->[2001:db8::1]"}, nil},
		{"guest port to two host ports", []string{"--allow-inbound=tcp://*:80->8888", "--allow-inbound=tcp://eth0:80->9999"}, []string{"guest port 80 is mapped to two host ports: 9999 here and 8888"}},
		{"two guest ports onto one host port", []string{"--allow-inbound=tcp://*:80->8888", "--allow-inbound=tcp://*:81->8888"}, []string{"guest ports 81 and 80 are both mapped onto host port 8888"}},
		{"ranges overlap", []string{"--allow-inbound=tcp://*:8000-8009->9000-9009", "--allow-inbound=tcp://*:8005->7005"}, []string{"guest port 8005 is mapped to two host ports: 7005 here and 9005"}},
		{"same offset agrees", []string{"--allow-inbound=tcp://*:8000-8009->9000-9009", "--allow-inbound=tcp://*:8005->9005"}, nil},
		{"families apart", []string{"--allow-inbound=tcp://*:80->8888#ipv4-only", "--allow-inbound=tcp://*:80->9999#ipv6-only"}, nil},
		{"protocols apart", []string{"--allow-inbound=tcp://*:80->8888", "--allow-inbound=udp://*:80->9999"}, nil},
		{"interfaces apart", []string{"--allow-inbound=tcp://eth0:80->8888", "--allow-inbound=tcp://eth1:80->9999"}, nil},
		{"same interface", []string{"--allow-inbound=tcp://eth0:80->8888", "--allow-inbound=tcp://eth0:80->9999"}, []string{"guest port 80"}},
		{"localhost and loopback", []string{"--allow-inbound=tcp://localhost:80->8888", "--allow-inbound=tcp://127.0.0.1:80->9999"}, []string{"guest port 80"}},
		{"outbound overlapping hosts", []string{"--allow-outbound=tcp://10.0.0.0/8:80->8080", "--allow-outbound=tcp://10.1.2.3:80->9090"}, []string{"guest port 80"}},
		{"outbound mapped name and address", []string{"--allow-outbound=tcp://db->10.1.2.3:5432->5433", "--allow-outbound=tcp://10.1.2.3:5432->5434"}, []string{"guest port 5432"}},
		{"outbound two guests one host port is fine", []string{"--allow-outbound=tcp://x:80->8080", "--allow-outbound=tcp://x:81->8080"}, nil},
		{"outbound distinct names", []string{"--allow-outbound=tcp://a.com:80->8080", "--allow-outbound=tcp://b.com:80->9090"}, nil},
		{"outbound wildcard and name", []string{"--allow-outbound=tcp://*.a.com:80->8080", "--allow-outbound=tcp://x.a.com:80->9090"}, []string{"guest port 80"}},
		{"outbound mapped name and network", []string{"--allow-outbound=tcp://db->10.0.0.1:5432->5433", "--allow-outbound=tcp://10.0.0.0/8:5432->6000"}, []string{"guest port 5432 is mapped to two host ports: 6000 here and 5433"}},
		{"name mapped by a resolve rule, network", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://db:5432->5433", "--allow-outbound=tcp://10.0.0.0/8:5432->6000"}, []string{"guest port 5432"}},
		{"name mapped by a resolve rule, address", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://10.0.0.1:5432->6000", "--allow-outbound=tcp://db:5432->5433"}, []string{"guest port 5432"}},
		{"name mapped by another outbound rule", []string{"--allow-outbound=tcp://db->10.0.0.1:80", "--allow-outbound=tcp://db:5432->5433", "--allow-outbound=tcp://10.0.0.0/8:5432->6000"}, []string{"guest port 5432"}},
		{"wildcard over a mapped name, network", []string{"--allow-resolve=a.db->10.0.0.1", "--allow-outbound=tcp://*.db:5432->5433", "--allow-outbound=tcp://10.0.0.0/8:5432->6000"}, []string{"guest port 5432"}},
		{"mapping outside the network", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://db:5432->5433", "--allow-outbound=tcp://192.168.0.0/16:5432->6000"}, nil},
		{"mapping of the other family", []string{"--allow-resolve=db->[2001:db8::1]", "--allow-outbound=tcp://db:5432->5433", "--allow-outbound=tcp://10.0.0.0/8:5432->6000"}, nil},
		{"mapping of a family the rule excludes", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://db:5432->5433#ipv6-only", "--allow-outbound=tcp://0.0.0.0/0:5432->6000"}, nil},
		{"wildcard not over the mapped name", []string{"--allow-resolve=db->10.0.0.1", "--allow-outbound=tcp://*.db:5432->5433", "--allow-outbound=tcp://10.0.0.0/8:5432->6000"}, nil},
		{"unmapped name and network: a runtime matter", []string{"--allow-outbound=tcp://db:5432->5433", "--allow-outbound=tcp://10.0.0.0/8:5432->6000"}, nil},
		{"interface and its address: a runtime matter", []string{"--allow-inbound=tcp://eth0:80->8080", "--allow-inbound=tcp://10.0.0.5:80->9090"}, nil},
	}
	for _, tt := range tests {
		_, got := compile(t, tt.flags...)
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %q, want %d", tt.name, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) || !strings.HasPrefix(got[i], "CS101 ") {
				t.Errorf("%s: got %q, want %q", tt.name, got[i], w)
			}
		}
	}
}

func TestConflictRange(t *testing.T) {
	ar := func(text string, i int) *ast.Rule {
		r := rule(t, text).Source
		r.Index = i
		return r
	}
	p := &ast.Policy{Rules: []*ast.Rule{ar("--allow-inbound=tcp://*:80->8888", 0), ar("--allow-inbound=tcp://*:80->9999", 1)}}
	_, ds := Compile(p)
	if len(ds) != 1 {
		t.Fatalf("got %v", ds)
	}
	if s, e := ds[0].Range.Start.Offset, ds[0].Range.End.Offset; s != 24 || e != 32 {
		t.Errorf("range %d-%d, want 24-32 (the ports and mapping)", s, e)
	}
}

func TestPortSet(t *testing.T) {
	s := Ports(PortRange{443, 443}, PortRange{80, 80}, PortRange{81, 82}, PortRange{100, 90})
	if got := s.String(); got != "80-82,90-100,443" {
		t.Errorf("Ports = %s", got)
	}
	if !s.Contains(81) || s.Contains(83) || !s.Contains(443) || s.Contains(0) {
		t.Error("Contains")
	}
	if got := s.Minus(Ports(PortRange{81, 95})).String(); got != "80,96-100,443" {
		t.Errorf("Minus = %s", got)
	}
	if got := s.Intersect(Ports(PortRange{82, 443})).String(); got != "82,90-100,443" {
		t.Errorf("Intersect = %s", got)
	}
	if !s.Covers(Ports(PortRange{91, 92}, PortRange{80, 80})) || s.Covers(Port(83)) {
		t.Error("Covers")
	}
	if s.Overlaps(Port(83)) || !s.Overlaps(PortSpan(83, 90)) {
		t.Error("Overlaps")
	}
	if got := AllPorts(true).Spell(true); got != "*" {
		t.Errorf("Spell = %s", got)
	}
	if got := AllPorts(true).Spell(false); got != "1-65535" {
		t.Errorf("inbound Spell of 1-65535 = %s", got)
	}
	if got := AllPorts(true).Minus(Port(1)).Union(Port(1)); !got.Equal(AllPorts(true)) {
		t.Errorf("Union = %v", got)
	}
}
