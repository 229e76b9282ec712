package grammar

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// Cache parses successive versions of one input, as an editor sends them,
// parsing again only the flags whose text changed. A flag's rule and
// diagnostics depend on its text alone; its Loc only places them in the
// origin. So a flag is parsed as its own origin once, and each use copies
// the rule with the flag's Loc and Index and moves the diagnostics to the
// flag's place. The cache keeps the flags of the last input only. A Cache
// is not safe for concurrent use; its zero value is ready.
type Cache struct {
	flags map[string]cachedFlag // by flag text
}

// cachedFlag is a flag parsed as its own origin: the rule (nil with
// errors) and the diagnostics, in offsets of the flag's text.
type cachedFlag struct {
	rule  *ast.Rule
	diags []diag.Diagnostic
}

// Parse parses an input as Parse does, with the same result.
func (c *Cache) Parse(in *source.Input) (*ast.Policy, []diag.Diagnostic) {
	next := make(map[string]cachedFlag, len(in.Flags))
	p := &ast.Policy{Name: in.Name}
	var ds []diag.Diagnostic
	for i, f := range in.Flags {
		cf, ok := next[f.Text]
		if !ok {
			if cf, ok = c.flags[f.Text]; !ok {
				cf.rule, cf.diags = ParseFlag(f.Text, nil)
			}
			next[f.Text] = cf
		}
		if cf.rule != nil {
			r := *cf.rule
			r.Index, r.Loc = i, f.Loc
			p.Rules = append(p.Rules, &r)
		}
		for _, d := range cf.diags {
			ds = append(ds, Relocate(d, f.Loc))
		}
	}
	c.flags = next
	return p, ds
}

// Relocate moves a diagnostic of a flag parsed as its own origin
// (ParseFlag(text, nil)) to the flag's place in its origin, its fixes too.
func Relocate(d diag.Diagnostic, loc diag.Locator) diag.Diagnostic {
	d.Range = loc.Range(d.Range.Start.Offset, d.Range.End.Offset)
	if len(d.Fixes) > 0 {
		fixes := make([]diag.Fix, len(d.Fixes))
		for i, f := range d.Fixes {
			edits := make([]diag.TextEdit, len(f.Edits))
			for j, e := range f.Edits {
				edits[j] = diag.TextEdit{Range: loc.Range(e.Range.Start.Offset, e.Range.End.Offset), NewText: e.NewText}
			}
			fixes[i] = diag.Fix{Message: f.Message, Edits: edits}
		}
		d.Fixes = fixes
	}
	return d
}
