package lint

import "github.com/capspec/capspec/diag"

// badWildcardRule is reported by package grammar while parsing; it has no Run.
var badWildcardRule = Rule{
	ID:       "CS008",
	Name:     "bad-wildcard",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "wildcard other than a leading '*.' or a lone '*'",
		Rationale: `Only "*" (everything) and "*.domain" (every name below domain) are patterns.
a*.example.com, a.*.com and example.* are not: capspec does not guess what they
would mean.`,
		Bad:  "--allow-resolve=api.*.example.com\n",
		Good: "--allow-resolve=*.example.com\n",
	},
}
