package grammar

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// Cache holds the flags parsed for one version of a document, so that the
// next version, as an editor sends it, parses again only the flags whose
// text changed. A flag's rule and diagnostics depend on its text alone;
// its Loc only places them in the origin. So a flag is parsed as its own
// origin once, and each use copies the rule with the flag's Loc and Index
// and moves the diagnostics to the flag's place (relocate).
//
// A Cache is never changed once made: Parse returns the cache of the new
// version. So a Cache may be used by several goroutines at once (an
// editor's analysis and its formatting of the same version). A nil *Cache
// holds no flag.
type Cache struct {
	flags map[string]parsedFlag // by flag text; parsed with a nil Locator
}

// Parsed is the policy of one input and the diagnostics of parsing it,
// as Parse returns them.
type Parsed struct {
	Policy *ast.Policy
	Diags  []diag.Diagnostic
}

// Parse parses the inputs of one version of a document (the one input of
// a flags file, the commands of a script) as Parse parses each of them,
// with the same results. Only the flags c does not hold are parsed, all
// together on all CPUs when they are many. It returns one Parsed per input,
// in order, and the Cache of this version: the flags of these inputs, and
// no others.
func (c *Cache) Parse(ins ...*source.Input) ([]Parsed, *Cache) {
	n := 0
	for _, in := range ins {
		n += len(in.Flags)
	}
	next := &Cache{flags: make(map[string]parsedFlag, n)}
	var missing []string
	for _, in := range ins {
		for _, f := range in.Flags {
			if _, ok := next.flags[f.Text]; ok {
				continue
			}
			if c != nil {
				if pf, ok := c.flags[f.Text]; ok {
					next.flags[f.Text] = pf
					continue
				}
			}
			next.flags[f.Text] = parsedFlag{} // parsed below
			missing = append(missing, f.Text)
		}
	}
	parsed := make([]parsedFlag, len(missing))
	parseEach(len(missing), parseWorkers(len(missing)), func(ch *checker, _, i int) {
		parsed[i].rule, parsed[i].diags = ch.parseFlag(missing[i], nil)
	})
	for i, text := range missing {
		next.flags[text] = parsed[i]
	}
	out := make([]Parsed, len(ins))
	for k, in := range ins {
		p := &ast.Policy{Name: in.Name}
		var ds []diag.Diagnostic
		for i, f := range in.Flags {
			pf := next.flags[f.Text]
			if pf.rule != nil {
				r := *pf.rule
				r.Index, r.Loc = i, f.Loc
				p.Rules = append(p.Rules, &r)
			}
			for _, d := range pf.diags {
				ds = append(ds, relocate(d, f.Loc))
			}
		}
		out[k] = Parsed{Policy: p, Diags: ds}
	}
	return out, next
}

// relocate moves a diagnostic of a flag parsed as its own origin
// (ParseFlag(text, nil)) to the flag's place in its origin, its fixes too.
func relocate(d diag.Diagnostic, loc diag.Locator) diag.Diagnostic {
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
