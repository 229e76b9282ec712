package eval_test

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	. "github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreport"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// TestDifferential decides random requests (hits and near misses) against
// random policies with both engines and with the explainer, which makes
// its own decision rule by rule, and requires all three to agree.
func TestDifferential(t *testing.T) {
	ifaces := policygen.Interfaces()
	together, unknownPort, unspecified := 0, 0, 0
	for c := range policygen.Cases(t, 3000, 7, 25) {
		seed, r, flags, p := c.Seed, c.Rand, c.Flags, c.Policy
		ref, idx, ex := NewReference(p, ifaces), NewIndex(p, ifaces), evalreport.NewExplainer(p, ifaces)
		near := policygen.PoolOf(p.Rules)
		for range 40 {
			q := policygen.Request(r, near)
			a, b := ref.Decide(q), idx.Decide(q)
			x := ex.Explain(q)
			if !policygen.SameDecision(a, b) {
				t.Fatalf("seed %d: %s\npolicy:\n%s\nreference: %+v\nindex:     %+v", seed, q, joinLines(flags), a, b)
			}
			if !policygen.SameDecision(x.Decision, a) {
				t.Fatalf("seed %d: %s: the explanation decides otherwise\npolicy:\n%s\nreference:   %+v\nexplanation: %+v\nallowing: %+v", seed, q, joinLines(flags), a, x.Decision, x.Allowing)
			}
			if (len(x.Allowing) > 0) != (a.Allowed && !a.NoRuleNeeded) {
				t.Fatalf("seed %d: %s: allowing %+v but decision %+v", seed, q, x.Allowing, a)
			}
			for _, m := range x.Allowing {
				if m.Decides != (m.Rule.Index == a.Rule) {
					t.Fatalf("seed %d: %s: deciding rule %d not marked in %+v", seed, q, a.Rule, x.Allowing)
				}
			}
			if (q.Op == Connect || q.Op == Send) && !q.Addr.IsValid() && a.Allowed {
				if slices.ContainsFunc(x.Notes, func(n string) bool { return strings.Contains(n, "together cover") }) {
					together++
				}
				if a.HostPort == 0 {
					unknownPort++
				}
			}
			if slices.ContainsFunc(x.Notes, func(n string) bool { return strings.Contains(n, "unspecified address") }) {
				unspecified++
			}
		}
	}
	t.Logf("%d connects by name allowed by networks together, %d with the host port unknown, %d to unspecified addresses", together, unknownPort, unspecified)
	if together == 0 || unknownPort == 0 || unspecified == 0 {
		t.Errorf("the generator made no connect by name allowed by networks together (%d), with an unknown host port (%d), or to an unspecified address (%d)", together, unknownPort, unspecified)
	}
}

// TestConcurrentDecide decides from many goroutines with one Index and
// one Reference (run with -race): both are read-only once built.
func TestConcurrentDecide(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	p, _ := policygen.Compile(t, policygen.Policy(r, 40, policygen.Options{}))
	ifaces := policygen.Interfaces()
	ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
	near := policygen.PoolOf(p.Rules)
	qs := make([]Request, 400)
	for i := range qs {
		qs[i] = policygen.Request(r, near)
	}
	want := make([]Decision, len(qs))
	for i, q := range qs {
		want[i] = ref.Decide(q)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range qs {
				q := qs[(i+g*97)%len(qs)]
				if d := idx.Decide(q); !policygen.SameDecision(d, want[(i+g*97)%len(qs)]) || !policygen.SameDecision(ref.Decide(q), d) {
					t.Errorf("%s decided otherwise concurrently", q)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDifferentialMix decides every request of the benchmark mix
// (policygen.MixPolicy, MixRequests) at every benchmark size with the
// index, the reference loop and the slice scan of the benchmarks, and
// requires all three to agree, and the mix to be about half allowed. The
// largest size is skipped with -short (the race run).
func TestDifferentialMix(t *testing.T) {
	ifaces := policygen.Interfaces()
	for _, n := range []int{10, 1000, 10000, 100000} {
		if testing.Short() && n > 10000 {
			continue
		}
		p, _ := policygen.Compile(t, policygen.MixPolicy(n))
		qs := policygen.MixRequests(p, policygen.MixSize)
		if len(qs) != policygen.MixSize {
			t.Fatalf("rules=%d: %d requests in the mix", n, len(qs))
		}
		scan, err := policygen.NewScan(p, ifaces)
		if err != nil {
			t.Fatal(err)
		}
		ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
		allowed := 0
		kinds := map[string]int{}
		for _, q := range qs {
			a := ref.Decide(q)
			if b := idx.Decide(q); !policygen.SameDecision(a, b) {
				t.Fatalf("rules=%d: %s\nreference: %+v\nindex:     %+v", n, q, a, b)
			}
			if c := scan.Decide(q); !policygen.SameDecision(a, c) {
				t.Fatalf("rules=%d: %s\nreference: %+v\nscan:      %+v", n, q, a, c)
			}
			if a.Allowed {
				allowed++
			}
			kinds[mixKind(q)]++
		}
		t.Logf("rules=%d: %d of %d allowed; %v", n, allowed, len(qs), kinds)
		if allowed < len(qs)*35/100 || allowed > len(qs)*65/100 {
			t.Errorf("rules=%d: %d of %d requests allowed; the mix should be about half", n, allowed, len(qs))
		}
		for _, k := range []string{"lookup", "lookup-family", "connect-name", "connect-ip4", "connect-ip6", "connect-via", "send", "listen-addr", "listen-iface", "listen-localhost", "bind"} {
			if n >= 1000 && kinds[k] == 0 {
				t.Errorf("rules=%d: no request of kind %s in the mix", n, k)
			}
		}
	}
}

// TestDifferentialInbound decides listens and binds around the rules of
// the inbound policy of the build benchmark (policygen.InboundPolicy: port
// mappings on localhost, "*", addresses and interfaces) on every kind of
// local side, loopback and not, with the index and the reference loop,
// and requires them to agree.
func TestDifferentialInbound(t *testing.T) {
	ifaces := policygen.Interfaces()
	var locals []Request
	for _, l := range []LocalKind{LocalAny, LocalLocalhost} {
		locals = append(locals, Request{Local: l})
	}
	for _, a := range []string{"127.0.0.1", "127.0.9.9", "::1", "10.0.0.5", "192.168.1.5", "fe80::1", "0.0.0.0", "::", "10.9.9.9"} {
		locals = append(locals, Request{Addr: netip.MustParseAddr(a)})
	}
	for _, n := range []string{"lo", "eth0", "eth1", "eth7"} {
		locals = append(locals, Request{Local: LocalInterface, Name: n})
	}
	for _, n := range []int{10, 300, 3000} {
		p, ds := policygen.Compile(t, policygen.InboundPolicy(n))
		if len(ds) > 0 || len(p.Rules) != n {
			t.Fatalf("rules=%d: compiled to %d rules with %d diagnostics: %v", n, len(p.Rules), len(ds), ds)
		}
		ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
		allowed, total, mapped := 0, 0, 0
		for i, r := range p.Rules {
			if n > 300 && i%30 != 0 {
				continue
			}
			sides := locals
			if r.Host.Kind == policy.AddressHost {
				sides = append(sides[:len(sides):len(sides)], Request{Addr: r.Host.Prefix.Addr()})
			} else if r.Host.Kind == policy.InterfaceHost {
				sides = append(sides[:len(sides):len(sides)], Request{Local: LocalInterface, Name: r.Host.Name})
			}
			lo := r.Ports[0].Lo
			for _, port := range []uint16{lo, lo - 1, r.Ports[len(r.Ports)-1].Hi + 1} {
				for _, op := range []Op{Listen, Bind} {
					for _, side := range sides {
						q := side
						q.Op, q.Port = op, port
						a, b := ref.Decide(q), idx.Decide(q)
						if !policygen.SameDecision(a, b) {
							t.Fatalf("rules=%d: %s\nreference: %+v\nindex:     %+v", n, q, a, b)
						}
						total++
						if a.Allowed {
							allowed++
							if a.HostPort != q.Port {
								mapped++
							}
						}
					}
				}
			}
		}
		t.Logf("rules=%d: %d of %d listens and binds allowed, %d mapped", n, allowed, total, mapped)
		if allowed == 0 || allowed == total || mapped == 0 {
			t.Errorf("rules=%d: %d of %d allowed, %d mapped: the requests test little", n, allowed, total, mapped)
		}
	}
}

// mixKind names the shape of a request, to check the mix has each.
func mixKind(q Request) string {
	switch {
	case q.Op == Lookup && q.Family != 0:
		return "lookup-family"
	case q.Op == Lookup:
		return "lookup"
	case q.Op == Send:
		return "send"
	case q.Op == Bind:
		return "bind"
	case q.Op == Connect && q.Addr.IsValid() && q.Name != "":
		return "connect-via"
	case q.Op == Connect && q.Addr.Is4():
		return "connect-ip4"
	case q.Op == Connect && q.Addr.IsValid():
		return "connect-ip6"
	case q.Op == Connect:
		return "connect-name"
	case q.Local == LocalInterface:
		return "listen-iface"
	case q.Local == LocalLocalhost || q.Addr.IsLoopback():
		return "listen-localhost"
	}
	return "listen-addr"
}
