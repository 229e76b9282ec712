package playground

import (
	"fmt"
	"testing"

	"github.com/capspec/capspec/playground/internal/testpolicy"
)

// benchInputs are what a person editing a 100-rule policy sends: the
// policy as it is after each of several edits (a typo, a new rule, a
// comment), with requests and an old policy to diff against.
func benchInputs() []Input {
	var ins []Input
	for seed := 0; seed < 8; seed++ {
		p := testpolicy.Hundred(seed)
		variants := []string{p, p + "--allow-outboud=tcp://x.example.com:443\n", p + "--allow-outbound=tcp://*:443\n", p + "# a comment\n"}
		for _, v := range variants {
			ins = append(ins, Input{Policy: v, Old: testpolicy.Hundred(seed + 1), Interfaces: DefaultInterfaces,
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
		{"diff", func(in Input) { Diff(in.Old, in.Policy) }},
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
	policy := testpolicy.Hundred(0)
	old := testpolicy.Hundred(1)
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
