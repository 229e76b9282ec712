package lint

import (
	"slices"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// Relation is how one rule of a policy stands to others in what it grants:
// what CS301–CS304 report, as data, before suppressions and --disable.
type Relation struct {
	// ID names the relation by the rule that reports it:
	//   - CS301: Rule duplicates Others[0];
	//   - CS302: Others[0] grants everything Rule grants (and Others[1], when
	//     present, the resolve Rule implies);
	//   - CS303: Rule and Others merge into Merged;
	//   - CS304: the outbound rule Others[0] implies the resolve rule Rule.
	ID string
	// Rule is the index of the flag the relation is reported on, in the
	// input's Flags.
	Rule int
	// Others are the flag indices of the other rules, as above.
	Others []int
	// Merged is the canonical merged rule of a CS303 relation.
	Merged string
}

// Relations returns the relations CS301–CS304 find among the rules of one
// parsed policy, computed as a run of Lint computes them.
func Relations(in *source.Input, p *ast.Policy) []Relation {
	if p == nil {
		return nil
	}
	pass := &Pass{Input: in, Policy: p, shared: &shared{ids: map[string]bool{}}}
	red := pass.redundancies()
	var out []Relation
	add := func(id string, xs []redundant, by func(x redundant) []*policy.Rule) {
		for _, x := range xs {
			if x.rule.Source == nil {
				continue
			}
			rel := Relation{ID: id, Rule: x.rule.Source.Index}
			for _, o := range by(x) {
				if o != nil && o.Source != nil && !slices.Contains(rel.Others, o.Source.Index) {
					rel.Others = append(rel.Others, o.Source.Index)
				}
			}
			if len(rel.Others) > 0 {
				out = append(out, rel)
			}
		}
	}
	written := func(r *policy.Rule) *policy.Rule {
		if r != nil && r.ImpliedBy != nil {
			return r.ImpliedBy
		}
		return r
	}
	add("CS301", red.duplicates, func(x redundant) []*policy.Rule { return []*policy.Rule{x.by} })
	add("CS302", red.subsumed, func(x redundant) []*policy.Rule {
		return []*policy.Rule{written(x.by), written(x.resolveBy)}
	})
	add("CS304", red.implied, func(x redundant) []*policy.Rule { return []*policy.Rule{written(x.by)} })
	for _, m := range red.merges {
		idx := make([]int, 0, len(m.Sources))
		for _, s := range m.Sources {
			idx = append(idx, s.Index)
		}
		slices.Sort(idx)
		out = append(out, Relation{ID: "CS303", Rule: idx[0], Others: idx[1:], Merged: m.String()})
	}
	return out
}
