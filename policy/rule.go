package policy

import (
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
)

// PortMapping maps the guest ports From onto the host ports To, port by
// port (both ranges have the same size). The zero value is no mapping:
// port 0 can never be mapped.
type PortMapping struct {
	From, To PortRange
}

// IsMapped reports whether the mapping is set.
func (m PortMapping) IsMapped() bool { return m != PortMapping{} }

// Map returns the host port of guest port p (p must be in From).
func (m PortMapping) Map(p uint16) uint16 { return p - m.From.Lo + m.To.Lo }

// Offset returns To.Lo - From.Lo: two mappings with the same offset send
// every shared guest port to the same host port.
func (m PortMapping) Offset() int { return int(m.To.Lo) - int(m.From.Lo) }

// String writes "5432->5433" or "8000-8009->9000-9009".
func (m PortMapping) String() string { return m.From.String() + "->" + m.To.String() }

// Rule is one compiled rule: what a flag grants.
//
// Hosts are normalized: "..." is the host "*" with every port; an inbound
// 0.0.0.0 or [::] is "*" restricted to its family; an address is a /32 or
// /128 prefix. Families is the effective set of families: the modifier's,
// narrowed by what an address or a host mapping implies.
type Rule struct {
	Kind     ast.Kind
	Protocol ast.Protocol // ast.NoProtocol for resolve
	Host     Host
	// HostMap is the address an exact name resolves to ("name->ip"), or
	// the zero Addr.
	HostMap netip.Addr
	// Ports are the guest-side ports (nil for resolve). With a port
	// mapping they are exactly PortMap.From.
	Ports    PortSet
	PortMap  PortMapping
	Families Families
	// Index is the rule's position in its Policy.Rules; an implied resolve
	// has the index of the outbound rule that implies it.
	Index int
	// Source is the flag the rule was compiled from (the first of Sources);
	// nil for a rule made up by a caller.
	Source *ast.Rule
	// Sources are every flag the rule stands for: one, or several after a merge.
	Sources []*ast.Rule
	// ImpliedBy is, for an implied resolve rule, the outbound rule implying it.
	ImpliedBy *Rule
	// implied is the implied resolve Compile made (ImpliedResolve).
	implied *Rule
}

// IsImplied reports whether the rule is a resolve rule implied by an
// outbound rule (§3.4) rather than written.
func (r *Rule) IsImplied() bool { return r.ImpliedBy != nil }

// IsOutbound reports whether the rule is an outbound rule.
func (r *Rule) IsOutbound() bool { return r.Kind == ast.Outbound }

// Range returns the origin range of the rule's flag, or the zero Range.
func (r *Rule) Range() diag.Range {
	if r.Source == nil {
		return diag.Range{}
	}
	return r.Source.Range(r.Source)
}

// Text returns the flag as written, or its canonical spelling when the rule
// has no source.
func (r *Rule) Text() string {
	if r.Source == nil {
		return r.String()
	}
	return r.Source.Text
}

// ImpliedResolve returns the resolve rule an outbound rule to a name or
// wildcard implies: the same pattern, family and host mapping (§3.4). It is
// nil for other rules. The rules of a compiled policy return the one rule
// in the policy's Resolves (a copy of a rule, or a rule changed since,
// returns a new one); it must not be changed.
func (r *Rule) ImpliedResolve() *Rule {
	if r.Kind != ast.Outbound || !r.Host.Kind.IsName() {
		return nil
	}
	if ir := r.implied; ir != nil && ir.ImpliedBy == r && ir.Host == r.Host && ir.HostMap == r.HostMap &&
		ir.Families == r.Families && ir.Index == r.Index && ir.Source == r.Source && sameSlice(ir.Sources, r.Sources) {
		return ir
	}
	return &Rule{Kind: ast.Resolve, Host: r.Host, HostMap: r.HostMap, Families: r.Families,
		Index: r.Index, Source: r.Source, Sources: r.Sources, ImpliedBy: r}
}

// sameSlice reports whether a and b are the same slice (not only equal).
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && cap(a) == cap(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ImpliedFamilies returns the families the rule's literals allow: the
// family of an address host or of a host mapping, or both families.
func (r *Rule) ImpliedFamilies() Families {
	f := AllFamilies
	if r.Host.Kind == AddressHost {
		f &= FamilyOf(r.Host.Prefix.Addr())
	}
	if r.HostMap.IsValid() {
		f &= FamilyOf(r.HostMap)
	}
	return f
}

// Key identifies a rule by everything but its ports: kind, protocol, host,
// families and mappings. Rules with equal keys and no port mapping merge
// into one with the union of their ports (§4.3).
type Key struct {
	Kind     ast.Kind
	Protocol ast.Protocol
	Host     Host
	Families Families
	HostMap  netip.Addr
	PortMap  PortMapping
}

// Key returns the rule's key.
func (r *Rule) Key() Key {
	return Key{Kind: r.Kind, Protocol: r.Protocol, Host: r.Host, Families: r.Families, HostMap: r.HostMap, PortMap: r.PortMap}
}

// Group splits rules into groups of equal key, in order of first
// appearance, each group in the order of rules. It takes time linear in
// the number of rules, so callers comparing rules can compare within groups
// instead of all pairs.
func Group[K comparable](rules []*Rule, key func(*Rule) K) [][]*Rule {
	at := map[K]int{} // not sized for every rule: many may share a key
	var groups [][]*Rule
	for _, r := range rules {
		k := key(r)
		i, ok := at[k]
		if !ok {
			i = len(groups)
			at[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return groups
}

// clone returns a shallow copy of r.
func (r *Rule) clone() *Rule {
	c := *r
	return &c
}
