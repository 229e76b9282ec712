package evalreport

import (
	"fmt"
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// lookupResult is the outcome of a lookup of one name in one family.
type lookupResult struct {
	ok     bool
	rule   *policy.Rule // the deciding rule
	answer netip.Addr   // the answer without DNS, if any
}

// nameInfo is what the resolve rules say about one name.
type nameInfo struct {
	name     string
	maps     policy.NameMaps
	mapRules [2]*policy.Rule // the mapping answering in each family
	lk       [2]lookupResult
	cands    cands // the resolve rules matching the name
}

// nameOf works out the lookups of name in both families from the resolve
// rules matching it.
func (e *Explainer) nameOf(name string, s *scratch) *nameInfo {
	n := &s.name
	*n = nameInfo{name: name, cands: s.names}
	if e.everyRule {
		n.cands.add(e.p.Resolves, true)
	}
	e.res.hits(name, &n.cands)
	for _, c := range n.cands.list {
		for i, f := range families {
			if c.r.MapsName(name, f) && policy.BetterHostMap(c.r, n.mapRules[i]) {
				n.mapRules[i] = c.r
			}
		}
	}
	for i, r := range n.mapRules {
		if r != nil {
			n.maps[i] = r.HostMap
		}
	}
	for i, f := range families {
		var first *policy.Rule
		for j, c := range n.cands.list {
			if n.cands.allows(j, f, n.resolveReasons) && (first == nil || c.r.Index < first.Index) {
				first = c.r
			}
		}
		if first == nil {
			continue
		}
		answer, _, ok := policy.Answer(name, f, n.maps)
		n.lk[i] = lookupResult{ok: ok, rule: first, answer: answer}
		if m := n.mapRules[i]; m != nil {
			n.lk[i].rule = m
		}
	}
	s.names = n.cands // its list may have grown
	return n
}

// resolveReasons says why resolve rule r does not allow the lookup of the
// name in family f (nothing: it does).
func (n *nameInfo) resolveReasons(r *policy.Rule, f policy.Families, w *why) {
	if !r.Families.Has(f) && w.miss() {
		w.says(familyMiss(r, f, "lookup"))
	}
	if !r.Host.MatchesName(n.name) && w.miss() {
		w.says(nameMiss(r.Host, n.name))
	}
	if w.n == 0 && n.maps.Mapped() && !n.maps.In(f).IsValid() && w.miss() {
		w.says(n.mappedElsewhere(f))
	}
}

// mappedElsewhere says that a mapped name has no answer in family f.
func (n *nameInfo) mappedElsewhere(f policy.Families) string {
	for i, m := range n.mapRules {
		if m != nil {
			return fmt.Sprintf("%s is mapped to %s by rule %d, and a mapping is the whole answer: no %s lookup is made",
				n.name, n.maps[i], m.Index+1, f)
		}
	}
	return ""
}

// explainLookup explains a lookup of a name.
func (e *Explainer) explainLookup(x *Explanation, s *scratch) {
	q := x.Request
	n := e.nameOf(q.Name, s)
	fams := requested(q.Family)
	v := newVerdict(s)
	for _, f := range fams {
		i := famIndex(f)
		for j, c := range n.cands.list {
			if n.cands.allows(j, f, n.resolveReasons) {
				v.allowBy(c.r, f)
			}
		}
		if lk := n.lk[i]; lk.ok {
			v.allowed[i], v.winner[i], v.answer[i] = true, lk.rule, lk.answer
		}
	}
	c := &s.c
	for _, cd := range n.cands.list {
		c.addCand(cd)
	}
	e.res.related(q.Name, c)
	c.add(e.first[0], false)
	e.finish(x, &v, c, fams, n.resolveReasons, s)
	if !x.Decision.Allowed {
		if len(e.p.Resolves) == 0 {
			x.Notes = append(x.Notes, "the policy has no --allow-resolve rules")
			for _, r := range e.p.Rules {
				if r.Kind == ast.Outbound && !r.Host.Kind.IsName() {
					x.Notes = append(x.Notes, "outbound rules to * or to addresses allow connects, not lookups")
					break
				}
			}
		}
	}
	if n.maps.Mapped() {
		for _, f := range fams {
			if a := n.maps.In(f); a.IsValid() && x.Decision.Families.Has(f) {
				x.Notes = append(x.Notes, fmt.Sprintf("the %s lookup of %s answers %s without DNS (rule %d): the mapping is the whole answer", f, q.Name, a, n.mapRules[famIndex(f)].Index+1))
			}
		}
	}
}

// requested returns the families a request asks for (both for none).
func requested(f policy.Families) []policy.Families {
	if f == 0 {
		return families[:]
	}
	return []policy.Families{f}
}
