package peers

import (
	"testing"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// TestAgree decides every request of the mix with every engine at every
// size and requires them all to agree with capspec's index (allowed or
// not, and in which families). With -short, the sizes CI runs.
func TestAgree(t *testing.T) {
	sizes := []int{10, 1000, 10000}
	if testing.Short() {
		sizes = []int{10, 300}
	}
	ifaces := Interfaces()
	for _, n := range sizes {
		p, qs, err := Mix(n)
		if err != nil {
			t.Fatal(err)
		}
		engines := make([]Engine, len(Makers))
		for i, m := range Makers {
			if engines[i], err = m.Make(p, ifaces); err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
		}
		allowed := 0
		for _, q := range qs {
			want := engines[0].Decide(q)
			if want.Allowed {
				allowed++
			}
			for i, e := range engines[1:] {
				if got := e.Decide(q); got != want {
					t.Fatalf("rules=%d: %s: %s decides %s, %s decides %s", n, q, Makers[0].Name, want, Makers[i+1].Name, got)
				}
			}
		}
		t.Logf("rules=%d: %d requests, %d allowed, all %d engines agree", n, len(qs), allowed, len(engines))
		if allowed == 0 || allowed == len(qs) {
			t.Errorf("rules=%d: %d of %d allowed: the test cannot fail", n, allowed, len(qs))
		}
	}
}

// TestTranslations checks the translations of hand-written rules: each
// request decided by every engine as capspec decides it.
func TestTranslations(t *testing.T) {
	flags := []string{
		"--allow-resolve=*.example.com#ipv4-only",
		"--allow-outbound=tcp://db.internal:5432",
		"--allow-outbound=udp://*.dns.test:53#ipv6-only",
		"--allow-outbound=tcp://10.0.0.0/8:80,8000-8999",
		"--allow-outbound=tcp://*:443#ipv6-only",
		"--allow-outbound=tcp://localhost:9000",
		"--allow-inbound=tcp://eth0:80",
		"--allow-inbound=udp://localhost:53",
		"--allow-inbound=tcp://[2001:db8::1]:22",
		"--allow-inbound=tcp://*:0",
	}
	p, err := compile(flags)
	if err != nil {
		t.Fatal(err)
	}
	qs := []eval.Request{
		{Op: eval.Lookup, Name: "a.example.com"},
		{Op: eval.Lookup, Name: "example.com"},
		{Op: eval.Lookup, Name: "A.B.Example.COM.", Family: policy.IPv6},
		{Op: eval.Connect, Name: "db.internal", Port: 5432},
		{Op: eval.Connect, Name: "db.internal", Port: 5433},
		{Op: eval.Send, Name: "x.dns.test", Port: 53},
		{Op: eval.Send, Name: "dns.test", Port: 53},
		{Op: eval.Connect, Addr: mustAddr("10.1.2.3"), Port: 8080},
		{Op: eval.Connect, Addr: mustAddr("::ffff:10.1.2.3"), Port: 80},
		{Op: eval.Connect, Addr: mustAddr("11.0.0.1"), Port: 80},
		{Op: eval.Connect, Addr: mustAddr("0.0.0.1"), Port: 443},
		{Op: eval.Connect, Addr: mustAddr("::"), Port: 443},
		{Op: eval.Connect, Addr: mustAddr("2001:db8::9"), Port: 443},
		{Op: eval.Connect, Addr: mustAddr("192.0.2.1"), Name: "db.internal", Port: 5432},
		{Op: eval.Connect, Name: "localhost", Port: 9000},
		{Op: eval.Connect, Addr: mustAddr("10.9.9.9"), Name: "localhost", Port: 9000},
		{Op: eval.Listen, Local: eval.LocalInterface, Name: "eth0", Port: 80},
		{Op: eval.Listen, Addr: mustAddr("10.0.0.5"), Port: 80},
		{Op: eval.Listen, Addr: mustAddr("192.168.1.5"), Port: 80},
		{Op: eval.Bind, Local: eval.LocalLocalhost, Port: 53},
		{Op: eval.Bind, Local: eval.LocalInterface, Name: "lo", Port: 53},
		{Op: eval.Bind, Addr: mustAddr("127.0.0.9"), Port: 53},
		{Op: eval.Listen, Addr: mustAddr("2001:db8::1"), Port: 22},
		{Op: eval.Listen, Local: eval.LocalAny, Port: 0},
		{Op: eval.Listen, Addr: mustAddr("0.0.0.0"), Port: 0},
		{Op: eval.Lookup, Name: "10.0.0.1"},
	}
	ifaces := Interfaces()
	ref := eval.NewReference(p, ifaces)
	for _, m := range Makers {
		e, err := m.Make(p, ifaces)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		for _, q := range qs {
			d := ref.Decide(q)
			want := Verdict{Allowed: d.Allowed, Families: d.Families}
			if got := e.Decide(q); got != want {
				t.Errorf("%s: %s: %s, want %s", m.Name, q, got, want)
			}
		}
	}
}
