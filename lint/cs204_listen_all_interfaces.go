package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
)

var listenAllInterfacesRule = Rule{
	ID:               "CS204",
	Name:             "listen-all-interfaces",
	Severity:         diag.Warning,
	SecuritySeverity: 5.5,
	Doc: Doc{
		Summary: "inbound on * (every interface), including 0.0.0.0 and [::]",
		Rationale: `Listening on every interface exposes the guest to every network the host is
on, not just to local clients. Listen on localhost when only this machine
should connect, or on the interface that faces the clients. Inbound 0.0.0.0 and
[::] mean every IPv4 and every IPv6 interface and are reported too.`,
		Bad:  "--allow-inbound=tcp://*:8080\n",
		Good: "--allow-inbound=tcp://localhost:8080\n",
	},
	Run: runListenAllInterfaces,
}

func runListenAllInterfaces(p *Pass) {
	for _, r := range p.Policy.Rules {
		if r.Kind() != ast.Inbound {
			continue
		}
		switch {
		case r.Ellipsis != nil:
			p.Reportf(r.Range(r.Ellipsis), nil, "%s://... listens on every interface, on any port", r.Protocol())
		case r.Host.Kind == ast.HostAny:
			p.Reportf(r.Range(r.Host), nil, "* listens on every interface: the guest is reachable from every network this host is on")
		case (r.Host.Kind == ast.HostIPv4 || r.Host.Kind == ast.HostIPv6) && r.Host.Addr.IsUnspecified():
			p.Reportf(r.Range(r.Host), nil, "%s listens on every %s interface: the guest is reachable from every network this host is on", r.Host.Raw, familyName(r.Host.Addr.Is4()))
		}
	}
}
