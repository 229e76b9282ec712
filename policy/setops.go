package policy

import (
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
)

// Covers reports whether rule a grants everything rule b grants by itself:
// same kind and protocol, b's families, ports and hosts within a's, and
// mappings that agree. Implied resolves are not part of a rule's own grant:
// compare them separately (Covers(x, b.ImpliedResolve())).
//
// Two rules of a policy matching one request resolve "mapping wins": so a
// mapping rule covers a rule without mapping whose grant lies within it
// (where both match, the mapping applies anyway), but a rule without a
// mapping never covers a mapping rule. Likewise "name->ip" covers a rule for
// the same exact name without a mapping in the mapped address's family.
func Covers(a, b *Rule) bool {
	if a == nil || b == nil || a.Kind != b.Kind || a.Protocol != b.Protocol {
		return false
	}
	if !a.Families.Has(b.Families) || !a.Ports.Covers(b.Ports) {
		return false
	}
	if b.PortMap.IsMapped() && (!a.PortMap.IsMapped() || a.PortMap.Offset() != b.PortMap.Offset()) {
		return false
	}
	return hostCovers(a, b)
}

// hostCovers reports whether a's hosts (and host mapping) cover b's, for
// rules of one kind.
func hostCovers(a, b *Rule) bool {
	ha, hb := a.Host, b.Host
	switch a.Kind {
	case ast.Resolve:
		return nameHostCovers(a, b)
	case ast.Inbound:
		switch ha.Kind {
		case AnyHost:
			return true
		case LocalhostHost:
			return hb.Kind == LocalhostHost || hb.Kind == AddressHost && IsLoopback(hb.Prefix.Addr())
		}
		return ha == hb
	}
	// Outbound: a grants connects to addresses; a name rule, to addresses
	// resolved from matching names.
	switch ha.Kind {
	case AnyHost:
		return true
	case AddressHost:
		p := ha.Prefix
		switch hb.Kind {
		case AnyHost:
			return p.Bits() == 0
		case AddressHost:
			return p.Bits() <= hb.Prefix.Bits() && p.Contains(hb.Prefix.Addr())
		case LocalhostHost:
			lb := LoopbackPrefix(b.Families)
			return p.Bits() <= lb.Bits() && p.Contains(lb.Addr())
		case NameHost, WildcardHost:
			if b.HostMap.IsValid() {
				return p.Contains(b.HostMap)
			}
			return p.Bits() == 0
		}
		return false
	}
	return hb.Kind.IsName() && nameHostCovers(a, b)
}

// nameHostCovers compares name hosts and host mappings. For resolve rules
// the mapping is the answer, so it must agree; for outbound rules an
// unmapped name rule covers a mapped one (the mapped address is resolved
// from the name).
func nameHostCovers(a, b *Rule) bool {
	switch {
	case a.HostMap.IsValid():
		return b.Host.Kind == NameHost && b.Host.Name == a.Host.Name && (!b.HostMap.IsValid() || b.HostMap == a.HostMap)
	case b.HostMap.IsValid() && a.Kind == ast.Resolve:
		return false
	}
	return a.Host.coversNames(b.Host)
}

// Merge merges two rules into one granting exactly what both grant, when
// §4.3 allows: rules of one key (kind, protocol, host, families, host
// mapping) become one with the union of their ports; rules equal but for
// their families, one #ipv4-only and one #ipv6-only, become one for both
// families; two outbound networks of one family, with equal ports and no
// mapping, that are the two halves of a larger network become that network.
// Rules with a port mapping never merge, and neither do ports whose union
// cannot be written (inbound port 0 with other ports, short of "*"). The
// merged rule has the smaller
// index and the sources of both.
func Merge(a, b *Rule) (*Rule, bool) {
	if a.Kind != b.Kind || a.Protocol != b.Protocol || a.PortMap.IsMapped() || b.PortMap.IsMapped() || a.HostMap != b.HostMap {
		return nil, false
	}
	var m *Rule
	switch {
	case a.Host == b.Host && a.Families == b.Families:
		m = a.clone()
		m.Ports = a.Ports.Union(b.Ports)
		if !m.Ports.Writable() {
			return nil, false // port 0 stands alone
		}
	case a.Host == b.Host && a.Ports.Equal(b.Ports) && a.Families|b.Families == AllFamilies && a.Families != b.Families && a.Families != AllFamilies && b.Families != AllFamilies:
		m = a.clone()
		m.Families = AllFamilies
	case a.Kind == ast.Outbound && a.Host.Kind == AddressHost && b.Host.Kind == AddressHost &&
		a.Ports.Equal(b.Ports) && a.Families == b.Families && !a.HostMap.IsValid():
		parent, ok := siblings(a.Host.Prefix, b.Host.Prefix)
		if !ok {
			return nil, false
		}
		m = a.clone()
		m.Host.Prefix = parent
	default:
		return nil, false
	}
	return joinSources(m, a, b), true
}

// joinSources gives m the smaller index and source of a and b, and the
// sources of both in order.
func joinSources(m *Rule, rs ...*Rule) *Rule {
	m.Sources = nil
	m.Index = rs[0].Index
	m.Source = rs[0].Source
	for _, r := range rs {
		if r.Index < m.Index {
			m.Index, m.Source = r.Index, r.Source
		}
		m.Sources = append(m.Sources, r.Sources...)
	}
	slices.SortStableFunc(m.Sources, func(x, y *ast.Rule) int { return sourceOrder(x) - sourceOrder(y) })
	m.Sources = slices.Compact(m.Sources)
	return m
}

func sourceOrder(r *ast.Rule) int {
	if r == nil {
		return -1
	}
	return r.Index
}

// siblings returns the network made of two halves p and q.
func siblings(p, q netip.Prefix) (netip.Prefix, bool) {
	if p.Bits() != q.Bits() || p.Bits() == 0 || p == q || p.Addr().Is4() != q.Addr().Is4() {
		return netip.Prefix{}, false
	}
	pp, _ := p.Addr().Prefix(p.Bits() - 1)
	qp, _ := q.Addr().Prefix(q.Bits() - 1)
	return pp, pp == qp
}

// Subtract returns rules granting what b grants and a does not. Exact is
// false when the difference cannot be written as rules (a wildcard minus
// one of its names, "*" minus an interface, a name minus a network): then
// the result is the part of b that a may not cover, which is more than the
// difference. An empty result means a covers b.
func Subtract(a, b *Rule) (rest []*Rule, exact bool) {
	if a == nil || a.Kind != b.Kind || a.Protocol != b.Protocol || !a.Families.Overlaps(b.Families) ||
		b.Kind != ast.Resolve && !a.Ports.Overlaps(b.Ports) {
		return []*Rule{b}, true
	}
	// Ports a lacks.
	if b.Kind != ast.Resolve {
		rest = append(rest, withPorts(b, b.Ports.Minus(a.Ports))...)
	}
	common := b
	if b.Kind != ast.Resolve {
		common = withPorts(b, b.Ports.Intersect(a.Ports))[0]
	}
	// Families a lacks.
	if f := b.Families &^ a.Families; f != 0 {
		r := common.clone()
		r.Families = f
		rest = append(rest, r)
	}
	common = common.clone()
	common.Families &= a.Families
	if common.PortMap.IsMapped() && (!a.PortMap.IsMapped() || a.PortMap.Offset() != common.PortMap.Offset()) {
		return append(rest, common), true
	}
	if hostCovers(a, common) {
		return rest, true
	}
	if hostsDisjoint(a, common) {
		return append(rest, common), true
	}
	if diff, ok := addressDifference(a, common); ok {
		return append(rest, diff...), true
	}
	return append(rest, common), false
}

// withPorts returns copies of r restricted to ports (nothing for no port);
// a mapping rule is split into one rule per range, each mapped alike.
func withPorts(r *Rule, ports PortSet) []*Rule {
	if len(ports) == 0 {
		return nil
	}
	if !r.PortMap.IsMapped() {
		c := r.clone()
		c.Ports = ports
		return []*Rule{c}
	}
	var out []*Rule
	for _, pr := range ports {
		c := r.clone()
		c.Ports = PortSet{pr}
		c.PortMap = PortMapping{From: pr, To: PortRange{r.PortMap.Map(pr.Lo), r.PortMap.Map(pr.Hi)}}
		out = append(out, c)
	}
	return out
}

// hostsDisjoint reports whether no request can match both rules' hosts
// (kind and protocol equal).
func hostsDisjoint(a, b *Rule) bool {
	ha, hb := a.Host, b.Host
	if ha.Kind == AnyHost || hb.Kind == AnyHost {
		return false
	}
	switch {
	case ha.Kind == AddressHost && hb.Kind == AddressHost:
		return !ha.Prefix.Overlaps(hb.Prefix)
	case ha.Kind.IsName() && hb.Kind.IsName():
		// A mapped name answers (resolve) or reaches (outbound) its mapped
		// address only: two mappings of a name to different addresses
		// share no request.
		return !namesOverlap(ha, hb) || a.HostMap.IsValid() && b.HostMap.IsValid() && a.HostMap != b.HostMap
	case a.Kind == ast.Inbound:
		if ha.Kind > hb.Kind {
			ha, hb = hb, ha
		}
		switch {
		case ha.Kind == AddressHost && hb.Kind == LocalhostHost:
			return !IsLoopback(ha.Prefix.Addr())
		case ha.Kind == InterfaceHost || hb.Kind == InterfaceHost:
			return false // an interface may own any address
		}
		return ha != hb
	case a.Kind == ast.Outbound:
		if ha.Kind > hb.Kind {
			a, b, ha, hb = b, a, hb, ha
		}
		if ha.Kind == AddressHost && hb.Kind == LocalhostHost {
			return !ha.Prefix.Overlaps(Loopback4) && !ha.Prefix.Overlaps(Loopback6)
		}
		if ha.Kind == AddressHost && b.HostMap.IsValid() {
			return !ha.Prefix.Contains(b.HostMap)
		}
	}
	return false
}

// addressDifference subtracts a's addresses from b's for outbound rules
// whose hosts are "*" or networks.
func addressDifference(a, b *Rule) ([]*Rule, bool) {
	if b.Kind != ast.Outbound || !addressLike(a.Host) || !addressLike(b.Host) {
		return nil, false
	}
	var sb, sa netipx.IPSetBuilder
	for _, f := range []Families{IPv4, IPv6} {
		if !b.Families.Has(f) {
			continue
		}
		if p := addressesOf(b.Host, f); p.IsValid() {
			sb.AddPrefix(p)
		}
		if p := addressesOf(a.Host, f); p.IsValid() && a.Families.Has(f) {
			sa.AddPrefix(p)
		}
	}
	as, _ := sa.IPSet()
	sb.RemoveSet(as)
	bs, _ := sb.IPSet()
	var out []*Rule
	for _, p := range bs.Prefixes() {
		r := b.clone()
		r.Host = Host{Kind: AddressHost, Prefix: p}
		r.Families = FamilyOf(p.Addr())
		out = append(out, r)
	}
	return out, true
}

func addressLike(h Host) bool { return h.Kind == AnyHost || h.Kind == AddressHost }

// addressesOf returns the network of an address-like host in family f (an
// invalid prefix when the host has no address of f).
func addressesOf(h Host, f Families) netip.Prefix {
	if h.Kind == AnyHost {
		return fullPrefix(f)
	}
	if FamilyOf(h.Prefix.Addr()) != f {
		return netip.Prefix{}
	}
	return h.Prefix
}
