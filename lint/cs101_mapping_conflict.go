package lint

import "github.com/capspec/capspec/diag"

var mappingConflictRule = Rule{
	ID:       "CS101",
	Name:     "mapping-conflict",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "one name mapped to two IPs; two guest ports mapped onto one host port; one guest port mapped to two host ports",
		Rationale: `Mappings must be functions: a name the guest looks up answers one address, a
guest port the guest listens on or connects to is one host port, and one host
port serves one guest port. Two rules that map the same thing two ways leave
the runtime to pick one, so the policy cannot be used as written. Rules conflict
when one request can match both: among outbound rules, also a rule to a name
that some rule maps (name->ip) and a mapping rule for a network holding that
address. An inbound interface and an address cannot be related without the
machine's interface table; there the more specific host wins (capspec eval).
The conflict is found when the policy is compiled; remove or change one of
the mappings.`,
		Bad: `--allow-inbound=tcp://*:80->8080
--allow-inbound=tcp://*:81->8080
`,
		Good: `--allow-inbound=tcp://*:80->8080
--allow-inbound=tcp://*:81->8081
`,
	},
	Run: runMappingConflict,
}

func runMappingConflict(p *Pass) {
	_, ds := p.compiled()
	for _, d := range ds {
		p.Report(d)
	}
}
