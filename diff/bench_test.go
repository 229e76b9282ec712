package diff

import (
	"fmt"
	"io"
	"testing"

	"github.com/capspec/capspec/internal/heapwatch"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// benchPair returns an old policy of n rules and a new one
// (policygen.DiffPair), compiled.
func benchPair(b testing.TB, n int, related bool) (*policy.Policy, *policy.Policy) {
	old, new := policygen.DiffPair(n, related)
	a, okA := compileFlags(b, "old.flags", old)
	c, okB := compileFlags(b, "new.flags", new)
	if !okA || !okB {
		b.Fatal("benchmark policy with errors")
	}
	return a, c
}

// BenchmarkCompare measures capspec diff's comparison of two compiled
// policies into a Result (Compare): a change of about 1% of the rules
// (shuffled), and two unrelated policies (every rule differs), at 10k and
// 100k rules. peak-heap-MB includes the two policies (about half of it at
// 100k rules) and the whole result.
func BenchmarkCompare(b *testing.B) {
	benchPairs(b, func(old, new *policy.Policy) int {
		res, err := Compare(old, new)
		if err != nil {
			b.Fatal(err)
		}
		return len(res.Added) + len(res.Removed) + len(res.Changed)
	})
}

// BenchmarkStream measures what capspec diff pays to compare two policies
// and write the text output as it goes (Stream into a text Writer, to
// nowhere), on the pairs of BenchmarkCompare: no result is kept.
func BenchmarkStream(b *testing.B) {
	benchPairs(b, func(old, new *policy.Policy) int {
		w, err := NewWriter(io.Discard, "text", nil)
		if err != nil {
			b.Fatal(err)
		}
		n, err := Stream(old, new, w)
		if err == nil {
			err = w.Close(n)
		}
		if err != nil {
			b.Fatal(err)
		}
		return n.Added + n.Removed + n.Changed
	})
}

// benchPairs runs compare on the pairs of benchPair (related and
// unrelated, of each of benchSizes), reporting the regions it returns.
func benchPairs(b *testing.B, compare func(old, new *policy.Policy) int) {
	for _, n := range benchSizes {
		for _, related := range []bool{true, false} {
			name := fmt.Sprintf("rules=%d/change", n)
			if !related {
				name = fmt.Sprintf("rules=%d/unrelated", n)
			}
			b.Run(name, func(b *testing.B) {
				if !related && n > 10000 && testing.Short() {
					b.Skip("long")
				}
				old, new := benchPair(b, n, related)
				regions := 0
				heapwatch.Bench(b, func() { regions = compare(old, new) })
				b.ReportMetric(float64(regions), "regions")
			})
		}
	}
}

// BenchmarkExceeds measures lint --within's check of a policy against a
// maximum of the same size: the policy within it but for about 1% of its
// rules.
func BenchmarkExceeds(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			maxP, p := benchPair(b, n, true)
			excesses := 0
			heapwatch.Bench(b, func() {
				xs, err := NewMaximum(maxP, "max.flags").Exceeds(p)
				if err != nil {
					b.Fatal(err)
				}
				excesses = len(xs)
			})
			b.ReportMetric(float64(excesses), "excesses")
		})
	}
}

// benchSizes are the policy sizes of the benchmarks.
var benchSizes = []int{10000, 100000}
