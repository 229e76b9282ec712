package policy

import (
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/literal"
)

// Policy is a compiled policy: its rules in order, and the resolve rules in
// effect, explicit and implied.
type Policy struct {
	// Rules are the compiled rules in the order of their flags. Rules[i].Index == i.
	Rules []*Rule
	// Resolves are the resolve rules in effect, in the order of Rules:
	// every explicit resolve rule, and after each outbound rule to a name
	// or wildcard the resolve rule it implies (§3.4).
	Resolves []*Rule
}

// Compile compiles the rules of one or more parsed policies, in order, into
// one Policy. Rules the grammar rejected are not in an ast.Policy, so every
// rule compiles; the diagnostics are the conflicts between rules (CS101
// mapping-conflict), which make the policy unusable as written.
func Compile(ps ...*ast.Policy) (*Policy, []diag.Diagnostic) {
	n := 0
	for _, ap := range ps {
		if ap != nil {
			n += len(ap.Rules)
		}
	}
	p := &Policy{Rules: make([]*Rule, 0, n), Resolves: make([]*Rule, 0, n)}
	for _, ap := range ps {
		if ap == nil {
			continue
		}
		for _, ar := range ap.Rules {
			r := CompileRule(ar)
			r.Index = len(p.Rules)
			p.Rules = append(p.Rules, r)
			switch {
			case r.Kind == ast.Resolve:
				p.Resolves = append(p.Resolves, r)
			case r.Kind == ast.Outbound && r.Host.Kind.IsName():
				r.implied = r.ImpliedResolve()
				p.Resolves = append(p.Resolves, r.implied)
			}
		}
	}
	return p, p.conflicts()
}

// CompileRule gives one parsed rule its meaning. The rule's Index is its
// index in its ast.Policy; Compile renumbers it.
func CompileRule(ar *ast.Rule) *Rule {
	b := &ruleBlock{sources: [1]*ast.Rule{ar}}
	r := &b.rule
	*r = Rule{Kind: ar.Kind(), Protocol: ar.Protocol(), Families: FamiliesOf(ar.FamilyValue()),
		Index: ar.Index, Source: ar, Sources: b.sources[:]}
	outbound := r.Kind == ast.Outbound
	if ar.Ellipsis != nil {
		r.Host = Host{Kind: AnyHost}
		r.Ports = AllPorts(outbound)
		return r
	}
	if h := ar.Host; h != nil {
		switch h.Kind {
		case ast.HostAny:
			r.Host = Host{Kind: AnyHost}
		case ast.HostWildcard:
			r.Host = Host{Kind: WildcardHost, Name: h.Name}
		case ast.HostDomain:
			r.Host = Host{Kind: NameHost, Name: h.Name}
		case ast.HostLocalhost:
			r.Host = Host{Kind: LocalhostHost, Name: literal.Localhost}
		case ast.HostInterface:
			r.Host = Host{Kind: InterfaceHost, Name: h.Iface}
		case ast.HostIPv4, ast.HostIPv6:
			a := h.Addr.WithZone("")
			if r.Kind == ast.Inbound && a.IsUnspecified() {
				// Inbound 0.0.0.0 is *#ipv4-only, [::] is *#ipv6-only.
				r.Host = Host{Kind: AnyHost}
				r.Families &= FamilyOf(a)
			} else {
				r.Host = Host{Kind: AddressHost, Prefix: netip.PrefixFrom(a, a.BitLen())}
			}
		case ast.HostCIDR:
			r.Host = Host{Kind: AddressHost, Prefix: h.Prefix.Masked()}
		}
	}
	if ar.HostMap != nil {
		r.HostMap = ar.HostMap.Addr.WithZone("")
	}
	r.Families &= r.ImpliedFamilies()
	if pl := ar.Ports; pl != nil {
		if pl.Any {
			r.Ports = AllPorts(outbound)
		} else {
			rs := b.ports[:]
			if len(pl.Items) > 1 {
				rs = make([]PortRange, len(pl.Items))
			}
			for i, it := range pl.Items {
				rs[i] = PortRange{uint16(it.Lo), uint16(it.Hi)}
			}
			r.Ports = normalizePorts(rs)
		}
	}
	if pm := ar.PortMap; pm != nil && pm.Item != nil && len(r.Ports) == 1 {
		r.PortMap = PortMapping{From: r.Ports[0], To: PortRange{uint16(pm.Item.Lo), uint16(pm.Item.Hi)}}
	}
	return r
}

// ruleBlock is a compiled rule with its source and, when it has one port
// range, its ports: what CompileRule allocates at once.
type ruleBlock struct {
	rule    Rule
	sources [1]*ast.Rule
	ports   [1]PortRange
}

// Rule returns the rule at index i, or nil.
func (p *Policy) Rule(i int) *Rule {
	if i < 0 || i >= len(p.Rules) {
		return nil
	}
	return p.Rules[i]
}

// OfKind returns the rules of one kind, in order. For ast.Resolve it
// returns the explicit resolve rules only; see Resolves for the implied ones.
func (p *Policy) OfKind(k ast.Kind) []*Rule {
	var out []*Rule
	for _, r := range p.Rules {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}
