package lint

import "github.com/capspec/capspec/diag"

// portOutOfRangeRule is reported by package grammar while parsing; it has no Run.
var portOutOfRangeRule = Rule{
	ID:       "CS002",
	Name:     "port-out-of-range",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "port above 65535, or a range with low > high",
		Rationale: `Ports are 16-bit numbers from 0 to 65535, and a range lo-hi needs lo <= hi.
A runtime cannot grant a port that does not exist; an inverted range usually
means the two ends were swapped.`,
		Bad:  "--allow-outbound=tcp://example.com:70000\n",
		Good: "--allow-outbound=tcp://example.com:7000\n",
	},
}
