package policy

import "github.com/capspec/capspec/ast"

// ForgetSyntax replaces the flags the policy's rules were compiled from
// (Rule.Source, Rule.Sources) by copies that keep only what Rule.Range and
// Rule.Text need: the flag's span, text, locator, index and name. A
// command that holds large compiled policies and reports only where their
// rules are written (capspec diff) calls it once they are checked, so
// that their syntax trees (some hundreds of bytes a flag) can be freed.
// The syntax of ports, hosts and mappings is gone afterwards: conflicts
// (Compile's diagnostics) and lint rules need it.
func (p *Policy) ForgetSyntax() {
	kept := make(map[*ast.Rule]*ast.Rule, len(p.Rules)) // old and new to new
	keep := func(a *ast.Rule) *ast.Rule {
		if a == nil {
			return nil
		}
		if k, ok := kept[a]; ok {
			return k
		}
		k := &struct {
			rule ast.Rule
			flag ast.FlagName
		}{rule: ast.Rule{Span: a.Span, Text: a.Text, Loc: a.Loc, Index: a.Index}}
		if a.Flag != nil {
			k.flag, k.rule.Flag = *a.Flag, &k.flag
		}
		kept[a], kept[&k.rule] = &k.rule, &k.rule
		return &k.rule
	}
	for _, rules := range [][]*Rule{p.Rules, p.Resolves} {
		for _, r := range rules {
			r.Source = keep(r.Source)
			for i, s := range r.Sources {
				r.Sources[i] = keep(s)
			}
		}
	}
}
