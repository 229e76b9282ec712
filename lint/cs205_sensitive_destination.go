package lint

import (
	"net/netip"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
)

var sensitiveDestinationRule = Rule{
	ID:               "CS205",
	Name:             "sensitive-destination",
	Severity:         diag.Warning,
	SecuritySeverity: 8.0,
	Doc: Doc{
		Summary: "outbound that covers loopback, link-local or the cloud metadata address 169.254.169.254 (including through *, a CIDR or localhost)",
		Rationale: `Loopback addresses reach services of the host the guest runs on; link-local
addresses reach the local segment and, at 169.254.169.254 (and [fd00:ec2::254]),
the instance metadata service of most clouds, which hands out credentials. A
rule that reaches them — directly, through localhost, through a name mapped to
one of them, through a CIDR that overlaps them, or through * — lets a guest
escape its sandbox through the host's own services. Allow the specific
addresses the guest needs, outside these ranges.`,
		Bad:  "--allow-outbound=tcp://169.254.0.0/16:80\n",
		Good: "--allow-outbound=tcp://10.20.0.0/16:80\n",
	},
	Run: runSensitiveDestination,
}

// sensitiveRange is a kind of address an outbound rule should not reach
// by accident.
type sensitiveRange struct {
	what     string
	prefixes []netip.Prefix
}

var sensitiveRanges = [...]sensitiveRange{
	{"loopback", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}},
	{"link-local", []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10")}},
	{"the cloud metadata address", []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("fd00:ec2::254/128")}},
}

func runSensitiveDestination(p *Pass) {
	for _, r := range p.Policy.Rules {
		if r.Kind() != ast.Outbound {
			continue
		}
		fam := r.FamilyValue()
		var node ast.Node
		var hit string
		switch {
		case r.Ellipsis != nil:
			node, hit = r.Ellipsis, sensitiveCovered(fam, func(netip.Prefix) bool { return true })
		case r.Host.Kind == ast.HostAny:
			node, hit = r.Host, sensitiveCovered(fam, func(netip.Prefix) bool { return true })
		case r.Host.Kind == ast.HostIPv4 || r.Host.Kind == ast.HostIPv6:
			a := r.Host.Addr
			node, hit = r.Host, sensitiveCovered(fam, func(q netip.Prefix) bool { return q.Contains(a) })
		case r.Host.Kind == ast.HostCIDR:
			pf := r.Host.Prefix
			node, hit = r.Host, sensitiveCovered(fam, func(q netip.Prefix) bool { return q.Overlaps(pf) })
		case r.Host.Kind == ast.HostLocalhost || r.Host.Kind.IsName() && strings.HasSuffix(r.Host.Name, ".localhost"):
			node, hit = r.Host, sensitiveCovered(fam, func(q netip.Prefix) bool { return q.Addr().IsLoopback() })
		}
		if hit != "" {
			p.Reportf(r.Range(node), nil, "%s reaches %s", hostText(r), hit)
			continue
		}
		if r.HostMap != nil {
			a := r.HostMap.Addr
			if hit := sensitiveCovered(fam, func(q netip.Prefix) bool { return q.Contains(a) }); hit != "" {
				p.Reportf(r.Range(r.HostMap), nil, "%s is mapped to %s, which is %s", r.Host.Raw, r.HostMap.Raw, hit)
			}
		}
	}
}

// hostText returns the host part of an outbound rule as written.
func hostText(r *ast.Rule) string {
	if r.Ellipsis != nil {
		return r.Protocol().String() + "://..."
	}
	return r.Host.Raw
}

// sensitiveCovered describes the sensitive ranges of family fam for which
// covers holds, e.g. "loopback (127.0.0.0/8) and link-local
// (169.254.0.0/16)", or returns "".
func sensitiveCovered(fam ast.Family, covers func(netip.Prefix) bool) string {
	var parts []string
	for _, sr := range sensitiveRanges {
		var ps []string
		for _, q := range sr.prefixes {
			if fam == ast.IPv4Only && !q.Addr().Is4() || fam == ast.IPv6Only && q.Addr().Is4() {
				continue
			}
			if covers(q) {
				if q.IsSingleIP() {
					ps = append(ps, q.Addr().String())
				} else {
					ps = append(ps, q.String())
				}
			}
		}
		if len(ps) > 0 {
			parts = append(parts, sr.what+" ("+strings.Join(ps, ", ")+")")
		}
	}
	return joinAnd(parts)
}

// joinAnd joins words as "a", "a and b", "a, b and c".
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
