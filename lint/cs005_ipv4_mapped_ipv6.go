package lint

import "github.com/capspec/capspec/diag"

// ipv4MappedIPv6Rule is reported by package grammar while parsing; it has no Run.
var ipv4MappedIPv6Rule = Rule{
	ID:       "CS005",
	Name:     "ipv4-mapped-ipv6",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "an IPv4-mapped IPv6 address ([::ffff:a.b.c.d]); fix: the IPv4 form",
		Rationale: `An IPv4-mapped IPv6 address is an IPv4 address in disguise: requests to it are
decided as IPv4. Write the IPv4 form so that the rule says what it grants.`,
		Bad:  "--allow-outbound=tcp://[::ffff:10.0.0.1]:80\n",
		Good: "--allow-outbound=tcp://10.0.0.1:80\n",
	},
}
