package interop

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// noInterfaces is the interface table comparisons decide with: no
// interface owns an address, so a rule for eth0 allows listening on
// "eth0" by name and nothing else. None of the runtimes knows interfaces
// by name, and an export must not depend on the machine it runs on.
var noInterfaces = eval.NewInterfaces(nil)

// policySide decides requests as capspec does (the indexed engine), and
// charges each allowed family to the rule that allows it.
type policySide struct {
	p    *policy.Policy
	idx  *eval.Index
	ref  *eval.Reference
	solo map[int]*eval.Index // a rule alone (with the resolve it implies)
}

func newPolicySide(p *policy.Policy) *policySide {
	return &policySide{p: p, idx: eval.NewIndex(p, noInterfaces), ref: eval.NewReference(p, noInterfaces), solo: map[int]*eval.Index{}}
}

// Decide implements Decider.
func (s *policySide) Decide(q eval.Request) Verdict {
	d := s.idx.Decide(q)
	return s.verdict(q, d)
}

func (s *policySide) verdict(q eval.Request, d eval.Decision) Verdict {
	v := Deny()
	if !d.Allowed || d.NoRuleNeeded {
		return v
	}
	for i, f := range fams {
		if d.Families&f == 0 {
			continue
		}
		rule := d.Rule
		v.Mapped[i] = mapped(q, d, i)
		if i == 1 && d.Families == policy.AllFamilies {
			rule = s.ruleFor(q, f, i, v.Mapped[i], d.Rule)
		}
		v.Entry[i] = rule
	}
	return v
}

// mapped reports whether capspec sends an allowed request elsewhere than
// the guest asked: a lookup answered by a host mapping, a port mapping, a
// name mapped to an address.
func mapped(q eval.Request, d eval.Decision, fi int) bool {
	switch q.Op {
	case eval.Lookup:
		return d.Answers[fi].IsValid() && q.Name != "localhost"
	case eval.Connect, eval.Send:
		if d.HostPort != 0 && d.HostPort != q.Port {
			return true
		}
		return !q.Addr.IsValid() && d.HostAddr.IsValid() && q.Name != "localhost"
	}
	return d.HostPort != q.Port && !(q.Port == 0 && d.HostPort == 0)
}

// ruleFor finds the first rule that allows q in family f by itself (and
// maps it as the whole policy does), or returns fallback.
func (s *policySide) ruleFor(q eval.Request, f policy.Families, fi int, wantMapped bool, fallback int) int {
	first := -1
	for _, r := range s.p.Rules {
		if r.Kind != q.Op.Kind() && !(q.Op == eval.Lookup && r.Kind == ast.Outbound) {
			continue
		}
		x := s.solo[r.Index]
		if x == nil {
			c := *r
			c.Index = 0
			one := &policy.Policy{Rules: []*policy.Rule{&c}}
			if c.Kind == ast.Resolve {
				one.Resolves = []*policy.Rule{&c}
			} else if ir := c.ImpliedResolve(); ir != nil {
				one.Resolves = []*policy.Rule{ir}
			}
			x = eval.NewIndex(one, noInterfaces)
			s.solo[r.Index] = x
		}
		if d := x.Decide(q); d.Families&f != 0 {
			if mapped(q, d, fi) == wantMapped {
				return r.Index
			}
			if first < 0 {
				first = r.Index
			}
		}
	}
	if first >= 0 {
		return first
	}
	return fallback
}

// checkWitness decides a request with the reference evaluator and reports
// whether it allows it in family f, as the indexed engine said.
func (s *policySide) checkWitness(q eval.Request, f policy.Families) bool {
	return s.ref.Decide(q).Families&f != 0
}

// lookupFamilies returns the families in which a policy lets the guest
// look up the name of an exact name host and get an answer: a mapped name
// answers in its mapping's family only (SPEC §3.2). A wildcard or "*"
// stands for names that are not mapped: every family.
func lookupFamilies(p *policy.Policy, h policy.Host) policy.Families {
	if h.Kind != policy.NameHost {
		return policy.AllFamilies
	}
	return eval.NewReference(p, noInterfaces).Decide(eval.Request{Op: eval.Lookup, Name: h.Name}).Families
}
