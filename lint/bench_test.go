package lint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/source"
)

// genPolicy generates a flags file of n flags of every kind: names,
// wildcards, addresses, networks, inbound ports and mappings, with a
// duplicate every 50 flags and rules that merge or subsume.
func genPolicy(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i%50 == 49 {
			b.WriteString("--allow-outbound=tcp://api48.svc9.example.com:443,808\n")
			continue
		}
		switch i % 8 {
		case 0:
			fmt.Fprintf(&b, "--allow-resolve=host%d.example%d.com\n", i, i%97)
		case 1:
			fmt.Fprintf(&b, "--allow-outbound=tcp://api%d.svc%d.example.com:443,80%d\n", i, i%13, i%10)
		case 2:
			fmt.Fprintf(&b, "--allow-outbound=tcp://10.%d.%d.%d:%d\n", (i>>16)&255, (i>>8)&255, i&255, 1024+i%5000)
		case 3:
			fmt.Fprintf(&b, "--allow-inbound=tcp://127.0.%d.%d:%d\n", (i>>8)&255, i&255, 1024+i%60000)
		case 4:
			fmt.Fprintf(&b, "--allow-outbound=udp://*.zone%d.example.org:53 # zone %d\n", i, i)
		case 5:
			fmt.Fprintf(&b, "--allow-outbound=tcp://172.%d.%d.0/24:443#ipv4-only\n", 16+(i>>16)&15, (i>>8)&255)
		case 6:
			fmt.Fprintf(&b, "--allow-resolve=db%d.internal->10.1.%d.%d\n", i, (i>>8)&255, i&255)
		case 7:
			fmt.Fprintf(&b, "--allow-inbound=udp://veth%d:%d->%d\n", i%4096, 10000+i%20000, 40000+i%20000)
		}
	}
	return b.String()
}

func benchmarkLint(b *testing.B, n int) {
	content := genPolicy(n)
	ins, err := source.FlagsFile{Name: "gen.flags", Content: content}.Read()
	if err != nil {
		b.Fatal(err)
	}
	in := ins[0]
	p, ds := grammar.Parse(in)
	if len(ds) > 0 {
		b.Fatalf("generated policy has errors: %v", ds[0])
	}
	b.ResetTimer()
	var found int
	for b.Loop() {
		found = len(Lint(in, p, nil, Options{}))
	}
	b.ReportMetric(float64(found), "diags")
}

// Lint only (the policy read and parsed once).
func BenchmarkLint1k(b *testing.B)   { benchmarkLint(b, 1_000) }
func BenchmarkLint10k(b *testing.B)  { benchmarkLint(b, 10_000) }
func BenchmarkLint100k(b *testing.B) { benchmarkLint(b, 100_000) }

func benchmarkReadParseLint(b *testing.B, n int) {
	content := genPolicy(n)
	for b.Loop() {
		ins, err := source.FlagsFile{Name: "gen.flags", Content: content}.Read()
		if err != nil {
			b.Fatal(err)
		}
		p, ds := grammar.Parse(ins[0])
		Lint(ins[0], p, ds, Options{})
	}
}

// Reading, parsing and linting, as capspec lint does.
func BenchmarkReadParseLint1k(b *testing.B)   { benchmarkReadParseLint(b, 1_000) }
func BenchmarkReadParseLint10k(b *testing.B)  { benchmarkReadParseLint(b, 10_000) }
func BenchmarkReadParseLint100k(b *testing.B) { benchmarkReadParseLint(b, 100_000) }

// genSameHost generates n inbound rules on one host with distinct ports:
// the worst case for finding covering rules host by host.
func genSameHost(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--allow-inbound=tcp://localhost:%d\n", 1024+i)
	}
	return b.String()
}

func benchmarkSameHost(b *testing.B, n int) {
	ins, err := source.FlagsFile{Name: "gen.flags", Content: genSameHost(n)}.Read()
	if err != nil {
		b.Fatal(err)
	}
	p, _ := grammar.Parse(ins[0])
	for b.Loop() {
		Lint(ins[0], p, nil, Options{})
	}
}

// One host, many ports.
func BenchmarkLintSameHost1k(b *testing.B)  { benchmarkSameHost(b, 1_000) }
func BenchmarkLintSameHost10k(b *testing.B) { benchmarkSameHost(b, 10_000) }
