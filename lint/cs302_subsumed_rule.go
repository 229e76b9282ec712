package lint

import "github.com/capspec/capspec/diag"

var subsumedRuleRule = Rule{
	ID:       "CS302",
	Name:     "subsumed-rule",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "everything the rule grants is granted by another rule; fix: delete",
		Rationale: `A rule whose whole grant (and implied resolve) another single rule already
gives can be deleted without changing what the policy allows. It often shows a
rule that was widened later, or a narrow rule kept "for documentation". The fix
deletes it.`,
		Bad: `--allow-outbound=tcp://*.example.com:*
--allow-outbound=tcp://api.example.com:443
`,
		Good: `--allow-outbound=tcp://*.example.com:80
--allow-outbound=tcp://api.example.com:443
`,
	},
	Run: runSubsumedRule,
}

func runSubsumedRule(p *Pass) {
	p.reportRedundant(p.redundancies().subsumed, func(x redundant) string {
		by := x.by
		if by.ImpliedBy != nil {
			by = by.ImpliedBy
		}
		return "everything this rule grants is granted by the rule at " + where(by.Source)
	})
}
