package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/grammar"
)

// benchFlags writes n flags mixing names, wildcards, addresses, networks,
// mappings, port lists and families, with many merge and subsume chances.
func benchFlags(n int) []string {
	r := rand.New(rand.NewPCG(2, uint64(n)))
	flags := make([]string, n)
	fams := []string{"", "", "#ipv4-only", "#ipv6-only"}
	for i := range flags {
		fam := fams[r.IntN(4)]
		switch i % 8 {
		case 0:
			flags[i] = fmt.Sprintf("--allow-outbound=tcp://svc%d.example.com:%d%s", r.IntN(n/4+1), 1+r.IntN(1000), fam)
		case 1:
			flags[i] = fmt.Sprintf("--allow-outbound=tcp://*.zone%d.example.net:443%s", r.IntN(n/8+1), fam)
		case 2:
			flags[i] = fmt.Sprintf("--allow-outbound=tcp://10.%d.%d.%d:80", r.IntN(4), r.IntN(256), r.IntN(256))
		case 3:
			flags[i] = fmt.Sprintf("--allow-outbound=udp://172.16.%d.0/24:53", r.IntN(256))
		case 4:
			flags[i] = fmt.Sprintf("--allow-resolve=host%d.example.org%s", r.IntN(n/4+1), fam)
		case 5:
			flags[i] = fmt.Sprintf("--allow-inbound=tcp://eth%d:%d->%d", i, 1000+i%60000, 1000+(i+7)%60000)
		case 6:
			flags[i] = fmt.Sprintf("--allow-outbound=tcp://db%d.internal->10.200.%d.%d:5432->5433", i, r.IntN(256), r.IntN(256))
		default:
			flags[i] = fmt.Sprintf("--allow-inbound=tcp://*:%d%s", 1+r.IntN(65000), fam)
		}
	}
	return flags
}

func benchPolicy(b *testing.B, n int) *ast.Policy {
	ap := &ast.Policy{}
	for i, f := range benchFlags(n) {
		r, ds := grammar.ParseFlag(f, nil)
		if r == nil {
			b.Fatal(ds)
		}
		r.Index = i
		ap.Rules = append(ap.Rules, r)
	}
	return ap
}

// BenchmarkCompile measures Compile with its CS101 checks.
func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		ap := benchPolicy(b, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compile(ap)
			}
		})
	}
}

// BenchmarkCanonicalize measures §4 steps 2 to 5 (merge, aggregate,
// subsume, sort) on compiled rules.
func BenchmarkCanonicalize(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		p, _ := Compile(benchPolicy(b, n))
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Canonicalize(p.Rules)
			}
		})
	}
}
