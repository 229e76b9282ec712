package lint

import "github.com/capspec/capspec/diag"

// badMappingRule is reported by package grammar while parsing; it has no Run.
var badMappingRule = Rule{
	ID:       "CS009",
	Name:     "bad-mapping",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "mapping from a wildcard, an IP or a list; sides of different sizes; '*' in a mapping; a host mapping on an inbound rule",
		Rationale: `A host mapping name->ip makes one exact name resolve to one address; a port
mapping A->B maps one port or one range onto one of the same size. Anything
else has no single meaning.`,
		Bad:  "--allow-outbound=tcp://*.example.com->10.0.0.1:80\n",
		Good: "--allow-outbound=tcp://db.example.com->10.0.0.1:80\n",
	},
}
