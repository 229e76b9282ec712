package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
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
	for _, r := range p.Policy.Rules {
		if r.Kind() != ast.Outbound {
			continue
		}
		switch {
		case r.Ellipsis != nil:
			p.Reportf(r.Range(r.Ellipsis), nil, "%s://... allows %s to any address on any port", r.Protocol(), outboundWhat(r.Protocol()))
		case r.Host.Kind == ast.HostAny:
			p.Reportf(r.Range(r.Host), nil, "* allows %s to any address", outboundWhat(r.Protocol()))
		case r.Host.Kind == ast.HostCIDR && r.Host.Prefix.Bits() == 0:
			p.Reportf(r.Range(r.Host), nil, "%s allows %s connections to any %s address", r.Host.Raw, r.Protocol(), familyName(r.Host.Prefix.Addr().Is4()))
		}
	}
}

// familyName returns "IPv4" or "IPv6".
func familyName(is4 bool) string {
	if is4 {
		return "IPv4"
	}
	return "IPv6"
}

// outboundWhat names what an outbound rule of a protocol allows.
func outboundWhat(p ast.Protocol) string {
	if p == ast.UDP {
		return "UDP datagrams"
	}
	return "TCP connections"
}
