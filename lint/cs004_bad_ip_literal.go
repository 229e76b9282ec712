package lint

import "github.com/capspec/capspec/diag"

// badIPLiteralRule is reported by package grammar while parsing; it has no Run.
var badIPLiteralRule = Rule{
	ID:       "CS004",
	Name:     "bad-ip-literal",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "leading zeros, legacy numeric IPv4 forms, dotted name that is no valid IPv4, zone index, unbracketed IPv6",
		Rationale: `IPv4 addresses are four decimal octets without leading zeros; other forms
(010.0.0.1, 0x7f.1, 2130706433, 127.1) are read differently by different
libraries, some as octal, so a policy could grant another address than the one
its author read. IPv6 addresses go in brackets, without a zone index.`,
		Bad:  "--allow-outbound=tcp://010.0.0.1:80\n",
		Good: "--allow-outbound=tcp://10.0.0.1:80\n",
	},
}
