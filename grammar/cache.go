package grammar

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// Cache parses successive versions of one input, as an editor sends them,
// parsing again only the flags whose text changed. A flag's rule depends on
// its text alone — its Loc only places it in the origin — so the rule of a
// flag parsed before is copied with the new flag's Loc and Index. Flags
// with problems are parsed every time (their diagnostics carry positions).
// The cache keeps the rules of the last input only. A Cache is not safe for
// concurrent use; its zero value is ready.
type Cache struct {
	rules map[string]*ast.Rule // valid rules by flag text
}

// Parse parses an input as Parse does, with the same result.
func (c *Cache) Parse(in *source.Input) (*ast.Policy, []diag.Diagnostic) {
	next := make(map[string]*ast.Rule, len(in.Flags))
	p := &ast.Policy{Name: in.Name}
	var ds []diag.Diagnostic
	for i, f := range in.Flags {
		var r *ast.Rule
		if cached, ok := c.rules[f.Text]; ok {
			copied := *cached
			r = &copied
			r.Loc = f.Loc
		} else {
			var fds []diag.Diagnostic
			r, fds = ParseFlag(f.Text, f.Loc)
			ds = append(ds, fds...)
			if r == nil || len(fds) > 0 {
				continue
			}
		}
		next[f.Text] = r
		r.Index = i
		p.Rules = append(p.Rules, r)
	}
	c.rules = next
	return p, ds
}
