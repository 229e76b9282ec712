package lint

import "github.com/capspec/capspec/diag"

var impliedResolveRule = Rule{
	ID:       "CS304",
	Name:     "implied-resolve",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "an explicit resolve rule already implied by an outbound rule; fix: delete",
		Rationale: `An outbound rule to a name or wildcard implies the resolve rule for the same
pattern, family and host mapping (SPEC §3.4). An explicit resolve rule that
such an implied resolve already covers adds nothing; the fix deletes it.`,
		Bad: `--allow-resolve=example.com
--allow-outbound=tcp://example.com:443
`,
		Good: `--allow-resolve=example.org
--allow-outbound=tcp://example.com:443
`,
	},
	Run: runImpliedResolve,
}

func runImpliedResolve(p *Pass) {
	p.reportRedundant(p.redundancies().implied, func(x redundant) string {
		return "this resolve is implied by the outbound rule at " + where(x.by.ImpliedBy.Source)
	})
}
