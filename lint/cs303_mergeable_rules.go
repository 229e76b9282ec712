package lint

import (
	"fmt"
	"slices"

	"github.com/capspec/capspec/ast"

	"github.com/capspec/capspec/diag"
)

var mergeableRulesRule = Rule{
	ID:       "CS303",
	Name:     "mergeable-rules",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "rules that merge into one (SPEC §4.3); fix: merge",
		Rationale: `Rules of the same kind, protocol, host, family and mappings differ only in
their ports and read better as one rule; so do rules equal but for #ipv4-only
and #ipv6-only, and address rules whose networks aggregate into fewer prefixes.
The fix writes the merged rule in place of the first and deletes the others.`,
		Bad: `--allow-outbound=tcp://example.com:80
--allow-outbound=tcp://example.com:443
`,
		Good: `--allow-outbound=tcp://example.com:80,443
--allow-outbound=udp://example.com:443
`,
	},
	Run: runMergeableRules,
}

func runMergeableRules(p *Pass) {
	for _, m := range p.redundancies().merges {
		srcs := slices.Clone(m.Sources)
		slices.SortFunc(srcs, func(a, b *ast.Rule) int { return a.Index - b.Index })
		first := p.Flag(srcs[0])
		if first == nil {
			continue
		}
		text := m.String()
		edits := replaceRuleValue(p.Input, first, text)
		for _, s := range srcs[1:] {
			if f := p.Flag(s); f != nil {
				edits = append(edits, deleteFlag(p.Input, f)...)
			}
		}
		p.Report(diag.Diagnostic{
			Range:   srcs[0].Range(srcs[0]),
			Summary: fmt.Sprintf("%d rules merge into one: %s", len(srcs), text),
			Detail:  "the others are at " + sourceList(srcs[1:]),
			Fixes:   []diag.Fix{{Message: "merge into " + text, Edits: edits}},
		})
	}
}
