package evalreport

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/capspec/capspec/internal/policygen"
)

// TestCandidates: the rules an explanation finds by host (name, network,
// interface) are every rule that allows the request: explaining with every
// rule of the kind as a candidate gives the same decision and the same
// allowing rules. (TestDifferential in package eval compares the
// decisions with the engines.)
func TestCandidates(t *testing.T) {
	policies, requests := 1000, 40
	if testing.Short() {
		policies = 100
	}
	ifaces := policygen.Interfaces()
	for seed := range uint64(policies) {
		r := rand.New(rand.NewPCG(seed, 11))
		flags := policygen.Policy(r, 1+r.IntN(30), policygen.Options{})
		p, _ := policygen.Compile(t, flags)
		byHost, every := NewExplainer(p, ifaces), NewExplainer(p, ifaces)
		every.everyRule = true
		near := policygen.PoolOf(p.Rules)
		for range requests {
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
