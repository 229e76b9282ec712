package lint

import "github.com/capspec/capspec/diag"

var duplicateRuleRule = Rule{
	ID:       "CS301",
	Name:     "duplicate-rule",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "the same rule twice; fix: delete",
		Rationale: `A rule that grants exactly what an earlier rule grants (however it is spelled)
adds nothing, and makes a later edit of one copy ineffective. The fix deletes
the later copy.`,
		Bad: `--allow-outbound=tcp://example.com:443
--allow-outbound=TCP://Example.com.:443
`,
		Good: `--allow-outbound=tcp://example.com:443
--allow-outbound=tcp://example.org:443
`,
	},
	Run: runDuplicateRule,
}

func runDuplicateRule(p *Pass) {
	p.reportRedundant(p.redundancies().duplicates, func(x redundant) string {
		return "duplicate of the rule at " + where(x.by.Source)
	})
}
