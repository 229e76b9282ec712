package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var privilegedInboundPortRule = Rule{
	ID:       "CS206",
	Name:     "privileged-inbound-port",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "inbound port below 1024 without a mapping (the host needs privileges to bind it)",
		Rationale: `The host binds the port an inbound rule names (or, with a mapping, the host-side
port). Ports 1 to 1023 are privileged on most systems: the runtime needs root or
CAP_NET_BIND_SERVICE to bind them, and will fail without. Map the guest port to
an unprivileged host port (tcp://localhost:80->8080). Port 0 (a port the system
picks) and * (any port) are not reported.`,
		Bad:  "--allow-inbound=tcp://localhost:80\n",
		Good: "--allow-inbound=tcp://localhost:80->8080\n",
	},
	Run: runPrivilegedInboundPort,
}

func runPrivilegedInboundPort(p *Pass) {
	for _, r := range p.Rules() {
		if r.Kind != ast.Inbound {
			continue
		}
		// The port the host binds: the host side of a mapping, or the
		// guest port. "*" (any port) is not reported.
		side, bound := "port", r.Ports
		if r.PortMap.IsMapped() {
			side, bound = "host port", policy.Ports(r.PortMap.To)
		} else if r.Ports.Equal(policy.AllPorts(false)) {
			continue
		}
		if bound.Intersect(privilegedPorts).IsEmpty() || r.Source.Ports == nil {
			continue
		}
		items := r.Source.Ports.Items
		if r.PortMap.IsMapped() {
			items = []*ast.PortItem{r.Source.PortMap.Item}
		}
		for _, it := range items {
			if it.Hi < 1 || it.Lo > 1023 {
				continue
			}
			if it.Lo == it.Hi {
				p.reportAt(r, it, "%s %d is privileged: the host needs root or CAP_NET_BIND_SERVICE to bind it", side, it.Lo)
			} else {
				p.reportAt(r, it, "%ss %d-%d include privileged ports (below 1024): the host needs root or CAP_NET_BIND_SERVICE to bind them", side, it.Lo, it.Hi)
			}
		}
	}
}

// privilegedPorts are the ports only a privileged process may bind.
var privilegedPorts = policy.Ports(policy.PortRange{Lo: 1, Hi: 1023})
