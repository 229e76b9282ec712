package lint

import (
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var inboundDomainLikeRule = Rule{
	ID:       "CS208",
	Name:     "inbound-domain-like",
	Severity: diag.Warning,
	Doc: Doc{
		Summary: "inbound host that looks like a domain name, not an interface",
		Rationale: `In an inbound rule a name is always an interface name (eth0, wlan0, or a VLAN
interface such as eth0.100), never a domain: tcp://example.com:80 listens on an
interface called "example.com", which almost certainly does not exist, so the
rule grants nothing. A name is reported when it has a dot and its last label is
all letters, as top-level domains are. To listen on the address a domain
resolves to, write that address; to listen on loopback, write localhost.`,
		Bad:  "--allow-inbound=tcp://api.example.com:8080\n",
		Good: "--allow-inbound=tcp://eth0.100:8080\n",
	},
	Run: runInboundDomainLike,
}

func runInboundDomainLike(p *Pass) {
	for _, r := range p.Rules() {
		if r.Kind != ast.Inbound || r.Host.Kind != policy.InterfaceHost {
			continue
		}
		if domainLike(r.Host.Name) {
			p.reportAt(r, hostNode(r), "%q looks like a domain, but an inbound host is an interface name: this listens on an interface called %q", r.Host.Name, r.Host.Name)
		}
	}
}

// domainLike reports whether an interface name looks like a domain: it
// has a dot and its last label is two or more letters.
func domainLike(s string) bool {
	i := strings.LastIndexByte(s, '.')
	if i < 0 || len(s)-i-1 < 2 {
		return false
	}
	for _, c := range s[i+1:] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
