package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
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
	for _, r := range p.Rules() {
		if r.Kind != ast.Inbound || r.Host.Kind != policy.AnyHost {
			continue
		}
		every := "every " + r.Families.Adjective() + "interface"
		if r.Source.Ellipsis != nil {
			p.reportAt(r, hostNode(r), "%s listens on %s, on any port", hostText(r), every)
			continue
		}
		p.reportAt(r, hostNode(r), "%s listens on %s: the guest is reachable from every network this host is on", hostText(r), every)
	}
}
