package grammar

import (
	"fmt"
	"strings"

	"github.com/capspec/capspec/ast"
)

// summary describes a rule's meaning-bearing parts in one line, for tables:
// "KIND PROTO HOST[->MAP] PORTS[->MAP] FAMILY", "-" for a missing part.
func summary(r *ast.Rule) string {
	proto := r.Protocol().String()
	if proto == "" {
		proto = "-"
	}
	host := "-"
	switch {
	case r.Ellipsis != nil:
		host = "..."
	case r.Host != nil:
		h := r.Host
		switch h.Kind {
		case ast.HostAny:
			host = "any"
		case ast.HostLocalhost:
			host = "localhost"
		case ast.HostWildcard, ast.HostDomain:
			host = fmt.Sprintf("%s(%s)", h.Kind, h.Name)
		case ast.HostInterface:
			host = "iface(" + h.Iface + ")"
		case ast.HostIPv4, ast.HostIPv6:
			host = fmt.Sprintf("%s(%s)", h.Kind, h.Addr)
		case ast.HostCIDR:
			host = fmt.Sprintf("cidr(%s)", h.Prefix)
		}
	}
	if r.HostMap != nil {
		host += "->" + r.HostMap.Addr.String()
	}
	ports := "-"
	if r.Ports != nil {
		if r.Ports.Any {
			ports = "*"
		} else {
			var parts []string
			for _, it := range r.Ports.Items {
				parts = append(parts, portText(it))
			}
			ports = strings.Join(parts, ",")
		}
	}
	if r.PortMap != nil {
		ports += "->" + portText(r.PortMap.Item)
	}
	fam := r.FamilyValue().String()
	if fam == "" {
		fam = "-"
	}
	return strings.Join([]string{r.Kind().String(), proto, host, ports, fam}, " ")
}

func portText(it *ast.PortItem) string {
	if it.Lo == it.Hi {
		return fmt.Sprint(it.Lo)
	}
	return fmt.Sprintf("%d-%d", it.Lo, it.Hi)
}
