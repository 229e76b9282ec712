package lint

import (
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
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
	for _, r := range p.Rules() {
		if !r.Host.Kind.IsName() || !strings.Contains(r.Host.Name, "_") {
			continue
		}
		// The range is the label holding the first underscore, found by
		// its place among the labels, however they are spelled.
		h := r.Source.Host
		base := h.Start
		if r.Host.Kind == policy.WildcardHost {
			base += len("*.")
		}
		labels := strings.Split(r.Host.Name, ".")
		spans := literal.LabelRanges(h.Raw[base-h.Start:])
		for i, l := range labels {
			if !strings.Contains(l, "_") {
				continue
			}
			rg := r.Source.Range(h)
			if i < len(spans) {
				rg = r.Source.RangeOf(base+spans[i][0], base+spans[i][1])
			}
			p.Reportf(rg, nil, "label %q has an underscore, which is not valid in a hostname", l)
			break
		}
	}
}
