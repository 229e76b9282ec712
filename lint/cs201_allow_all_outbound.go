package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var allowAllOutboundRule = Rule{
	ID:               "CS201",
	Name:             "allow-all-outbound",
	Severity:         diag.Warning,
	SecuritySeverity: 6.5,
	Doc: Doc{
		Summary: "outbound to any address (*, ..., 0.0.0.0/0 or [::/0]) on any port set",
		Rationale: `An outbound rule whose host is * (or the ... form, or a /0 network) lets the
guest connect to every address: the internal network, the host itself, cloud
metadata services and the whole internet. Name the hosts or networks the guest
needs; a name rule also lets it resolve them.`,
		Bad:  "--allow-outbound=tcp://*:443\n",
		Good: "--allow-outbound=tcp://api.example.com:443\n",
	},
	Run: runAllowAllOutbound,
}

func runAllowAllOutbound(p *Pass) {
	for _, r := range p.Rules() {
		if r.Kind != ast.Outbound {
			continue
		}
		switch {
		case r.Host.Kind == policy.AnyHost && r.Source.Ellipsis != nil:
			p.reportAt(r, hostNode(r), "%s allows %s to any %saddress on any port", hostText(r), outboundWhat(r.Protocol), r.Families.Adjective())
		case r.Host.Kind == policy.AnyHost:
			p.reportAt(r, hostNode(r), "%s allows %s to any %saddress", hostText(r), outboundWhat(r.Protocol), r.Families.Adjective())
		case r.Host.Kind == policy.AddressHost && r.Host.Prefix.Bits() == 0:
			p.reportAt(r, hostNode(r), "%s allows %s to any %saddress", hostText(r), outboundWhat(r.Protocol), policy.FamilyOf(r.Host.Prefix.Addr()).Adjective())
		}
	}
}

// outboundWhat names what an outbound rule of a protocol allows.
func outboundWhat(p ast.Protocol) string {
	if p == ast.UDP {
		return "UDP datagrams"
	}
	return "TCP connections"
}
