package normalize

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchFile writes a flags file of n rules as a large policy might have
// them: exact names, wildcards, addresses and networks (many of which
// aggregate), port lists, ranges, families and mappings, for all three
// kinds, with a comment every tenth flag.
func benchFile(n int) string {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	var b strings.Builder
	fams := []string{"", "", "#ipv4-only", "#ipv6-only"}
	ports := func() string {
		switch r.IntN(4) {
		case 0:
			return fmt.Sprint(1 + r.IntN(65000))
		case 1:
			a := 1 + r.IntN(60000)
			return fmt.Sprintf("%d-%d", a, a+r.IntN(1000))
		case 2:
			return fmt.Sprintf("%d,%d,%d", 1+r.IntN(1000), 1000+r.IntN(1000), 8000+r.IntN(1000))
		}
		return "443,80"
	}
	for i := range n {
		if i%10 == 0 {
			fmt.Fprintf(&b, "# rule %d\n", i)
		}
		fam := fams[r.IntN(len(fams))]
		svc := r.IntN(n/4 + 1) // names repeat, so rules merge and subsume
		switch i % 10 {
		case 0, 1:
			fmt.Fprintf(&b, "--allow-outbound=tcp://svc%d.example.com:%s%s\n", svc, ports(), fam)
		case 2:
			fmt.Fprintf(&b, "--allow-outbound=tcp://*.zone%d.example.net:%s%s\n", svc, ports(), fam)
		case 3:
			fmt.Fprintf(&b, "--allow-outbound=tcp://10.%d.%d.%d:443\n", r.IntN(256), r.IntN(256), r.IntN(256))
		case 4:
			fmt.Fprintf(&b, "--allow-outbound=udp://172.%d.%d.0/24:53\n", 16+r.IntN(16), r.IntN(256))
		case 5:
			fmt.Fprintf(&b, "--allow-resolve=svc%d.example.com%s\n", svc, fam)
		case 6:
			fmt.Fprintf(&b, "--allow-resolve=*.zone%d.example.org\n", svc)
		case 7:
			fmt.Fprintf(&b, "--allow-inbound=tcp://*:%d->%d\n", 1024+i%60000, 1024+i%60000)
		case 8:
			fmt.Fprintf(&b, "--allow-outbound=tcp://[2001:db8::%x]:%s\n", r.IntN(1<<16), ports())
		default:
			fmt.Fprintf(&b, "--allow-inbound=udp://eth%d:%s\n", svc%64, ports())
		}
	}
	return b.String()
}

// BenchmarkFormat formats generated flags files of 1k, 10k and 100k rules:
// "steps" is the five steps and printing on a parsed policy, "file" adds
// reading and parsing the file.
func BenchmarkFormat(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		text := benchFile(n)
		p := parse(text)
		if len(p.errs) > 0 {
			b.Fatalf("benchmark policy has errors: %s", summaries(p.errs[:1]))
		}
		b.Run(fmt.Sprintf("steps/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Format(p.ast, p.in).String()
			}
		})
		b.Run(fmt.Sprintf("file/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q := parse(text)
				_ = Format(q.ast, q.in).String()
			}
		})
	}
}
