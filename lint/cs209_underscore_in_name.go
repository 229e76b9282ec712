package lint

import (
	"strings"

	"github.com/capspec/capspec/diag"
)

var underscoreInNameRule = Rule{
	ID:       "CS209",
	Name:     "underscore-in-name",
	Severity: diag.Warning,
	Doc: Doc{
		Summary: "'_' in a hostname label",
		Rationale: `Hostnames are letters, digits and '-' (RFC 952, RFC 1123). '_' is valid in DNS
records such as _sip._tcp.example.com, but not in the name of a host: some
resolvers and TLS libraries reject such names, so a rule for one may never
match. capspec accepts the name and warns.`,
		Bad:  "--allow-outbound=tcp://my_service.example.com:443\n",
		Good: "--allow-outbound=tcp://my-service.example.com:443\n",
	},
	Run: runUnderscoreInName,
}

func runUnderscoreInName(p *Pass) {
	for _, r := range p.Policy.Rules {
		if r.Host == nil || !r.Host.Kind.IsName() {
			continue
		}
		raw := r.Host.Raw
		i := strings.IndexByte(raw, '_')
		if i < 0 {
			continue
		}
		// The range is the label holding the first underscore.
		s := strings.LastIndexByte(raw[:i], '.') + 1
		e := strings.IndexByte(raw[i:], '.')
		if e < 0 {
			e = len(raw)
		} else {
			e += i
		}
		p.Reportf(r.RangeOf(r.Host.Start+s, r.Host.Start+e), nil, "label %q has an underscore, which is not valid in a hostname", raw[s:e])
	}
}
