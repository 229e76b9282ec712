package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
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
	for _, r := range p.Policy.Rules {
		if r.Kind() != ast.Inbound || r.Ports == nil {
			continue
		}
		items := r.Ports.Items
		if r.PortMap != nil {
			items = []*ast.PortItem{r.PortMap.Item}
		}
		for _, it := range items {
			if it.Hi < 1 || it.Lo > 1023 {
				continue
			}
			side := "port"
			if r.PortMap != nil {
				side = "host port"
			}
			if it.Lo == it.Hi {
				p.Reportf(r.Range(it), nil, "%s %d is privileged: the host needs root or CAP_NET_BIND_SERVICE to bind it", side, it.Lo)
			} else {
				p.Reportf(r.Range(it), nil, "%ss %s include privileged ports (below 1024): the host needs root or CAP_NET_BIND_SERVICE to bind them", side, it.Raw)
			}
		}
	}
}
