package eval

import (
	"math/rand/v2"
	"slices"
	"strings"
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
	together, unknownPort := 0, 0 // by name through networks covering a family together; host port unknown
	for seed := range uint64(policies) {
		r := rand.New(rand.NewPCG(seed, 7))
		flags := genPolicy(r, 1+r.IntN(25))
		p, _ := compileFlags(t, flags)
		ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
		for range requests {
			q := genRequest(r)
			a, b := ref.Decide(q), idx.Decide(q)
			x := ref.Explain(q)
			if !sameDecision(x.Decision, a) || (len(x.Allowing) > 0) != a.Allowed && !a.NoRuleNeeded {
				t.Fatalf("seed %d: %s: explanation disagrees: %+v\n%+v\npolicy:\n%s", seed, q, x, a, joinLines(flags))
			}
			for _, m := range x.Allowing {
				if m.Decides != (m.Rule.Index == a.Rule) {
					t.Fatalf("seed %d: %s: deciding rule %d not marked in %+v", seed, q, a.Rule, x.Allowing)
				}
			}
			if !sameDecision(a, b) {
				t.Fatalf("seed %d: %s\npolicy:\n%s\nreference: %+v\nindex:     %+v", seed, q, joinLines(flags), a, b)
			}
			if a.Allowed && (q.Op == Connect || q.Op == Send) && !q.Addr.IsValid() {
				if slices.ContainsFunc(x.Notes, func(n string) bool { return strings.Contains(n, "together cover") }) {
					together++
				}
				if a.HostPort == 0 {
					unknownPort++
				}
			}
		}
	}
	t.Logf("%d connects by name allowed by networks together, %d with the host port unknown", together, unknownPort)
	if together == 0 || unknownPort == 0 {
		t.Errorf("the generator made no connect by name allowed by networks together (%d) or with an unknown host port (%d)", together, unknownPort)
	}
}

func joinLines(ss []string) string {
	out := ""
	for _, s := range ss {
		out += "  " + s + "\n"
	}
	return out
}
