package eval_test

import (
	"fmt"
	"strings"
	"testing"

	. "github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
)

// TestUnknownAddress decides connects by name whose address DNS gives
// against networks that cover a family only together.
func TestUnknownAddress(t *testing.T) {
	res := "--allow-resolve=example.com"
	tests := []struct {
		name  string
		flags []string
		cases []reqCase
	}{
		{"two /1s", []string{res, "--allow-outbound=tcp://0.0.0.0/1:80", "--allow-outbound=tcp://128.0.0.0/1:80"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 ipv4"},
			{"connect tcp example.com:81", "deny"},
			{"send udp example.com:80", "deny"},
			{"connect tcp 200.1.1.1:80 via example.com", "allow r2"},
		}},
		{"the /0 they merge into", []string{res, "--allow-outbound=tcp://0.0.0.0/0:80"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 ipv4"},
		}},
		{"/1 + /2 + /2", []string{res, "--allow-outbound=tcp://128.0.0.0/2:80", "--allow-outbound=tcp://0.0.0.0/1:80", "--allow-outbound=tcp://192.0.0.0/2:80"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 ipv4"},
		}},
		{"/1 + /2: a gap", []string{res, "--allow-outbound=tcp://0.0.0.0/1:80", "--allow-outbound=tcp://192.0.0.0/2:80"}, []reqCase{
			{"connect tcp example.com:80", "deny"},
			{"connect tcp 200.1.1.1:80 via example.com", "allow r2"},
		}},
		{"v6 halves", []string{res, "--allow-outbound=tcp://[::/1]:443", "--allow-outbound=tcp://[8000::/1]:443"}, []reqCase{
			{"connect tcp example.com:443", "allow r1 ipv6"},
		}},
		{"one port missing in one half", []string{res, "--allow-outbound=tcp://0.0.0.0/1:80,443", "--allow-outbound=tcp://128.0.0.0/1:80"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 ipv4"},
			{"connect tcp example.com:443", "deny"},
		}},
		{"the other protocol in one half", []string{res, "--allow-outbound=tcp://0.0.0.0/1:80", "--allow-outbound=udp://128.0.0.0/1:80"}, []reqCase{
			{"connect tcp example.com:80", "deny"},
			{"send udp example.com:80", "deny"},
		}},
		{"halves mapped alike", []string{res, "--allow-outbound=tcp://0.0.0.0/1:80->8080", "--allow-outbound=tcp://128.0.0.0/1:80->8080"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 ipv4 :8080"},
		}},
		{"halves mapped differently: host port unknown", []string{res, "--allow-outbound=tcp://0.0.0.0/1:80->9090", "--allow-outbound=tcp://128.0.0.0/1:80->8080"}, []reqCase{
			{"connect tcp example.com:80", "allow r2 ipv4 :0"},
			{"connect tcp 1.1.1.1:80 via example.com", "allow r1 1.1.1.1:9090"},
		}},
		{"one half mapped: host port unknown", []string{res, "--allow-outbound=tcp://0.0.0.0/1:80->8080", "--allow-outbound=tcp://128.0.0.0/1:80"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 ipv4 :0"},
		}},
		{"* and a mapping network: host port unknown", []string{res, "--allow-outbound=tcp://*:80", "--allow-outbound=tcp://10.0.0.0/8:80->8080"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 :0"},
			{"connect tcp 10.1.1.1:80 via example.com", "allow r2 10.1.1.1:8080"},
		}},
		{"a name mapped alike outside the network", []string{"--allow-outbound=tcp://example.com:80->8080", "--allow-outbound=tcp://10.0.0.0/8:80->8080"}, []reqCase{
			{"connect tcp example.com:80", "allow r0 :8080"},
			{"connect tcp 10.1.1.1:80 via example.com", "allow r1 10.1.1.1:8080"},
		}},
		{"a mapping /0 and a name", []string{"--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://0.0.0.0/0:80->8080"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 :8080"},
		}},
		{"halves and a name", []string{"--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://0.0.0.0/1:80->8080", "--allow-outbound=tcp://128.0.0.0/1:80->8080"}, []reqCase{
			{"connect tcp example.com:80", "allow r1 :8080"},
		}},
	}
	for _, tt := range tests {
		checkRequests(t, tt.name, tt.flags, tt.cases)
	}
}

// TestTieBreak: where mapping rules CS101 cannot relate both match, the
// more specific host wins, then the lowest host port, in either order.
func TestTieBreak(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		cases []reqCase
	}{
		{"address over interface", []string{"--allow-inbound=tcp://eth0:80->8080", "--allow-inbound=tcp://10.0.0.5:80->9090"}, []reqCase{
			{"listen tcp 10.0.0.5:80", "allow r1 10.0.0.5:9090"},
			{"listen tcp eth0:80", "allow r0 :8080"},
		}},
		{"interface over localhost", []string{"--allow-inbound=tcp://localhost:81->9191", "--allow-inbound=tcp://lo:81->8181"}, []reqCase{
			{"listen tcp 127.0.0.1:81", "allow r1 127.0.0.1:8181"},
			{"listen tcp [::1]:81", "allow r1 [::1]:8181"},
			{"listen tcp 127.0.0.2:81", "allow r0 127.0.0.2:9191"},
		}},
		{"mapping over no mapping", []string{"--allow-inbound=tcp://10.0.0.5:80", "--allow-inbound=tcp://eth0:80->8080"}, []reqCase{
			{"listen tcp 10.0.0.5:80", "allow r1 10.0.0.5:8080"},
		}},
		{"network over name", []string{"--allow-outbound=tcp://example.com:443->8443", "--allow-outbound=tcp://10.0.0.0/8:443->9443"}, []reqCase{
			{"connect tcp 10.1.1.1:443 via example.com", "allow r1 10.1.1.1:9443"},
			{"connect tcp 11.1.1.1:443 via example.com", "allow r0 11.1.1.1:8443"},
		}},
		{"name over wildcard", []string{"--allow-outbound=tcp://*.example.com:443->8443", "--allow-outbound=tcp://10.0.0.0/8:443", "--allow-outbound=tcp://a.example.com:443"}, []reqCase{
			{"connect tcp 10.1.1.1:443 via a.example.com", "allow r0 10.1.1.1:8443"},
		}},
	}
	for _, tt := range tests {
		checkRequests(t, tt.name, tt.flags, tt.cases)
		rev := make([]string, len(tt.flags))
		for i, f := range tt.flags {
			rev[len(rev)-1-i] = f
		}
		for i := range tt.cases {
			tt.cases[i].want = renumber(tt.cases[i].want, len(rev))
		}
		checkRequests(t, tt.name+" (reversed)", rev, tt.cases)
	}
}

// renumber rewrites "allow rN" in a summary for n rules in reverse order.
func renumber(s string, n int) string {
	var i int
	var rest string
	if _, err := fmt.Sscanf(s, "allow r%d", &i); err != nil {
		return s
	}
	rest = strings.TrimPrefix(s, fmt.Sprintf("allow r%d", i))
	return fmt.Sprintf("allow r%d%s", n-1-i, rest)
}

// TestRuleOrderIrrelevant: shuffling a policy's rules (conflicting ones
// too) never changes a decision, only which index it names.
func TestRuleOrderIrrelevant(t *testing.T) {
	ifaces := policygen.Interfaces()
	for c := range policygen.Cases(t, 2000, 13, 25) {
		seed, r, flags, p := c.Seed, c.Rand, c.Flags, c.Policy
		shuffled := append([]string(nil), flags...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		ps, _ := policygen.Compile(t, shuffled)
		ref, refS, idxS := NewReference(p, ifaces), NewReference(ps, ifaces), NewIndex(ps, ifaces)
		for range 40 {
			q := policygen.Request(r, policygen.PoolOf(p.Rules))
			a, b, c := ref.Decide(q), refS.Decide(q), idxS.Decide(q)
			if !policygen.SameDecision(b, c) {
				t.Fatalf("seed %d: %s: engines differ on the shuffled policy: %+v vs %+v", seed, q, b, c)
			}
			a.Rule, b.Rule = 0, 0
			if !policygen.SameDecision(a, b) {
				t.Fatalf("seed %d: %s\npolicy:\n%sshuffled:\n%sbefore: %+v\nafter:  %+v", seed, q, joinLines(flags), joinLines(shuffled), a, b)
			}
		}
	}
}
