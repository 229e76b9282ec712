package lint

import (
	"fmt"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

// compiled returns the policy compiled by package policy, and the
// diagnostics of compiling it (CS101), computed once per run.
func (p *Pass) compiled() (*policy.Policy, []diag.Diagnostic) {
	if p.shared.policy == nil {
		p.shared.policy, p.shared.compileDiags = policy.Compile(p.Policy)
	}
	return p.shared.policy, p.shared.compileDiags
}

// Rules returns the rules of the policy compiled: what each flag means
// (policy.CompileRule), in order. Rules that ask whether a host is any
// address, loopback, a name or an interface, or which ports and families
// a flag grants, decide on these and never on how the flag is spelled;
// each keeps its flag as Source, whose nodes locate the report.
func (p *Pass) Rules() []*policy.Rule {
	cp, _ := p.compiled()
	return cp.Rules
}

// hostNode returns the node of a rule's flag that writes its host: the
// host, or "..." (nil for neither).
func hostNode(r *policy.Rule) ast.Node {
	if r.Source == nil {
		return nil
	}
	if r.Source.Ellipsis != nil {
		return r.Source.Ellipsis
	}
	if r.Source.Host != nil {
		return r.Source.Host
	}
	return nil
}

// hostText returns the host of a rule's flag as written: "tcp://..." for
// the "..." form, or the host.
func hostText(r *policy.Rule) string {
	if r.Source == nil {
		return r.Host.String()
	}
	if r.Source.Ellipsis != nil {
		return r.Protocol.String() + "://..."
	}
	if r.Source.Host != nil {
		return r.Source.Host.Raw
	}
	return r.Host.String()
}

// reportAt reports a diagnostic of the pass's rule at a node of a rule's flag.
func (p *Pass) reportAt(r *policy.Rule, n ast.Node, format string, args ...any) {
	p.Reportf(r.Source.Range(n), nil, format, args...)
}

// redundant is a rule that can be deleted: what it grants, By grants (and
// its implied resolve, ResolveBy).
type redundant struct {
	rule, by, resolveBy *policy.Rule
}

// redundancy sorts the rules that add nothing to a policy into the rules
// that report them, and finds the rules that merge.
type redundancy struct {
	duplicates []redundant    // CS301: the later of two equal rules
	subsumed   []redundant    // CS302: granted by another single rule
	implied    []redundant    // CS304: explicit resolves an outbound rule implies
	merges     []*policy.Rule // CS303: merged rules of two or more sources
}

// dupKey identifies what a compiled rule grants.
type dupKey struct {
	policy.Key
	ports string
}

// redundancies computes the redundancy of the policy once per run. Equal
// rules are found by hashing, covered ones through policy.Subsume (an
// index of hosts) and merges through policy.MergeAll (grouped by key), so
// the cost grows about linearly with the policy, never with all pairs.
// Deleting every redundant rule together keeps what the policy grants;
// merges are computed among the rules that are left.
func (p *Pass) redundancies() *redundancy {
	if p.shared.redundancy != nil {
		return p.shared.redundancy
	}
	cp, _ := p.compiled()
	red := &redundancy{}
	// Not sized for every rule: a key is large, and a policy of many
	// duplicates has few (a map grows table by table).
	first := map[dupKey]*policy.Rule{}
	rest := make([]*policy.Rule, 0, len(cp.Rules))
	for _, r := range cp.Rules {
		k := dupKey{r.Key(), r.Ports.String()}
		if f, ok := first[k]; ok {
			red.duplicates = append(red.duplicates, redundant{rule: r, by: f})
			continue
		}
		first[k] = r
		rest = append(rest, r)
	}
	kept, dropped := policy.Subsume(rest)
	// A rule may be granted by one that is itself dropped; name the kept
	// rule at the end of the chain instead.
	droppedBy := make(map[*policy.Rule]*policy.Rule, len(dropped))
	for _, d := range dropped {
		droppedBy[d.Rule] = d.By
	}
	final := func(by *policy.Rule) *policy.Rule {
		for i := 0; i < len(dropped); i++ {
			next, ok := droppedBy[by]
			if !ok {
				break
			}
			by = next
		}
		return by
	}
	for _, d := range dropped {
		x := redundant{rule: d.Rule, by: final(d.By), resolveBy: d.ResolveBy}
		if d.Rule.Kind == ast.Resolve && d.By.IsImplied() {
			red.implied = append(red.implied, x)
		} else {
			red.subsumed = append(red.subsumed, x)
		}
	}
	for _, m := range policy.MergeAll(kept) {
		if len(m.Sources) > 1 {
			red.merges = append(red.merges, m)
		}
	}
	p.shared.redundancy = red
	return red
}

// where names the position of a rule's flag: "policy.flags:3:1".
func where(r *ast.Rule) string { return r.Range(r).String() }

// reportRedundant reports rules that can be deleted, each with a fix that
// deletes its flag.
func (p *Pass) reportRedundant(xs []redundant, summary func(x redundant) string) {
	for _, x := range xs {
		src := x.rule.Source
		f := p.Flag(src)
		if f == nil {
			continue
		}
		d := diag.Diagnostic{
			Range:   src.Range(src),
			Summary: summary(x),
			Fixes:   []diag.Fix{{Message: "delete the rule", Edits: deleteFlag(p.Input, f)}},
		}
		if x.by != nil && x.by.Source != nil {
			by := x.by
			if by.ImpliedBy != nil {
				by = by.ImpliedBy
			}
			d.Detail = "that rule: " + by.Text()
			if x.resolveBy != nil && x.resolveBy.Source != nil && x.resolveBy.Source != by.Source {
				rb := x.resolveBy
				if rb.ImpliedBy != nil {
					d.Detail += fmt.Sprintf("; the resolve this rule implies is implied by %s at %s", rb.ImpliedBy.Text(), where(rb.Source))
				} else {
					d.Detail += fmt.Sprintf("; the resolve this rule implies is granted by %s at %s", rb.Text(), where(rb.Source))
				}
			}
		}
		p.Report(d)
	}
}

// sourceList names the positions of rules: "policy.flags:2:1, policy.flags:5:1".
func sourceList(rs []*ast.Rule) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = where(r)
	}
	return strings.Join(parts, ", ")
}
