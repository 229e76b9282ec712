package evalreport

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// appliesReasons says why an outbound or inbound rule is not for the
// request's protocol, port or family f (noun names what is asked:
// "address", "connection", "listen"). It reports whether nothing more is
// to be said: the rule is for an address of another family.
func appliesReasons(r *policy.Rule, q eval.Request, f policy.Families, w *why, noun string) (done bool) {
	if proto := q.Op.Protocol(); r.Protocol != proto {
		w.proto = true
		if w.miss() {
			w.sayf("protocol %s, but the rule is %s", proto, r.Protocol)
		}
	}
	if !r.Ports.Contains(q.Port) && w.miss() {
		spelled := r.Ports.Spell(r.Kind == ast.Outbound)
		if q.Port == 0 && r.Kind == ast.Inbound {
			w.sayf("port 0 (chosen by the system) not in %s", spelled)
		} else {
			w.sayf("port %d not in %s", q.Port, spelled)
		}
	}
	if !r.Families.Has(f) {
		if w.miss() {
			w.says(familyMiss(r, f, noun))
		}
		return r.Host.Kind == policy.AddressHost
	}
	return false
}

// familyMiss says that a rule is not for family f; noun names what is
// asked ("address", "lookup", "connection", "listen").
func familyMiss(r *policy.Rule, f policy.Families, noun string) string {
	switch {
	case r.Host.Kind == policy.AddressHost:
		return fmt.Sprintf("%s %s but the rule is for the %s %s %s", f, noun, policy.FamilyOf(r.Host.Prefix.Addr()), hostNoun(r.Host), r.Host)
	case r.HostMap.IsValid():
		return fmt.Sprintf("%s %s but %s is mapped to the %s address %s", f, noun, r.Host.Name, policy.FamilyOf(r.HostMap), r.HostMap)
	case r.Source != nil && r.Source.Host != nil && r.Source.Host.Addr.IsUnspecified():
		return fmt.Sprintf("%s %s but the rule's %s means %s", f, noun, r.Source.Host.Raw, "*"+r.Families.Modifier())
	}
	return fmt.Sprintf("%s %s but rule is %s", f, noun, r.Families.Modifier())
}

// hostNoun names an address host: "address" or "network".
func hostNoun(h policy.Host) string {
	if h.Prefix.IsSingleIP() {
		return "address"
	}
	return "network"
}

// nameMiss says why a name host does not match name.
func nameMiss(h policy.Host, name string) string {
	switch h.Kind {
	case policy.WildcardHost:
		switch {
		case name == h.Name:
			return fmt.Sprintf("name %s: *.%s does not cover its apex", name, name)
		case strings.HasSuffix(name, h.Name):
			return fmt.Sprintf("name %s is not below %s (a wildcard matches whole labels)", name, h.Name)
		}
		return fmt.Sprintf("name %s is not below %s", name, h.Name)
	case policy.NameHost, policy.LocalhostHost:
		if policy.UnderDomain(name, h.Name) {
			return fmt.Sprintf("name %s is not %s (a subdomain needs *.%s)", name, h.Name, h.Name)
		}
		return fmt.Sprintf("name %s is not %s", name, h.Name)
	}
	return fmt.Sprintf("name %s does not match %s", name, h)
}

// joinAddrs lists addresses, "a, b", or says none.
func joinAddrs(as []netip.Addr, none string) string {
	if len(as) == 0 {
		return none
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}
