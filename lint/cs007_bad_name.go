package lint

import "github.com/capspec/capspec/diag"

// badNameRule is reported by package grammar while parsing; it has no Run.
var badNameRule = Rule{
	ID:       "CS007",
	Name:     "bad-name",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "label too long, name too long, empty label, leading/trailing '-', invalid IDN",
		Rationale: `A DNS name is made of labels of 1 to 63 octets, 253 octets at most, that do not
start or end with '-'; non-ASCII labels must be valid IDNA2008. A name that
breaks these rules can never be looked up, so the rule grants nothing.`,
		Bad:  "--allow-resolve=-bad.example.com\n",
		Good: "--allow-resolve=good.example.com\n",
	},
}
