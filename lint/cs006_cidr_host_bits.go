package lint

import "github.com/capspec/capspec/diag"

// cidrHostBitsRule is reported by package grammar while parsing; it has no Run.
var cidrHostBitsRule = Rule{
	ID:       "CS006",
	Name:     "cidr-host-bits",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "a CIDR with host bits set below the mask; fix: the network address",
		Rationale: `10.1.2.3/8 names the network 10.0.0.0/8, not the address 10.1.2.3. The host
bits are most often a sign that a single address (/32) or a smaller network was
meant; the fix writes the network the rule really grants.`,
		Bad:  "--allow-outbound=tcp://10.1.2.3/8:443\n",
		Good: "--allow-outbound=tcp://10.0.0.0/8:443\n",
	},
}
