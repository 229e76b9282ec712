package eval

import (
	"math/rand/v2"
	"testing"
)

// TestDifferential decides random requests against random policies with
// both engines and requires identical decisions.
func TestDifferential(t *testing.T) {
	policies, requests := 3000, 40
	if testing.Short() {
		policies = 300
	}
	ifaces := testIfaces()
	for seed := range uint64(policies) {
		r := rand.New(rand.NewPCG(seed, 7))
		flags := genPolicy(r, 1+r.IntN(25))
		p, _ := compileFlags(t, flags)
		ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
		for range requests {
			q := genRequest(r)
			a, b := ref.Decide(q), idx.Decide(q)
			if !sameDecision(a, b) {
				t.Fatalf("seed %d: %s\npolicy:\n%s\nreference: %+v\nindex:     %+v", seed, q, joinLines(flags), a, b)
			}
		}
	}
}

func joinLines(ss []string) string {
	out := ""
	for _, s := range ss {
		out += "  " + s + "\n"
	}
	return out
}
