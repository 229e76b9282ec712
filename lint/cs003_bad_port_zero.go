package lint

import "github.com/capspec/capspec/diag"

// badPortZeroRule is reported by package grammar while parsing; it has no Run.
var badPortZeroRule = Rule{
	ID:       "CS003",
	Name:     "bad-port-zero",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "port 0 outside a lone inbound port, or in a mapping",
		Rationale: `Port 0 means "a port the system chooses". That only makes sense for a listen
or bind, alone (tcp://*:0): it is no destination for an outbound rule, and it
cannot be part of a list, a range or a port mapping.`,
		Bad:  "--allow-outbound=tcp://example.com:0\n",
		Good: "--allow-inbound=tcp://*:0\n",
	},
}
