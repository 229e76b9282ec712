package interop

import (
	"math/rand/v2"
	"testing"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// sideOf decides a request on both sides and says how they differ in
// family f: OnlyA, OnlyB, MappedA, or ok false when they agree.
func differs(a, b Verdict, f policy.Families) (Side, bool) {
	i := famIndex(f)
	ea, eb := a.Entry[i] >= 0, b.Entry[i] >= 0
	switch {
	case ea && !eb:
		return OnlyA, true
	case eb && !ea:
		return OnlyB, true
	case ea && eb && a.Mapped[i] != b.Mapped[i]:
		return MappedA, true
	}
	return 0, false
}

func sideOfKind(k Kind, export bool) Side {
	switch {
	case k == MappingLost:
		return MappedA
	case export && k == Narrower, !export && k == Wider:
		return OnlyA
	}
	return OnlyB
}

// checkReport samples requests and checks that the report holds exactly
// the requests on which the policy and the configuration differ.
func checkReport(t *testing.T, r *rand.Rand, what string, ds []Difference, export bool, ps *policySide, c *Config, covered func(eval.Request, policy.Families) bool, samples int) {
	t.Helper()
	for n := 0; n < samples; n++ {
		q, f := randomRequest(r)
		if famsOf(q)&f == 0 {
			continue
		}
		nq := q
		if !normalizeRequest(&nq) {
			continue
		}
		if !covered(q, f) {
			t.Fatalf("%s: %s (%s) falls in no probed cell", what, q, f)
		}
		side, diff := differs(ps.Decide(nq), c.Decide(q), f)
		var in *Difference
		for i := range ds {
			if ds[i].Contains(q, f) {
				in = &ds[i]
				break
			}
		}
		switch {
		case diff && in == nil:
			t.Fatalf("%s: %s (%s) differs (side %d) but no difference reports it", what, q, f, side)
		case !diff && in != nil:
			t.Fatalf("%s: %s (%s) is in difference %q but the sides agree", what, q, f, in.Example)
		case diff && sideOfKind(in.Kind, export) != side:
			t.Fatalf("%s: %s (%s) differs on side %d but is reported as %s", what, q, f, side, in.Kind)
		}
	}
}

// TestExportReportIsExact exports random policies to every runtime, reads
// each export back as the runtime would, and checks on sampled requests
// that the policy (through the evaluator) and the read-back configuration
// differ exactly where the report says.
func TestExportReportIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	policies := 120
	if testing.Short() {
		policies = 20
	}
	for i := 0; i < policies; i++ {
		flags := randomFlags(r)
		p, _ := eval.CompileFlags(flags...)
		for _, tg := range Targets() {
			e, err := ExportPolicy(tg, p)
			if err != nil {
				t.Fatalf("%v: %v", flags, err)
			}
			for _, d := range e.Differences {
				if d.Example == "" || !d.Contains(d.Request, d.famOrOwn()) {
					t.Fatalf("%s %v: difference without its own example: %+v", tg, flags, d)
				}
			}
			checkReport(t, r, tg+" "+e.Config.Text+" from "+join(flags), e.Differences, true, newPolicySide(p), e.Config, e.Covered, 300)
		}
	}
}

func (d *Difference) famOrOwn() policy.Families {
	if d.Family != 0 {
		return d.Family
	}
	return famsOf(d.Request)
}

func join(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}
