package diff

// Property tests of the policy model's set operations (package policy),
// which capspec diff builds on, against the reference evaluator, on
// random rules (internal/policygen).

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// grant is what one rule does with a request in a policy: whether it allows
// it in family f, the host port it gives, and whether that comes from a
// port mapping (a mapping, even to the same port, wins over no mapping
// where both match in a policy).
type grant struct {
	ok     bool
	port   uint16
	answer netip.Addr // a lookup's answer without DNS
	mapped bool
}

func grantOf(r *policy.Rule, ctx *policy.Policy, q eval.Request, f policy.Families) grant {
	if q.Op.Kind() != r.Kind {
		return grant{}
	}
	c := r.Clone()
	c.Index, c.ImpliedBy = 0, nil
	one := &policy.Policy{Rules: []*policy.Rule{c}}
	if c.Kind == ast.Resolve {
		one.Resolves = []*policy.Rule{c}
	} else if ir := c.ImpliedResolve(); ir != nil {
		one.Resolves = []*policy.Rule{ir}
	}
	if c.Kind == ast.Outbound && ctx != nil {
		for _, m := range ctx.Resolves {
			if m.HostMap.IsValid() {
				mm := m.Clone()
				mm.Index, mm.ImpliedBy = 1, nil
				one.Resolves = append(one.Resolves, mm)
			}
		}
	}
	d := eval.NewReference(one, Interfaces).Decide(q)
	if !d.Families.Has(f) {
		return grant{}
	}
	return grant{ok: true, port: d.HostPort, answer: d.Answers[famIndex(f)], mapped: c.PortMap.IsMapped() || c.HostMap.IsValid() && c.Kind == ast.Resolve}
}

// pairPolicy is a policy of two rules, the context in which they are
// compared: where either maps a name, a rule to that name reaches only
// the mapped address.
func pairPolicy(a, b *policy.Rule) *policy.Policy {
	p := &policy.Policy{Rules: []*policy.Rule{a, b}}
	for _, x := range p.Rules {
		if x.Kind == ast.Resolve {
			p.Resolves = append(p.Resolves, x)
		} else if ir := x.ImpliedResolve(); ir != nil {
			p.Resolves = append(p.Resolves, ir)
		}
	}
	return p
}

// takes reports whether grant a stands for grant b in a policy holding
// both: a allows the request alike, or maps it where b does not.
func (a grant) takes(b grant) bool {
	return a.ok && (a.port == b.port && a.answer == b.answer && a.mapped == b.mapped || a.mapped && !b.mapped)
}

// randomRules returns n compiled random rules (no errors).
func randomRules(t *testing.T, r *rand.Rand, n int) []*policy.Rule {
	var out []*policy.Rule
	for len(out) < n {
		p, _ := compileFlags(t, "r.flags", []string{policygen.Flag(r, policygen.Options{})})
		if len(p.Rules) == 1 {
			out = append(out, p.Rules[0])
		}
	}
	return out
}

// sampleRequests returns atomic requests aimed at the rules.
func sampleRequests(r *rand.Rand, rules ...*policy.Rule) []eval.Request {
	p := &policy.Policy{Rules: rules}
	for _, x := range rules {
		if x.Kind == ast.Resolve {
			p.Resolves = append(p.Resolves, x)
		}
	}
	var out []eval.Request
	for _, q := range policygen.Aimed(r, p) {
		if atomic(q) {
			out = append(out, q)
		}
	}
	for range 40 {
		if q := policygen.Request(r, nil); atomic(q) {
			out = append(out, q)
		}
	}
	return out
}

func TestSetOperations(t *testing.T) {
	n := 8000
	if testing.Short() {
		n = 2000
	}
	r := rand.New(rand.NewPCG(seedOf(t), 7))
	var exact, inexact, covers, merges, disjoint int
	for i := 0; i < n; i++ {
		rs := randomRules(t, r, 2)
		a, b := rs[0], rs[1]
		if r.IntN(3) == 0 {
			// Same kind and protocol more often, so that they interact.
			for b.Kind != a.Kind || b.Protocol != a.Protocol {
				b = randomRules(t, r, 1)[0]
			}
		}
		rest, isExact := policy.Subtract(a, b)
		if isExact {
			exact++
		} else {
			inexact++
		}
		cov := policy.Covers(a, b)
		if cov {
			covers++
		}
		merged, mergeOK := policy.Merge(a, b)
		if mergeOK {
			merges++
		}
		overlap := policy.Overlaps(a, b)
		if !overlap {
			disjoint++
		}
		// Two rules mapping one name to two addresses conflict (CS101):
		// no policy holds both, so each is read alone.
		ctx := pairPolicy(a, b)
		if _, ok := compileFlags(t, "pair.flags", []string{a.String(), b.String()}); !ok {
			ctx = nil
		}
		for _, q := range sampleRequests(r, a, b) {
			for _, f := range bothFamilies {
				ga, gb := grantOf(a, ctx, q, f), grantOf(b, ctx, q, f)
				fail := func(what string) {
					t.Helper()
					var rests []string
					for _, x := range rest {
						rests = append(rests, x.String())
					}
					t.Fatalf("a = %s\nb = %s\n%s: %s (%s): a %+v, b %+v\nSubtract = [%s] exact %v", a, b, what, q, f, ga, gb, strings.Join(rests, " "), isExact)
				}
				// Covers: a grants whatever b grants, alike where b maps.
				if cov && gb.ok && !ga.takes(gb) {
					fail("Covers(a, b), but a does not grant what b does")
				}
				// Overlaps: rules that do not overlap share no request.
				if !overlap && ga.ok && gb.ok && ga.answer == gb.answer {
					fail("not Overlaps(a, b), but both allow")
				}
				// Subtract: what b grants and a does not, with its host
				// port; where both match, a mapping wins over none (so a
				// mapping rule takes what b grants without one).
				want := gb.ok && !ga.takes(gb)
				got, inRest := false, false
				for _, x := range rest {
					if g := grantOf(x, ctx, q, f); g.ok {
						inRest = true
						if g.port == gb.port && g.answer == gb.answer && g.mapped == gb.mapped {
							got = true
						}
					}
				}
				if want && !got {
					fail("b minus a holds it, Subtract does not")
				}
				if inRest && !gb.ok {
					fail("Subtract holds what b does not grant")
				}
				if isExact && got && !want {
					fail("Subtract is exact, but holds what a grants too")
				}
				// Merge: exactly what both grant.
				if mergeOK {
					gm := grantOf(merged, ctx, q, f)
					if gm.ok != (ga.ok || gb.ok) {
						fail("Merge grants otherwise than a and b: " + merged.String())
					}
				}
			}
		}
	}
	t.Logf("%d pairs: Subtract exact %d, inexact %d; Covers %d; Merge %d; disjoint %d", n, exact, inexact, covers, merges, disjoint)
}

// TestPolicyOperations checks MergeAll, Canonicalize and Essential on
// random policies: MergeAll and Canonicalize keep every decision (the
// rules written out and compiled again); Essential keeps what the grants
// allow together.
func TestPolicyOperations(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 150
	}
	r := rand.New(rand.NewPCG(seedOf(t), 11))
	for i := 0; i < n; i++ {
		flags := genFlags(r, 10)
		p, ok := compileFlags(t, "p.flags", flags)
		if !ok {
			continue
		}
		ref := eval.NewReference(p, Interfaces)
		for _, op := range []struct {
			name string
			do   func([]*policy.Rule) []*policy.Rule
		}{{"MergeAll", policy.MergeAll}, {"Canonicalize", policy.Canonicalize}} {
			var out []string
			for _, x := range op.do(p.Rules) {
				out = append(out, x.String())
			}
			q2, ok := compileFlags(t, "q.flags", out)
			if !ok || len(q2.Rules) != len(out) {
				t.Fatalf("%s of\n%s\nwrites rules with errors:\n%s", op.name, strings.Join(flags, "\n"), strings.Join(out, "\n"))
			}
			ref2 := eval.NewReference(q2, Interfaces)
			for _, q := range sampleRequests(r, append(p.Rules, p.Resolves...)...) {
				if a, b := ref.Decide(q), ref2.Decide(q); !sameDecision(a, b) {
					t.Fatalf("%s changes %s:\n%s\n->\n%s\n%+v\n%+v", op.name, q, strings.Join(flags, "\n"), strings.Join(out, "\n"), a, b)
				}
			}
		}
		grants := p.Grants()
		kept := policy.Essential(grants)
		for _, q := range sampleRequests(r, append(p.Rules, p.Resolves...)...) {
			for _, f := range bothFamilies {
				all, some := false, false
				for _, g := range grants {
					all = all || grantOf(g, p, q, f).ok
				}
				for _, g := range kept {
					some = some || grantOf(g, p, q, f).ok
				}
				if all != some {
					t.Fatalf("Essential of\n%s\nkeeps %d of %d grants, and %s (%s) is allowed by all: %v, by the kept: %v", strings.Join(flags, "\n"), len(kept), len(grants), q, f, all, some)
				}
			}
		}
	}
}
