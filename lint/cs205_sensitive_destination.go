package lint

import (
	"net/netip"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/prose"
	"github.com/capspec/capspec/policy"
)

var sensitiveDestinationRule = Rule{
	ID:               "CS205",
	Name:             "sensitive-destination",
	Severity:         diag.Warning,
	SecuritySeverity: 8.0,
	Doc: Doc{
		Summary: "outbound that covers loopback, link-local, the cloud metadata address 169.254.169.254 or the unspecified address (including through *, a CIDR or localhost)",
		Rationale: `Loopback addresses reach services of the host the guest runs on; link-local
addresses reach the local segment and, at 169.254.169.254 (and [fd00:ec2::254]),
the instance metadata service of most clouds, which hands out credentials; and
on Linux a connect to the unspecified address (0.0.0.0/8, [::]) reaches the
host itself (capspec denies such requests whatever the rules say). A rule that
reaches them — directly, through localhost or a name below it, through a name
mapped to one of them, through a CIDR that overlaps them, or through * — lets a
guest escape its sandbox through the host's own services. The check is made on
what the rule means, however it is spelled (ｌｏｃａｌｈｏｓｔ is localhost).
Allow the specific addresses the guest needs, outside these ranges.`,
		Bad:  "--allow-outbound=tcp://169.254.0.0/16:80\n",
		Good: "--allow-outbound=tcp://10.20.0.0/16:80\n",
	},
	Run: runSensitiveDestination,
}

func runSensitiveDestination(p *Pass) {
	// What "*" or localhost reaches depends on the families alone:
	// described once for each, not once for each of a hundred thousand
	// rules to "*". (Networks are described rule by rule: they differ.)
	type reach struct {
		kind policy.HostKind
		fams policy.Families
	}
	hits := map[reach]string{}
	for _, r := range p.Rules() {
		if r.Kind != ast.Outbound {
			continue
		}
		var covers func(netip.Prefix) bool
		key := reach{kind: r.Host.Kind, fams: r.Families}
		switch h := r.Host; {
		case h.Kind == policy.AnyHost:
			covers = func(netip.Prefix) bool { return true }
		case h.Kind == policy.AddressHost:
			covers = func(q netip.Prefix) bool { return q.Overlaps(h.Prefix) }
		case h.Kind == policy.LocalhostHost || h.Kind.IsName() && policy.IsLocalhostName(h.Name):
			key.kind = policy.LocalhostHost
			covers = func(q netip.Prefix) bool { return policy.IsLoopback(q.Addr()) }
		}
		var hit string
		if covers != nil {
			known, ok := hits[key]
			if !ok {
				known = sensitiveCovered(r.Families, covers)
				if key.kind != policy.AddressHost {
					hits[key] = known
				}
			}
			hit = known
		}
		if hit != "" {
			p.reportAt(r, hostNode(r), "%s reaches %s", hostText(r), hit)
			continue
		}
		if a := r.HostMap; a.IsValid() {
			if hit := sensitiveCovered(r.Families, func(q netip.Prefix) bool { return q.Contains(a) }); hit != "" {
				p.reportAt(r, r.Source.HostMap, "%s is mapped to %s, which is %s", hostText(r), r.Source.HostMap.Raw, hit)
			}
		}
	}
}

// sensitiveCovered describes the sensitive classes (policy.SensitiveClasses)
// of the families fam for which covers holds, e.g. "loopback (127.0.0.0/8)
// and link-local (169.254.0.0/16)", or returns "".
func sensitiveCovered(fam policy.Families, covers func(netip.Prefix) bool) string {
	var parts []string
	for _, class := range policy.SensitiveClasses() {
		var ps []string
		for _, q := range class.Prefixes {
			if !fam.Has(policy.FamilyOf(q.Addr())) || !covers(q) {
				continue
			}
			if q.IsSingleIP() {
				ps = append(ps, q.Addr().String())
			} else {
				ps = append(ps, q.String())
			}
		}
		if len(ps) > 0 {
			parts = append(parts, class.What+" ("+strings.Join(ps, ", ")+")")
		}
	}
	return prose.JoinAnd(parts)
}
