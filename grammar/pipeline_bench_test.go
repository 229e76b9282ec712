package grammar_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/heapwatch"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// pipelineFlags writes n distinct flags as people write them, one a line:
// names, wildcards, addresses, networks, IPv6, interfaces, port lists and
// ranges, mappings and families, in the proportions of real policies.
func pipelineFlags(n int) string {
	r := rand.New(rand.NewPCG(11, uint64(n)))
	fams := []string{"", "", "", "#ipv4-only", "#ipv6-only"}
	var b strings.Builder
	for i := range n {
		fam := fams[r.IntN(len(fams))]
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "--allow-outbound=tcp://svc%d.example.com:%d%s\n", i, 1+r.IntN(1000), fam)
		case 1:
			fmt.Fprintf(&b, "--allow-outbound=tcp://*.zone%d.example.net:443,8443%s\n", i, fam)
		case 2:
			fmt.Fprintf(&b, "--allow-outbound=tcp://10.%d.%d.%d:80\n", i>>16&255, i>>8&255, i&255)
		case 3:
			fmt.Fprintf(&b, "--allow-outbound=udp://172.%d.%d.0/24:53\n", 16+i>>16&15, i>>8&255)
		case 4:
			fmt.Fprintf(&b, "--allow-resolve=host%d.example.org%s\n", i, fam)
		case 5:
			fmt.Fprintf(&b, "--allow-inbound=tcp://eth%d:%d->%d\n", i%1000, 1000+i%60000, 1000+(i+7)%60000)
		case 6:
			fmt.Fprintf(&b, "--allow-outbound=tcp://db%d.internal->10.200.%d.%d:5432->5433\n", i, i>>8&255, i&255)
		case 7:
			fmt.Fprintf(&b, "--allow-outbound=tcp://[2001:db8:%x::%x]:443\n", i>>16, i&0xffff)
		case 8:
			fmt.Fprintf(&b, "--allow-outbound=tcp://api%d.example.com:%d-%d%s\n", i, 8000+i%1000, 9000+i%1000, fam)
		default:
			fmt.Fprintf(&b, "--allow-inbound=tcp://*:%d%s\n", 1+r.IntN(65000), fam)
		}
	}
	return b.String()
}

// BenchmarkPipeline reads, parses and compiles n distinct flags into the
// indexed engine, as a runtime starting with a large policy does: source,
// grammar.Parse, policy.Compile, eval.NewIndex. One op is the whole policy;
// cpu-s/op is the CPU time of the process (heapwatch.Bench).
func BenchmarkPipeline(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		content := pipelineFlags(n)
		b.Run(fmt.Sprintf("flags=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(content)))
			heapwatch.Bench(b, func() {
				ins, err := source.FlagsFile{Name: "big.flags", Content: content}.Read()
				if err != nil {
					b.Fatal(err)
				}
				ap, ds := grammar.Parse(ins[0])
				p, cds := policy.Compile(ap)
				if diag.HasErrors(ds) || diag.HasErrors(cds) || len(p.Rules) != n {
					b.Fatalf("%d rules, diagnostics %v %v", len(p.Rules), ds[:min(len(ds), 3)], cds[:min(len(cds), 3)])
				}
				eval.NewIndex(p, nil)
			})
		})
	}
}
