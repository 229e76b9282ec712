package normalize

import (
	"strings"
	"testing"
)

// TestSpell covers steps 1 (spelling) and 2 (ports) on single rules.
func TestSpell(t *testing.T) {
	tests := []struct{ in, want string }{
		// Step 1: spelling.
		{"--allow-outbound tcp://example.com:80", "--allow-outbound=tcp://example.com:80"},
		{"--allow-outbound=TCP://Example.COM:80", "--allow-outbound=tcp://example.com:80"},
		{"--allow-resolve=Example.COM.", "--allow-resolve=example.com"},
		{"--allow-resolve=*.Example.com.", "--allow-resolve=*.example.com"},
		{"--allow-resolve=bücher.example", "--allow-resolve=xn--bcher-kva.example"},
		{"--allow-outbound=tcp://[2001:DB8:0:0:0::1]:443", "--allow-outbound=tcp://[2001:db8::1]:443"},
		{"--allow-outbound=tcp://10.1.2.3/32:443", "--allow-outbound=tcp://10.1.2.3:443"},
		{"--allow-outbound=tcp://[2001:db8::1/128]:443", "--allow-outbound=tcp://[2001:db8::1]:443"},
		{"--allow-outbound=tcp://[2001:DB8::/32]:443", "--allow-outbound=tcp://[2001:db8::/32]:443"},
		{"--allow-outbound=tcp://example.com:0080", "--allow-outbound=tcp://example.com:80"},
		{"--allow-outbound=udp://...", "--allow-outbound=udp://*:*"},
		{"--allow-outbound=tcp://...#ipv4-only", "--allow-outbound=tcp://*:*#ipv4-only"},
		{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=tcp://*:80#ipv4-only"},
		{"--allow-inbound=tcp://[::]:80", "--allow-inbound=tcp://*:80#ipv6-only"},
		{"--allow-inbound=tcp://0.0.0.0:80#ipv4-only", "--allow-inbound=tcp://*:80#ipv4-only"},
		{"--allow-outbound=tcp://1.2.3.4:80#ipv4-only", "--allow-outbound=tcp://1.2.3.4:80"},
		{"--allow-outbound=tcp://[::1]:80#ipv6-only", "--allow-outbound=tcp://[::1]:80"},
		{"--allow-resolve=db.internal->172.17.0.14#ipv4-only", "--allow-resolve=db.internal->172.17.0.14"},
		{"--allow-outbound=tcp://db.internal->[2001:DB8::5]:5432->05433", "--allow-outbound=tcp://db.internal->[2001:db8::5]:5432->5433"},
		{"--allow-inbound=tcp://*:80->8888", "--allow-inbound=tcp://*:80->8888"},
		{"--allow-inbound=tcp://eth0:80", "--allow-inbound=tcp://eth0:80"},
		{"--allow-inbound=UDP://LOCALHOST:53", "--allow-inbound=udp://localhost:53"},
		// Step 2: ports.
		{"--allow-outbound=tcp://*:443,80,81,82", "--allow-outbound=tcp://*:80-82,443"},
		{"--allow-outbound=tcp://*:7-7", "--allow-outbound=tcp://*:7"},
		{"--allow-outbound=tcp://*:80,80,80", "--allow-outbound=tcp://*:80"},
		{"--allow-outbound=tcp://*:10-20,15-30,31,1000", "--allow-outbound=tcp://*:10-31,1000"},
		{"--allow-outbound=tcp://*:1-65535", "--allow-outbound=tcp://*:*"},
		{"--allow-outbound=tcp://*:1-100,101-65535", "--allow-outbound=tcp://*:*"},
		{"--allow-outbound=tcp://*:2-65535", "--allow-outbound=tcp://*:2-65535"},
		{"--allow-inbound=tcp://*:1-65535", "--allow-inbound=tcp://*:1-65535"},
		{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:0"},
		{"--allow-inbound=tcp://*:8000-8009->9000-9009", "--allow-inbound=tcp://*:8000-8009->9000-9009"},
		{"--allow-inbound=tcp://*:7-7->8-8", "--allow-inbound=tcp://*:7->8"},
	}
	for _, tt := range tests {
		rs := Spell(astRules(t, tt.in))
		if got := rs[0].String(); got != tt.want {
			t.Errorf("Spell(%s) = %s, want %s", tt.in, got, tt.want)
		}
		// The canonical spelling is its own canonical spelling.
		if again := Spell(astRules(t, tt.want))[0].String(); again != tt.want {
			t.Errorf("Spell(%s) = %s, not idempotent", tt.want, again)
		}
	}
}

// TestMerge covers step 3, including its fixpoint.
func TestMerge(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		want  string // in input order (Merge does not sort)
	}{
		{"ports", []string{"--allow-outbound=tcp://*:443", "--allow-outbound=tcp://*:80,81", "--allow-outbound=tcp://*:82"},
			"--allow-outbound=tcp://*:80-82,443\n"},
		{"different hosts", []string{"--allow-outbound=tcp://a.com:80", "--allow-outbound=tcp://b.com:80"},
			"--allow-outbound=tcp://a.com:80\n--allow-outbound=tcp://b.com:80\n"},
		{"different protocols", []string{"--allow-outbound=tcp://a.com:80", "--allow-outbound=udp://a.com:80"},
			"--allow-outbound=tcp://a.com:80\n--allow-outbound=udp://a.com:80\n"},
		{"family twins", []string{"--allow-resolve=a.com#ipv4-only", "--allow-resolve=a.com#ipv6-only"}, "--allow-resolve=a.com\n"},
		{"family twins need equal ports", []string{"--allow-outbound=tcp://a.com:80#ipv4-only", "--allow-outbound=tcp://a.com:443#ipv6-only"},
			"--allow-outbound=tcp://a.com:80#ipv4-only\n--allow-outbound=tcp://a.com:443#ipv6-only\n"},
		{"ports then families", []string{"--allow-outbound=tcp://a.com:80#ipv4-only", "--allow-outbound=tcp://a.com:443#ipv6-only",
			"--allow-outbound=tcp://a.com:443#ipv4-only", "--allow-outbound=tcp://a.com:80#ipv6-only"},
			"--allow-outbound=tcp://a.com:80,443\n"},
		{"inbound unspecified", []string{"--allow-inbound=tcp://0.0.0.0:80", "--allow-inbound=tcp://[::]:80"}, "--allow-inbound=tcp://*:80\n"},
		{"cidr", []string{"--allow-outbound=tcp://10.0.0.0/9:80", "--allow-outbound=tcp://10.128.0.0/9:80"}, "--allow-outbound=tcp://10.0.0.0/8:80\n"},
		{"cidr fixpoint", []string{"--allow-outbound=tcp://10.0.0.0/9:80", "--allow-outbound=tcp://10.128.0.0/10:80",
			"--allow-outbound=tcp://10.192.0.0/10:80", "--allow-outbound=tcp://10.0.0.0/8:443"}, "--allow-outbound=tcp://10.0.0.0/8:80,443\n"},
		{"cidr needs equal ports", []string{"--allow-outbound=tcp://10.0.0.0/9:80", "--allow-outbound=tcp://10.128.0.0/9:443"},
			"--allow-outbound=tcp://10.0.0.0/9:80\n--allow-outbound=tcp://10.128.0.0/9:443\n"},
		{"ipv6 cidr", []string{"--allow-outbound=tcp://[2001:db8::]:80", "--allow-outbound=tcp://[2001:db8::1]:80"},
			"--allow-outbound=tcp://[2001:db8::/127]:80\n"},
		{"inbound addresses never aggregate", []string{"--allow-inbound=tcp://10.0.0.0:80", "--allow-inbound=tcp://10.0.0.1:80"},
			"--allow-inbound=tcp://10.0.0.0:80\n--allow-inbound=tcp://10.0.0.1:80\n"},
		{"host mapping", []string{"--allow-outbound=tcp://db->10.0.0.1:80", "--allow-outbound=tcp://db->10.0.0.1:443"},
			"--allow-outbound=tcp://db->10.0.0.1:80,443\n"},
		{"port mappings never merge", []string{"--allow-inbound=tcp://*:80->8080", "--allow-inbound=tcp://*:81->8081", "--allow-inbound=tcp://*:80->8080"},
			"--allow-inbound=tcp://*:80->8080\n--allow-inbound=tcp://*:81->8081\n--allow-inbound=tcp://*:80->8080\n"},
		{"port 0 stands alone", []string{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:80"},
			"--allow-inbound=tcp://*:0\n--allow-inbound=tcp://*:80\n"},
		{"port 0 in *", []string{"--allow-inbound=tcp://*:0", "--allow-inbound=tcp://*:1-65535"}, "--allow-inbound=tcp://*:*\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := Merge(Spell(astRules(t, tt.flags...)))
			if got := spell(rs); got != tt.want {
				t.Errorf("got\n%swant\n%s", got, tt.want)
			}
			if again := spell(Merge(rs)); again != spell(rs) {
				t.Errorf("not a fixpoint: merging again gives\n%s", again)
			}
			n := 0
			for _, r := range rs {
				n += len(r.Sources)
			}
			if n != len(tt.flags) {
				t.Errorf("%d sources for %d flags", n, len(tt.flags))
			}
		})
	}
}

// TestSubsume covers step 4.
func TestSubsume(t *testing.T) {
	tests := []struct {
		name    string
		flags   []string
		kept    string
		dropped string // "flag <- by" lines
	}{
		{"duplicate", []string{"--allow-outbound=tcp://*:80", "--allow-outbound=tcp://*:80"},
			"--allow-outbound=tcp://*:80\n", "--allow-outbound=tcp://*:80 <- --allow-outbound=tcp://*:80\n"},
		{"implied resolve", []string{"--allow-resolve=example.com", "--allow-outbound=tcp://example.com:80"},
			"--allow-outbound=tcp://example.com:80\n", "--allow-resolve=example.com <- --allow-outbound=tcp://example.com:80\n"},
		{"resolve broader than the implied one", []string{"--allow-resolve=example.com", "--allow-outbound=tcp://example.com:80#ipv4-only"},
			"--allow-resolve=example.com\n--allow-outbound=tcp://example.com:80#ipv4-only\n", ""},
		{"implied resolve needs covering", []string{"--allow-outbound=tcp://*:*", "--allow-outbound=tcp://example.com:80"},
			"--allow-outbound=tcp://*:*\n--allow-outbound=tcp://example.com:80\n", ""},
		{"implied resolve covered", []string{"--allow-outbound=tcp://*:*", "--allow-outbound=tcp://example.com:80", "--allow-resolve=*.com"},
			"--allow-resolve=*.com\n--allow-outbound=tcp://*:*\n", "--allow-outbound=tcp://example.com:80 <- --allow-outbound=tcp://*:*\n"},
		{"wildcard", []string{"--allow-resolve=*.example.com", "--allow-resolve=a.example.com", "--allow-resolve=example.com"},
			"--allow-resolve=example.com\n--allow-resolve=*.example.com\n", "--allow-resolve=a.example.com <- --allow-resolve=*.example.com\n"},
		{"family", []string{"--allow-resolve=example.com#ipv4-only", "--allow-resolve=example.com"},
			"--allow-resolve=example.com\n", "--allow-resolve=example.com#ipv4-only <- --allow-resolve=example.com\n"},
		{"network", []string{"--allow-outbound=tcp://10.1.2.3:80", "--allow-outbound=tcp://10.0.0.0/8:*"},
			"--allow-outbound=tcp://10.0.0.0/8:*\n", "--allow-outbound=tcp://10.1.2.3:80 <- --allow-outbound=tcp://10.0.0.0/8:*\n"},
		{"localhost inbound", []string{"--allow-inbound=tcp://127.0.0.1:80", "--allow-inbound=tcp://localhost:80"},
			"--allow-inbound=tcp://localhost:80\n", "--allow-inbound=tcp://127.0.0.1:80 <- --allow-inbound=tcp://localhost:80\n"},
		{"mapping wins over no mapping", []string{"--allow-inbound=tcp://*:80", "--allow-inbound=tcp://*:80->8080"},
			"--allow-inbound=tcp://*:80->8080\n", "--allow-inbound=tcp://*:80 <- --allow-inbound=tcp://*:80->8080\n"},
		{"no mapping never covers a mapping", []string{"--allow-inbound=tcp://*:*", "--allow-inbound=tcp://*:80->8080"},
			"--allow-inbound=tcp://*:*\n--allow-inbound=tcp://*:80->8080\n", ""},
		{"mapped outbound implies mapped resolve", []string{"--allow-resolve=db.internal->172.17.0.14", "--allow-outbound=tcp://db.internal->172.17.0.14:5432->5433"},
			"--allow-outbound=tcp://db.internal->172.17.0.14:5432->5433\n",
			"--allow-resolve=db.internal->172.17.0.14 <- --allow-outbound=tcp://db.internal->172.17.0.14:5432->5433\n"},
		{"last to first, against kept rules", []string{"--allow-resolve=a.example.com", "--allow-resolve=*.example.com", "--allow-resolve=*"},
			"--allow-resolve=*\n", "--allow-resolve=a.example.com <- --allow-resolve=*.example.com\n--allow-resolve=*.example.com <- --allow-resolve=*\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, dropped := Subsume(Spell(astRules(t, tt.flags...)))
			if got := spell(kept); got != tt.kept {
				t.Errorf("kept\n%swant\n%s", got, tt.kept)
			}
			var b strings.Builder
			for _, d := range dropped {
				by := d.By
				if by.ImpliedBy != nil {
					by = by.ImpliedBy
				}
				b.WriteString(d.Rule.String() + " <- " + by.String() + "\n")
			}
			if b.String() != tt.dropped {
				t.Errorf("dropped\n%swant\n%s", b.String(), tt.dropped)
			}
			if again, _ := Subsume(kept); spell(again) != spell(kept) {
				t.Errorf("subsuming again drops more:\n%s", spell(again))
			}
		})
	}
}

// TestOrder covers step 5.
func TestOrder(t *testing.T) {
	want := []string{
		"--allow-resolve=*",
		"--allow-resolve=localhost",
		"--allow-resolve=example.com",
		"--allow-resolve=*.example.com",
		"--allow-resolve=a.example.com",
		"--allow-resolve=*.a.example.com",
		"--allow-resolve=b.example.com",
		"--allow-resolve=example.org",
		"--allow-outbound=tcp://*:*",
		"--allow-outbound=tcp://*:80#ipv4-only",
		"--allow-outbound=tcp://*:80#ipv6-only",
		"--allow-outbound=tcp://9.0.0.0/8:80",
		"--allow-outbound=tcp://10.0.0.0/8:80",
		"--allow-outbound=tcp://10.0.0.0/16:80",
		"--allow-outbound=tcp://10.0.0.1:22",
		"--allow-outbound=tcp://10.0.0.1:80",
		"--allow-outbound=tcp://[::1]:80",
		"--allow-outbound=tcp://[2001:db8::/32]:80",
		"--allow-outbound=tcp://localhost:80",
		"--allow-outbound=tcp://example.com:80",
		"--allow-outbound=tcp://example.com:443#ipv4-only",
		"--allow-outbound=tcp://*.example.com:80",
		"--allow-outbound=udp://*:53",
		"--allow-inbound=tcp://*:80",
		"--allow-inbound=tcp://10.0.0.5:80",
		"--allow-inbound=tcp://[::1]:80",
		"--allow-inbound=tcp://localhost:80",
		"--allow-inbound=tcp://eth0:80",
		"--allow-inbound=tcp://eth1:80",
		"--allow-inbound=udp://*:53",
	}
	// Every rotation and the reverse of the list sorts back to it.
	inputs := [][]string{reversed(want)}
	for i := 1; i < len(want); i += 7 {
		inputs = append(inputs, append(append([]string(nil), want[i:]...), want[:i]...))
	}
	for _, in := range inputs {
		if got := spell(Order(Spell(astRules(t, in...)))); got != lines(want...) {
			t.Errorf("Order(%v) =\n%swant\n%s", in, got, lines(want...))
		}
	}
}

func reversed(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[len(ss)-1-i] = s
	}
	return out
}
