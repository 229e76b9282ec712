package playground_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/capspec/capspec/playground"
)

func TestDiffText(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"same", "--allow-outbound=tcp://example.com:80\n", "--allow-outbound=tcp://example.com:80\n",
			"no change in what is allowed\n"},
		{"same meaning, other text", "--allow-outbound=tcp://Example.COM:80,81\n--allow-resolve=example.com\n",
			"--allow-outbound=tcp://example.com:81 --allow-outbound=tcp://example.com.:80\n",
			"no change in what is allowed\n"},
		{"empty", "", "", "no change in what is allowed\n"},
		{"a port more", "--allow-outbound=tcp://*:80\n", "# web\n--allow-outbound=tcp://*:80,443\n",
			"+ --allow-outbound=tcp://*:443   policy.flags:2\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"a family more", "--allow-resolve=example.com#ipv4-only\n", "--allow-resolve=example.com\n",
			"+ --allow-resolve=example.com#ipv6-only   policy.flags:1\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"a wider network", "--allow-outbound=tcp://10.0.0.0/9:80\n", "--allow-outbound=tcp://10.0.0.0/8:80\n",
			"+ --allow-outbound=tcp://10.128.0.0/9:80   policy.flags:1\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"a wildcard over a name", "--allow-resolve=a.example.com\n", "--allow-resolve=*.example.com\n",
			"+ --allow-resolve=*.example.com   policy.flags:1\n    except a.example.com (already allowed)\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"removed, with its implied lookup", "--allow-outbound=tcp://example.com:443\n", "",
			"- --allow-resolve=example.com              implied by old.flags:1\n" +
				"- --allow-outbound=tcp://example.com:443   old.flags:1\n" +
				"0 grants added, 2 removed, 0 mappings changed\n"},
		{"SPEC §8.1",
			"--allow-outbound=tcp://example.com:443\n--allow-inbound=tcp://*:8080\n--allow-resolve=db.internal->10.0.0.1\n",
			"--allow-outbound=tcp://*:443\n--allow-outbound=tcp://example.com:443\n--allow-resolve=db.internal->10.0.0.2\n--allow-resolve=api.example.com\n",
			"+ --allow-resolve=api.example.com   policy.flags:4\n" +
				"+ --allow-outbound=tcp://*:443      policy.flags:1\n" +
				"    except tcp://example.com:443 (already allowed)\n" +
				"- --allow-inbound=tcp://*:8080      old.flags:2\n" +
				"~ --allow-resolve=db.internal->10.0.0.2 (was ->10.0.0.1)   policy.flags:3\n" +
				"2 grants added, 1 removed, 1 mapping changed\n"},
		{"a port mapping", "--allow-inbound=tcp://*:80\n", "--allow-inbound=tcp://*:80->8888\n",
			"~ --allow-inbound=tcp://*:80->8888 (was ->80)   policy.flags:1\n0 grants added, 0 removed, 1 mapping changed\n"},
		{"a mapping takes the other family away", "--allow-resolve=*\n", "--allow-resolve=*\n--allow-resolve=db.internal->10.0.0.1\n",
			"- --allow-resolve=db.internal#ipv6-only   old.flags:1\n" +
				"~ --allow-resolve=db.internal->10.0.0.1 (was answered by DNS)   policy.flags:2\n" +
				"0 grants added, 1 removed, 1 mapping changed\n"},
		{"a mapping instead of DNS", "--allow-resolve=example.com#ipv4-only\n", "--allow-resolve=example.com->192.0.2.1\n",
			"~ --allow-resolve=example.com->192.0.2.1 (was answered by DNS)   policy.flags:1\n0 grants added, 0 removed, 1 mapping changed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := playground.Diff(tt.old, tt.new, playground.DefaultInterfaces)
			if d.Unavailable != "" {
				t.Fatal(d.Unavailable)
			}
			if d.Text != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", d.Text, tt.want)
			}
			if d.Equivalent != (tt.want == "no change in what is allowed\n") {
				t.Errorf("equivalent = %v", d.Equivalent)
			}
		})
	}
}

func TestDiffRefusesErrors(t *testing.T) {
	for _, tt := range []struct{ old, new, want string }{
		{"--allow-outbound=tcp://example.com:70000\n", "", "old.flags has 1 error: fix it to see the diff."},
		{"", "--allow-resolve=x->10.0.0.1 --allow-resolve=x->10.0.0.2", "policy.flags has 1 error: fix it to see the diff."},
	} {
		d := playground.Diff(tt.old, tt.new, "")
		if d.Unavailable != tt.want || d.Text != "" || d.Added == nil {
			t.Errorf("Diff(%q, %q) = %+v, want unavailable %q", tt.old, tt.new, d, tt.want)
		}
	}
	if d := playground.Diff("", "", "eth0=nonsense"); !strings.HasPrefix(d.Unavailable, "interfaces: ") {
		t.Errorf("a bad interface table gives %q", d.Unavailable)
	}
}

// TestDiffOfFormatted checks that a policy and its canonical form have no
// difference, both ways (SPEC §8: fmt never changes a result).
func TestDiffOfFormatted(t *testing.T) {
	n := 0
	for name, text := range corpus(t) {
		f := playground.Format(text)
		if f.Unavailable != "" {
			continue
		}
		n++
		for _, d := range []playground.DiffResult{
			playground.Diff(text, f.Text, playground.DefaultInterfaces),
			playground.Diff(f.Text, text, playground.DefaultInterfaces),
		} {
			if !d.Equivalent || d.Text != "no change in what is allowed\n" {
				t.Errorf("%s: a policy and its canonical form differ:\n%s", name, d.Text)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d policies compared", n)
	}
}

// rulePool are the rules random policies are made of: overlapping names,
// wildcards, networks, families, ports and mappings.
var rulePool = []string{
	"--allow-resolve=example.com", "--allow-resolve=*.example.com", "--allow-resolve=a.example.com",
	"--allow-resolve=*", "--allow-resolve=example.com#ipv4-only", "--allow-resolve=db.internal->10.0.0.1",
	"--allow-resolve=example.net#ipv6-only", "--allow-resolve=localhost",
	"--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://*.example.com:443", "--allow-outbound=tcp://*:443",
	"--allow-outbound=tcp://10.0.0.0/8:80", "--allow-outbound=tcp://10.0.0.0/9:80,443", "--allow-outbound=tcp://[2001:db8::/32]:*",
	"--allow-outbound=udp://*:53", "--allow-outbound=tcp://localhost:8080", "--allow-outbound=tcp://db.internal->10.0.0.1:5432",
	"--allow-outbound=tcp://example.com:80,443#ipv4-only", "--allow-outbound=tcp://...#ipv6-only", "--allow-outbound=udp://10.0.0.1:53",
	"--allow-outbound=tcp://a.example.com:80->8080", "--allow-outbound=tcp://127.0.0.0/8:*",
	"--allow-inbound=tcp://*:80", "--allow-inbound=tcp://*:80->8888", "--allow-inbound=tcp://localhost:8080",
	"--allow-inbound=tcp://eth0:80", "--allow-inbound=udp://*:0", "--allow-inbound=tcp://192.0.2.10:80",
	"--allow-inbound=tcp://127.0.0.1:8080", "--allow-inbound=udp://localhost:5353#ipv6-only",
}

// requestGrid are requests of every kind over the names, addresses and
// ports of rulePool.
func requestGrid() []string {
	var out []string
	names := []string{"example.com", "a.example.com", "b.a.example.com", "example.net", "db.internal", "localhost", "other.org"}
	addrs := []string{"10.0.0.1", "10.200.0.1", "127.0.0.1", "[::1]", "[2001:db8::1]", "93.184.216.34", "192.0.2.10"}
	ports := []string{"53", "80", "443", "5432", "8080"}
	for _, n := range names {
		out = append(out, "lookup "+n, "lookup "+n+" ipv4", "lookup "+n+" ipv6")
		for _, p := range ports {
			out = append(out, "connect tcp "+n+":"+p, "send udp "+n+":"+p)
			for _, a := range addrs {
				out = append(out, "connect tcp "+a+":"+p+" via "+n)
			}
		}
	}
	for _, a := range addrs {
		for _, p := range ports {
			out = append(out, "connect tcp "+a+":"+p, "send udp "+a+":"+p)
		}
	}
	for _, l := range []string{"*", "localhost", "eth0", "192.0.2.10", "127.0.0.1", "[::1]", "0.0.0.0", "[::]"} {
		for _, p := range []string{"0", "80", "5353", "8080"} {
			out = append(out, "listen tcp "+l+":"+p, "bind udp "+l+":"+p)
		}
	}
	return out
}

// decisions decides request lines against a policy, each on its own (a
// guest making only that request): allow or deny per line.
func decisions(t *testing.T, policy string, requests []string) []string {
	t.Helper()
	var s playground.Session // reads the policy once
	out := make([]string, len(requests))
	for i, q := range requests {
		res := s.Eval(policy, q, playground.DefaultInterfaces)
		if res.Unavailable != "" || len(res.Requests) != 1 {
			t.Fatalf("deciding %q against %q: %s (%d decided)", q, policy, res.Unavailable, len(res.Requests))
		}
		out[i] = res.Requests[0].Decision
	}
	return out
}

// TestDiffMeaning checks the diff of random pairs of policies against the
// evaluator: every example shows what its entry says (NEW allows it and OLD
// denies it for "+", the reverse for "-", both allow it for "~"), and
// every request of a grid that NEW allows and OLD denies lies in a "+"
// region — allowed by its flag and denied by its except rules — and the
// reverse for "-".
func TestDiffMeaning(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 8))
	grid := requestGrid()
	policyOf := func() string {
		var rs []string
		for range rng.IntN(5) {
			rs = append(rs, rulePool[rng.IntN(len(rulePool))])
		}
		return strings.Join(rs, "\n")
	}
	pairs := 0
	for pairs < 150 {
		old, cur := policyOf(), policyOf()
		if rng.IntN(4) == 0 { // also pairs that overlap a lot
			cur = old + "\n" + rulePool[rng.IntN(len(rulePool))]
		}
		d := playground.Diff(old, cur, playground.DefaultInterfaces)
		if d.Unavailable != "" {
			continue
		}
		pairs++
		name := fmt.Sprintf("OLD %q NEW %q", old, cur)
		check := func(entries []playground.DiffEntry, allowing, denying string, sign string) {
			for _, e := range entries {
				if e.Example == "" {
					// Only a region policy.Subtract could not compute exactly
					// (one with except lines) may lack a witness: the other
					// side may allow all of it, through the interface table
					// (an address its interface owns) or a mapping.
					if len(e.Except) == 0 || !strings.Contains(d.Text, "(no request found") {
						t.Errorf("%s: %s %s has no example:\n%s", name, sign, e.Flag, d.Text)
					}
					continue
				}
				if got := decisions(t, allowing, []string{e.Example}); got[0] != "allow" {
					t.Errorf("%s: example %q of %s %s is not allowed by its side", name, e.Example, sign, e.Flag)
				}
				if got := decisions(t, denying, []string{e.Example}); got[0] != "deny" {
					t.Errorf("%s: example %q of %s %s is allowed by the other side", name, e.Example, sign, e.Flag)
				}
			}
		}
		check(d.Added, cur, old, "+")
		check(d.Removed, old, cur, "-")
		for _, e := range d.Changed {
			for _, p := range []string{old, cur} {
				if got := decisions(t, p, []string{e.Example}); got[0] != "allow" {
					t.Errorf("%s: example %q of ~ %s is not allowed by both sides", name, e.Example, e.Flag)
				}
			}
		}

		newD, oldD := decisions(t, cur, grid), decisions(t, old, grid)
		covered := func(entries []playground.DiffEntry, q string) bool {
			for _, e := range entries {
				flag, _, _ := strings.Cut(e.Flag, "=")
				if decisions(t, e.Flag, []string{q})[0] != "allow" {
					continue
				}
				inExcept := false
				for _, x := range e.Except {
					if decisions(t, flag+"="+x, []string{q})[0] == "allow" {
						inExcept = true
					}
				}
				if !inExcept {
					return true
				}
			}
			return false
		}
		for i, q := range grid {
			if f := strings.Fields(q); len(f) == 3 && (f[0] == "connect" || f[0] == "send") && !strings.ContainsAny(f[2][:1], "[0123456789") {
				// A connect to a name without an address is decided through
				// the lookups of the whole policy (a mapping elsewhere says
				// where the name goes), so it is no request of one region.
				continue
			}
			switch {
			case newD[i] == "allow" && oldD[i] == "deny" && !covered(d.Added, q):
				t.Errorf("%s: %q is allowed by NEW, denied by OLD, and in no + region:\n%s", name, q, d.Text)
			case oldD[i] == "allow" && newD[i] == "deny" && !covered(d.Removed, q):
				t.Errorf("%s: %q is allowed by OLD, denied by NEW, and in no - region:\n%s", name, q, d.Text)
			}
		}
		if t.Failed() {
			return
		}
	}
}
