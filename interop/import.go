package interop

import (
	"fmt"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/normalize"
	"github.com/capspec/capspec/policy"
)

// Import is a runtime configuration said as canonical capspec flags, and
// every difference between the two.
type Import struct {
	// Component is the Spin component the flags are for ("" otherwise).
	Component string
	// Config is the runtime's configuration as read.
	Config *Config
	// Flags are the canonical capspec flags (SPEC §4) closest to Config.
	Flags []string
	// Policy is Flags compiled.
	Policy *policy.Policy
	// Differences are the computed differences: wider where the flags allow
	// what the runtime does not, narrower where the runtime allows what the
	// flags cannot say.
	Differences []Difference
	// FlagEntries are, for each flag, the entries it was read from.
	FlagEntries [][]int

	space *space
}

// Exact reports whether the flags say exactly what the configuration
// allows, apart from the unspecified destinations capspec always denies
// (Difference.Unspecified): capspec is stricter there by design.
func (im *Import) Exact() bool {
	for _, d := range im.Differences {
		if !d.Unspecified {
			return false
		}
	}
	return true
}

// Diagnostics returns the differences as diagnostics positioned on the
// runtime's entries, sorted.
func (im *Import) Diagnostics() []diag.Diagnostic { return diagnosticsOf(im.Differences) }

// ImportConfig reads a runtime's configuration (spin, deno, wasmer or
// wamr) and says it as canonical capspec flags, one Import per Spin
// component (one for the others). The problems of reading it — entries
// the runtime rejects (CS507 errors) and entries capspec cannot model
// (CS506) — are returned apart; with errors there are no imports.
func ImportConfig(runtime string, src Source) ([]*Import, []diag.Diagnostic, error) {
	t, err := findTarget(runtime)
	if err != nil {
		return nil, nil, err
	}
	if !t.importable {
		return nil, nil, fmt.Errorf("capspec cannot import from %s (it reads %v)", t.name, ImportTargets())
	}
	cfg := t.read(src)
	problems := cfg.Problems
	if diag.HasErrors(problems) {
		return nil, problems, nil
	}
	var out []*Import
	for _, c := range splitComponents(cfg) {
		im, err := importOne(t, c)
		if err != nil {
			return nil, problems, err
		}
		out = append(out, im)
	}
	return out, problems, nil
}

// splitComponents returns one configuration per Spin component; others
// come back whole.
func splitComponents(c *Config) []*Config {
	sc, ok := c.model.(*spinModel)
	if !ok {
		return []*Config{c}
	}
	return sc.split(c)
}

func importOne(t *target, cfg *Config) (*Import, error) {
	raw := t.flags(cfg)
	texts := make([]string, len(raw))
	for i, f := range raw {
		texts[i] = f.flag
	}
	p0, ds := eval.CompileFlags(texts...)
	if diag.HasErrors(ds) {
		return nil, fmt.Errorf("internal error: the flags written for %s do not compile: %v", t.name, ds)
	}
	ap := &ast.Policy{Name: t.name}
	for _, r := range p0.Rules {
		ap.Rules = append(ap.Rules, r.Source)
	}
	im := &Import{Config: cfg}
	if len(cfg.Entries) > 0 {
		im.Component = cfg.Entries[0].Component
	}
	for _, r := range normalize.Rules(ap) {
		im.Flags = append(im.Flags, r.String())
		var entries []int
		for _, s := range r.Sources {
			if e := raw[s.Index].entry; !containsInt(entries, e) {
				entries = append(entries, e)
			}
		}
		im.FlagEntries = append(im.FlagEntries, sortedRules(entries))
	}
	p, ds := eval.CompileFlags(im.Flags...)
	if diag.HasErrors(ds) {
		return nil, fmt.Errorf("internal error: the canonical flags for %s do not compile: %v", t.name, ds)
	}
	im.Policy = p
	ps := newPolicySide(p)
	var pb, cb bounds
	policyBounds(&pb, p)
	cfg.model.bounds(&cb)
	sp := newSpace(&pb, &cb)
	im.space = sp
	for _, part := range compare(sp, ps, cfg) {
		d := Difference{Rule: -1, Entry: -1, Request: part.Example, Family: part.ExampleFamily, Unspecified: part.Unspecified, part: part, space: sp}
		d.Example = RequestText(part.Example, part.ExampleFamily)
		d.Covers = part.summary()
		f := part.ExampleFamily
		if f == 0 {
			f = famsOf(part.Example)
		}
		switch {
		case part.Unspecified:
			d.Kind, d.Entry = Narrower, part.Entry
			if ps.checkWitness(part.Example, f) || cfg.Decide(part.Example).Families()&f == 0 {
				return nil, fmt.Errorf("internal error: witness %q does not show an unspecified destination", d.Example)
			}
			d.Diagnostic = diag.Diagnostic{ID: IDImportNarrower, Severity: diag.Info, Range: entryRange(cfg, d.Entry),
				Summary: fmt.Sprintf("%s also allows %s, which capspec always denies: a connect or send to an unspecified address", t.name, d.Example),
				Detail: fmt.Sprintf("through %s, %s allows %s; on Linux these reach this host, so capspec denies them whatever the rules say (one info for the whole import; it does not make the import inexact)",
					entriesText(t.name, cfg, part.entries), t.name, d.Covers)}
		case part.Side == OnlyA, part.Side == MappedA:
			d.Kind, d.Rule = Wider, part.Entry
			if es := im.FlagEntries[part.Entry]; len(es) > 0 {
				d.Entry = es[0]
			}
			if !ps.checkWitness(part.Example, f) || cfg.Decide(part.Example).Families()&f != 0 {
				return nil, fmt.Errorf("internal error: witness %q does not show a wider part", d.Example)
			}
			d.Diagnostic = diag.Diagnostic{ID: IDImportWider, Severity: diag.Warning, Range: entryRange(cfg, d.Entry),
				Summary: fmt.Sprintf("the capspec flags allow %s, which %s does not", d.Example, t.name),
				Detail:  fmt.Sprintf("%s allows %s", im.Flags[part.Entry], d.Covers)}
		case part.Side == OnlyB:
			d.Kind, d.Entry = Narrower, part.Entry
			if ps.checkWitness(part.Example, f) || cfg.Decide(part.Example).Families()&f == 0 {
				return nil, fmt.Errorf("internal error: witness %q does not show a narrower part", d.Example)
			}
			d.Diagnostic = diag.Diagnostic{ID: IDImportNarrower, Severity: diag.Info, Range: entryRange(cfg, d.Entry),
				Summary: fmt.Sprintf("capspec cannot say what %s allows here: %s", t.name, d.Example),
				Detail:  fmt.Sprintf("%s entry %q allows %s", t.name, cfg.Entries[part.Entry].Text, d.Covers)}
		}
		im.Differences = append(im.Differences, d)
	}
	return im, nil
}

func entryRange(c *Config, i int) diag.Range {
	if i < 0 || i >= len(c.Entries) {
		return diag.Range{}
	}
	return c.Entries[i].Range
}

// Covered reports whether a request in family f falls in a cell the
// comparison decided.
func (im *Import) Covered(q eval.Request, f policy.Families) bool {
	if !normalizeRequest(&q) {
		return false
	}
	_, ok := im.space.cellOf(q, f)
	return ok
}
