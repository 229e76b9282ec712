package lint

import "github.com/capspec/capspec/diag"

// familyConflictRule is reported by package grammar while parsing; it has no Run.
var familyConflictRule = Rule{
	ID:       "CS010",
	Name:     "family-conflict",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "#ipv4-only with an IPv6 literal (or the reverse), or two family modifiers",
		Rationale: `A family modifier that contradicts the rule's address makes the rule grant
nothing, and two modifiers on one rule are at best redundant.`,
		Bad:  "--allow-outbound=tcp://10.0.0.1:80#ipv6-only\n",
		Good: "--allow-outbound=tcp://10.0.0.1:80\n",
	},
}
