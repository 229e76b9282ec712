package diff

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// TestExceedsDifferential checks Exceeds on random policies and maxima
// (some wider than the policy, some not) against the reference
// evaluators: every sampled request (in a family) the policy allows and
// the maximum denies is allowed by rules that are all reported; with no
// report, no sampled request escapes the maximum. Policies with mapping
// conflicts are checked too (lint reports on them).
func TestExceedsDifferential(t *testing.T) {
	pairs := 2000
	if testing.Short() {
		pairs = 200
	}
	r := rand.New(rand.NewPCG(seedOf(t), 401))
	within, reported := 0, 0
	for i := 0; i < pairs; i++ {
		fp := genFlags(r, genSize)
		fm := policygen.Mutate(r, fp, policygen.Options{})
		if r.IntN(3) == 0 {
			fm = append(fm, genFlags(r, 3)...)
		}
		p, _ := compileFlags(t, "app.flags", fp)
		mp, _ := compileFlags(t, "max.flags", fm)
		m := NewMaximum(mp, "max.flags")
		xs, err := m.Exceeds(p)
		fail := func(format string, args ...any) {
			t.Helper()
			var b strings.Builder
			for _, x := range xs {
				s, d := m.Describe(x)
				b.WriteString(x.Rule.String() + ": " + s + "\n  " + d + "\n")
			}
			t.Fatalf("policy:\n%s\nmaximum:\n%s\nreported:\n%s"+format, append([]any{strings.Join(fp, "\n"), strings.Join(fm, "\n"), b.String()}, args...)...)
		}
		if err != nil {
			fail("%v", err)
		}
		if len(xs) == 0 {
			within++
		} else {
			reported++
		}
		got := map[*policy.Rule]bool{}
		for _, x := range xs {
			got[x.Rule] = true
		}
		rp, rm := eval.NewReference(p, Interfaces), eval.NewReference(mp, Interfaces)
		for _, s := range samplesFor(r, 100, nil, p, mp) {
			if !s.atomic {
				continue
			}
			dp, dm := rp.Decide(s.q), rm.Decide(s.q)
			for _, f := range bothFamilies {
				if !dp.Families.Has(f) || dm.Families.Has(f) {
					continue
				}
				if len(xs) == 0 {
					fail("nothing reported, but %s (%s) escapes the maximum", s.q, f)
				}
				for _, g := range p.Grants() {
					rule := g
					if g.IsImplied() {
						rule = g.ImpliedBy
					}
					if ruleAllows(g, p, s.q, f) && !got[rule] {
						fail("%s (%s) escapes the maximum through %s, which is not reported", s.q, f, rule)
					}
				}
			}
		}
		for _, x := range xs {
			if !slices.Contains(p.Rules, x.Rule) {
				fail("reported rule %s is not a rule of the policy", x.Rule)
			}
		}
	}
	t.Logf("%d policies within their maximum, %d not", within, reported)
	if within < pairs/20 || reported < pairs/5 {
		t.Errorf("too few policies within (%d) or beyond (%d) their maximum", within, reported)
	}
}
