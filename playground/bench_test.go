package playground

import (
	"fmt"
	"strings"
	"testing"
)

// hundredRules returns a policy of 100 distinct rules of every kind; seed
// varies the names and addresses, so that benchmarks see many inputs.
func hundredRules(seed int) string {
	var b strings.Builder
	b.WriteString("# 100 rules\n")
	for i := 0; i < 100; i++ {
		n := i + seed*100
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "--allow-outbound=tcp://svc%d.example.com:443\n", n)
		case 1:
			fmt.Fprintf(&b, "--allow-resolve=svc%d.example.com#ipv4-only\n", n)
		case 2:
			fmt.Fprintf(&b, "--allow-outbound=udp://10.%d.%d.0/24:53\n", n%256, i)
		case 3:
			fmt.Fprintf(&b, "--allow-inbound=tcp://localhost:%d->%d\n", 9000+n%1000, 19000+n%1000)
		case 4:
			fmt.Fprintf(&b, "--allow-outbound=tcp://db%d.internal->172.17.%d.%d:5432->%d\n", n, n%256, i, 6000+i)
		}
	}
	return b.String()
}

// benchInputs are what a person editing a 100-rule policy sends: the
// policy as it is after each of several edits (a typo, a new rule, a
// comment), with requests and an old policy to diff against.
func benchInputs() []Input {
	var ins []Input
	for seed := 0; seed < 8; seed++ {
		p := hundredRules(seed)
		variants := []string{p, p + "--allow-outboud=tcp://x.example.com:443\n", p + "--allow-outbound=tcp://*:443\n", p + "# a comment\n"}
		for _, v := range variants {
			ins = append(ins, Input{Policy: v, Old: hundredRules(seed + 1), Interfaces: DefaultInterfaces,
				Requests: fmt.Sprintf("connect tcp svc%d.example.com:443\nlookup svc%d.example.com\nlisten tcp localhost:%d\nsend udp 10.%d.2.3:53\n",
					seed*100, seed*100+1, 9003+seed*100%1000, seed*100%256)})
		}
	}
	return ins
}

// BenchmarkAnalyze100 is what one keystroke costs in the page's
// WebAssembly, natively: every panel of a 100-rule policy.
func BenchmarkAnalyze100(b *testing.B) {
	ins := benchInputs()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Analyze(ins[i%len(ins)])
	}
}

// BenchmarkPanels100 splits BenchmarkAnalyze100 by panel.
func BenchmarkPanels100(b *testing.B) {
	ins := benchInputs()
	panels := []struct {
		name string
		f    func(Input)
	}{
		{"lint", func(in Input) { Lint(in.Policy) }},
		{"fmt", func(in Input) { Format(in.Policy) }},
		{"explain", func(in Input) { Explain(in.Policy) }},
		{"eval", func(in Input) { Eval(in.Policy, in.Requests, in.Interfaces) }},
		{"diff", func(in Input) { Diff(in.Old, in.Policy, in.Interfaces) }},
	}
	for _, p := range panels {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p.f(ins[i%len(ins)])
			}
		})
	}
}

// BenchmarkKeystroke100 is what the page pays per keystroke in a 100-rule
// policy: a session (the old policy is read once) analyzing the policy as a
// comment is typed into it, one character more each time. Lint alone is
// what the page computes before drawing the underlines.
func BenchmarkKeystroke100(b *testing.B) {
	policy := hundredRules(0)
	old := hundredRules(1)
	const typed = "# a comment typed key by key, then some more text"
	for _, name := range []string{"lint", "analyze"} {
		b.Run(name, func(b *testing.B) {
			var s Session
			s.Analyze(Input{Policy: policy, Old: old, Interfaces: DefaultInterfaces})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p := policy + typed[:1+i%(len(typed)-1)]
				if name == "lint" {
					s.Lint(p)
					continue
				}
				s.Analyze(Input{Policy: p, Old: old, Interfaces: DefaultInterfaces,
					Requests: "connect tcp svc0.example.com:443\nlookup svc1.example.com\nlisten tcp localhost:9003\n"})
			}
		})
	}
}
