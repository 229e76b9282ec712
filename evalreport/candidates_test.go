package evalreport

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
)

// TestCandidates: the rules an explanation finds by host (name, network,
// interface) are every rule that allows the request: explaining with every
// rule of the kind as a candidate gives the same decision and the same
// allowing rules. (TestDifferential in package eval compares the
// decisions with the engines.)
func TestCandidates(t *testing.T) {
	ifaces := policygen.Interfaces()
	for c := range policygen.Cases(t, 1000, 11, 30) {
		seed, r, flags, p := c.Seed, c.Rand, c.Flags, c.Policy
		byHost, every := NewExplainer(p, ifaces), NewExplainer(p, ifaces)
		every.everyRule = true
		near := policygen.PoolOf(p.Rules)
		for range 40 {
			q := policygen.Request(r, near)
			a, b := byHost.Explain(q), every.Explain(q)
			if !policygen.SameDecision(a.Decision, b.Decision) || !slices.Equal(allowing(a), allowing(b)) {
				t.Fatalf("seed %d: %s\npolicy: %q\nby host: %+v %s\nall:     %+v %s", seed, q, flags, a.Decision, allowing(a), b.Decision, allowing(b))
			}
		}
	}
}

func allowing(x Explanation) []string {
	var out []string
	for _, m := range x.Allowing {
		out = append(out, fmt.Sprintf("%d%p:%s:%v", m.Rule.Index, m.Rule, m.Families, m.Decides))
	}
	return out
}

// TestExplainConcurrent explains from many goroutines with one Explainer
// (run with -race): its scratch memory is pooled, its memo locked.
func TestExplainConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	p, _ := policygen.Compile(t, policygen.Policy(r, 40, policygen.Options{}))
	ex := NewExplainer(p, policygen.Interfaces())
	near := policygen.PoolOf(p.Rules)
	qs := make([]eval.Request, 300)
	want := make([]string, len(qs))
	for i := range qs {
		qs[i] = policygen.Request(r, near)
		want[i] = fmt.Sprint(ex.Explain(qs[i]))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range qs {
				j := (i + g*31) % len(qs)
				if got := fmt.Sprint(ex.Explain(qs[j])); got != want[j] {
					t.Errorf("%s explained otherwise concurrently:\n%s\n%s", qs[j], got, want[j])
					return
				}
			}
		})
	}
	wg.Wait()
}
