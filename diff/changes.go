package diff

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// Change is a set of requests that both policies allow but send to
// different places: a lookup answered by another mapped address (or by DNS
// instead of a mapping, or the reverse), a connect or listen whose host
// port another port mapping gives.
type Change struct {
	// Rule is the rule of the new policy that decides the requests (for a
	// lookup allowed by an implied resolve, that resolve rule).
	Rule *policy.Rule
	// Flag is the requests as a rule of the new policy: Rule narrowed to
	// the ports, families and host where the change lies.
	Flag *policy.Rule
	// Was says what the old policy did: "->10.0.0.1" (a mapped address),
	// "->8888" (host ports), or "not mapped".
	Was string
	// Example is one of the requests; both policies allow it (in Family,
	// or as a whole for a listen on an interface), with different answers
	// or host ports (checked by the reference evaluator).
	Example eval.Request
	Family  policy.Families
	// old is true when Flag is the old policy's mapping rule (without its
	// mapping): the new policy does not map these requests.
	old bool
}

// changes finds the requests both sides allow that the new side (c.this)
// sends elsewhere than the old one (c.other): for every name either side
// maps, its lookups; for every rule with a port mapping on either side,
// the requests it allows, cut into pieces on which both sides decide alike.
// A change is shown on the new side's mapping rule that decides it, or,
// where the new side does not map, on the old side's mapping rule
// (without its mapping).
func (c *comparer) changes() []Change {
	out := c.lookupChanges()
	type group struct {
		change Change
		m      *policy.Rule
		fams   policy.Families
		ports  policy.PortSet
	}
	groups := map[changeKey]*group{}
	var order []changeKey
	for _, s := range []*side{c.this, c.other} {
		old := s == c.other
		for _, m := range s.p.Rules {
			if !m.PortMap.IsMapped() {
				continue
			}
			record := func(q eval.Request, f policy.Families, ports policy.PortRange) {
				dn, do := c.this.reference(q), c.other.reference(q)
				if !bothAllow(q, f, dn, do) || dn.HostPort == do.HostPort {
					return
				}
				if !old && dn.Rule != m.Index || old && (dn.HostPort != q.Port || do.Rule != m.Index) {
					return // shown on the mapping rule that decides it
				}
				k := changeKey{old, m.Index, int(dn.HostPort) - int(q.Port), int(do.HostPort) - int(q.Port)}
				g := groups[k]
				if g == nil {
					g = &group{change: Change{Rule: c.this.p.Rules[dn.Rule], Example: q, Family: f, old: old}, m: m}
					groups[k] = g
					order = append(order, k)
				}
				g.fams |= f
				g.ports = g.ports.Union(policy.Ports(ports))
			}
			for _, f := range bothFamilies {
				if m.Families.Has(f) {
					c.mappingCandidates(m, f, record)
				}
			}
		}
	}
	for _, k := range order {
		g := groups[k]
		ch := g.change
		ch.Flag = g.m.Clone()
		if k.old {
			ch.Flag.PortMap = policy.PortMapping{}
		}
		if fs := ch.Flag.Families & g.fams; fs != 0 {
			ch.Flag.Families = fs
		}
		narrow(ch.Flag, g.ports)
		ch.Was = wasPorts(g.ports, k.oldOffset)
		out = append(out, ch)
	}
	return out
}

// netsKey says which networks mappingCandidates collected: of both sides'
// address rules of a protocol and family, overlapping x, on the ports of
// a mapping (with a mapping only, or all).
type netsKey struct {
	pi, fi int
	x      netip.Prefix
	from   policy.PortRange
	mapped bool
}

type changeKey struct {
	old                  bool // the mapping rule is the old side's
	rule                 int
	newOffset, oldOffset int
}

// bothAllow reports whether both decisions allow q: in family f for a
// request whose address says its family; for a listen on an interface
// (decided for both families at once, the host side of the first one
// given), in the same families.
func bothAllow(q eval.Request, f policy.Families, dn, do eval.Decision) bool {
	if isIfaceListen(q) {
		return dn.Allowed && do.Allowed && dn.Families == do.Families
	}
	return dn.Families.Has(f) && do.Families.Has(f)
}

// isIfaceListen reports whether q is a listen or bind on an interface name.
func isIfaceListen(q eval.Request) bool {
	return (q.Op == eval.Listen || q.Op == eval.Bind) && q.Local == eval.LocalInterface
}

// wasPorts writes the old host ports of the guest ports ps: "->8888",
// "->8000-8009", or "not mapped".
func wasPorts(ps policy.PortSet, off int) string {
	if off == 0 {
		return "not mapped"
	}
	rs := make([]policy.PortRange, len(ps))
	for i, r := range ps {
		rs[i] = policy.PortRange{Lo: uint16(int(r.Lo) + off), Hi: uint16(int(r.Hi) + off)}
	}
	return "->" + policy.Ports(rs...).String()
}

// lookupChanges compares the answers of the lookups of every name either
// side maps, in each family both sides allow.
func (c *comparer) lookupChanges() []Change {
	var ns []string
	for _, s := range []*side{c.this, c.other} {
		for n := range s.mapped {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	ns = slices.Compact(ns)
	var out []Change
	for _, n := range ns {
		for fi, f := range bothFamilies {
			q := eval.Request{Op: eval.Lookup, Name: n, Family: f}
			dn, do := c.this.reference(q), c.other.reference(q)
			if !bothAllow(q, f, dn, do) || dn.Answers[fi] == do.Answers[fi] {
				continue
			}
			rule := c.this.resolveRule(dn.Rule)
			flag := &policy.Rule{Kind: ast.Resolve, Host: policy.Host{Kind: policy.NameHost, Name: n},
				Families: f, Index: rule.Index, Source: rule.Source, Sources: rule.Sources}
			if a := dn.Answers[fi]; a.IsValid() && n != "localhost" {
				flag.HostMap = a
			}
			was := "not mapped"
			if a := do.Answers[fi]; a.IsValid() {
				was = "->" + literal.FormatAddr(a)
			}
			out = append(out, Change{Rule: rule, Flag: flag, Was: was, Example: q, Family: f})
		}
	}
	return out
}

// resolveRule returns the resolve rule a lookup decision names: the rule
// at that index, or the resolve an outbound rule at that index implies.
func (s *side) resolveRule(i int) *policy.Rule {
	r := s.p.Rules[i]
	if ir := r.ImpliedResolve(); ir != nil { // the one in the policy's Resolves
		return ir
	}
	return r
}

// mappingCandidates calls record with requests of family f that rule m
// (a port mapping rule of either side) allows, one per piece of the requests
// on which both sides decide alike, with the guest ports the piece spans.
func (c *comparer) mappingCandidates(m *policy.Rule, f policy.Families, record func(eval.Request, policy.Families, policy.PortRange)) {
	from := m.PortMap.From
	pi := protoIndex(m.Protocol)
	sides := [2]*side{c.this, c.other}
	emit := func(q eval.Request, groups []*group, rules []*policy.Rule) {
		for _, pr := range portPieces(from, groups, rules, f) {
			q.Port = pr.Lo
			record(q, f, pr)
		}
	}
	if m.Kind == ast.Inbound {
		op := eval.Listen
		if m.Protocol == ast.UDP {
			op = eval.Bind
		}
		for _, l := range c.localAtoms(m, f) {
			var groups []*group
			for _, x := range sides {
				groups = append(groups, x.in[pi].matchingLocal(l)...)
			}
			q := eval.Request{Op: op, Local: l.kind, Addr: l.addr, Name: l.iface}
			emit(q, groups, nil)
		}
		return
	}
	op := eval.Connect
	if m.Protocol == ast.UDP {
		op = eval.Send
	}
	fi := famIndex(f)
	fromSet := policy.Ports(from)
	// nets returns the networks of both sides' address rules on the
	// mapping's ports that overlap x (only those with a port mapping), as
	// the first address of each piece they cut x into (computed once).
	nets := func(x netip.Prefix, mapped bool) func() []netip.Addr {
		return func() []netip.Addr {
			k := netsKey{pi, fi, x, from, mapped}
			if out, ok := c.nets[k]; ok {
				return out
			}
			var ps []netip.Prefix
			for _, s := range sides {
				s.out[pi].addrs[fi].overlapping(x, fromSet, every(func(r *policy.Rule) {
					if r.Host.Kind == policy.AddressHost && (!mapped || r.PortMap.IsMapped()) {
						ps = append(ps, r.Host.Prefix)
					}
				}))
			}
			if c.nets == nil {
				c.nets = map[netsKey][]netip.Addr{}
			}
			out := starts(x, ps)
			c.nets[k] = out
			return out
		}
	}
	var buf []*policy.Rule
	collect := every(func(r *policy.Rule) { buf = append(buf, r) })
	try := func(a netip.Addr, via string) {
		buf = buf[:0]
		for _, x := range sides {
			x.out[pi].addrs[fi].containing(netip.PrefixFrom(a, a.BitLen()), fromSet, collect)
			if via != "" {
				x.out[pi].names.meeting(via, fromSet, collect)
			}
		}
		emit(eval.Request{Op: op, Addr: a, Name: via}, nil, buf)
	}
	switch m.Host.Kind {
	case policy.AnyHost, policy.AddressHost:
		x := wholeFamily(f)
		if m.Host.Kind == policy.AddressHost {
			if policy.FamilyOf(m.Host.Prefix.Addr()) != f {
				return
			}
			x = m.Host.Prefix
		}
		for _, a := range nets(x, false)() {
			try(a, "")
		}
		mapNets := nets(x, true)
		for _, v := range c.viaNames(pi, f, from) {
			for _, a := range c.viaAddrs(v, f, x, mapNets) {
				try(a, v)
			}
		}
	default:
		allNets := nets(wholeFamily(f), false)
		for _, v := range c.ruleNames(m) {
			for _, a := range c.viaAddrs(v, f, wholeFamily(f), allNets) {
				try(a, v)
			}
		}
	}
}

// portPieces cuts the guest ports of a mapping at the port boundaries of
// the rules of family f, of the groups and of rules.
func portPieces(from policy.PortRange, groups []*group, rules []*policy.Rule, f policy.Families) []policy.PortRange {
	lo, hi := int(from.Lo), int(from.Hi)
	cuts := []int{lo, hi + 1}
	for _, g := range groups {
		cuts = append(cuts, g.cutsIn(f, lo+1, hi)...)
	}
	for _, r := range rules {
		if !r.Families.Has(f) {
			continue
		}
		for _, pr := range r.Ports {
			for _, c := range [2]int{int(pr.Lo), int(pr.Hi) + 1} {
				if c > lo && c <= hi {
					cuts = append(cuts, c)
				}
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	out := make([]policy.PortRange, 0, len(cuts)-1)
	for i := 0; i+1 < len(cuts); i++ {
		out = append(out, policy.PortRange{Lo: uint16(cuts[i]), Hi: uint16(cuts[i+1] - 1)})
	}
	return out
}

// starts returns the first address of each piece of x that the networks
// cut it into, leaving out the unspecified addresses (no connect reaches
// them).
func starts(x netip.Prefix, nets []netip.Prefix) []netip.Addr {
	cand := []netip.Addr{x.Addr()}
	for _, p := range append(slices.Clone(nets), unspecified...) {
		if !p.Overlaps(x) {
			continue
		}
		cand = append(cand, p.Masked().Addr())
		if n := lastAddr(p).Next(); n.IsValid() {
			cand = append(cand, n)
		}
	}
	var out []netip.Addr
	for _, a := range cand {
		if x.Contains(a) && !policy.IsUnspecifiedDestination(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// viaNames returns names standing for every name the outbound rules of
// both sides (protocol pi, family f, ports overlapping from) can match.
func (c *comparer) viaNames(pi int, f policy.Families, from policy.PortRange) []string {
	var ns []string
	domains := map[string]bool{}
	for _, x := range []*side{c.this, c.other} {
		x.out[pi].names.all.meeting(policy.Ports(from), every(func(r *policy.Rule) {
			switch {
			case !r.Families.Has(f):
			case r.Host.Kind != policy.WildcardHost:
				ns = append(ns, r.Host.Name)
			case !domains[r.Host.Name]:
				domains[r.Host.Name] = true
				ns = append(ns, c.belowNames(r.Host.Name)...)
			}
		}))
	}
	slices.Sort(ns)
	return slices.Compact(ns)
}

// belowNames returns names standing for the names below domain d: one
// that no rule names, and each name below d that either side maps.
func (c *comparer) belowNames(d string) []string {
	var ns []string
	if g := c.fresh(d); g != "" {
		ns = append(ns, g)
	}
	for _, x := range []*side{c.this, c.other} {
		ns = append(ns, x.mappedBelow[d]...)
	}
	return ns
}

// ruleNames returns names standing for every name an outbound name rule
// m matches: its own, or for a wildcard the names below its domain that
// no rule names, that either side maps, or that an outbound rule of
// either side of m's protocol and ports names (with the names below their
// wildcards); the names of other rules are decided like the first.
func (c *comparer) ruleNames(m *policy.Rule) []string {
	if m.Host.Kind != policy.WildcardHost {
		return []string{m.Host.Name}
	}
	d := m.Host.Name
	ns := c.belowNames(d)
	for _, x := range []*side{c.this, c.other} {
		x.belowIndex()[belowKey{ast.Outbound, m.Protocol, d}].meeting(m.Ports, every(func(r *policy.Rule) {
			ns = append(ns, r.Host.Name)
			if r.Host.Kind == policy.WildcardHost {
				ns = append(ns, c.belowNames(r.Host.Name)...)
			}
		}))
	}
	slices.Sort(ns)
	return slices.Compact(ns)
}

// viaAddrs returns addresses of x standing for every address a connect via
// name v can go to in family f: the mapped addresses of v (either side),
// loopback pieces for localhost, and the pieces the networks cut x into
// (cut, computed only when needed, gives their first addresses).
func (c *comparer) viaAddrs(v string, f policy.Families, x netip.Prefix, cut func() []netip.Addr) []netip.Addr {
	var out []netip.Addr
	full := false
	for _, s := range []*side{c.this, c.other} {
		r := s.reach(v, f)
		switch {
		case !r.IsValid():
		case r.IsSingleIP():
			if x.Contains(r.Addr()) {
				out = append(out, r.Addr())
			}
		case r.Bits() == 0:
			full = true
		default:
			if r.Overlaps(x) {
				inner := r
				if x.Bits() > r.Bits() {
					inner = x
				}
				out = append(out, inner.Masked().Addr())
				for _, a := range cut() {
					if inner.Contains(a) {
						out = append(out, a)
					}
				}
			}
		}
	}
	if full {
		out = append(out, cut()...)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// local is one local side of a listen or bind.
type local struct {
	kind  eval.LocalKind
	addr  netip.Addr
	iface string
}

// localAtoms returns local sides standing for every local side an inbound
// rule m matches in family f.
func (c *comparer) localAtoms(m *policy.Rule, f policy.Families) []local {
	pi := protoIndex(m.Protocol)
	loop := func() []local {
		out := []local{{kind: eval.LocalAddr, addr: policy.LoopbackPrefix(f).Addr().Next()}}
		if f == policy.IPv6 {
			out[0].addr = policy.Loopback6.Addr()
		}
		for _, s := range []*side{c.this, c.other} {
			for _, a := range s.in[pi].loopback {
				if policy.FamilyOf(a) == f {
					out = append(out, local{kind: eval.LocalAddr, addr: a})
				}
			}
		}
		return out
	}
	switch m.Host.Kind {
	case policy.AddressHost:
		return []local{{kind: eval.LocalAddr, addr: m.Host.Prefix.Addr()}}
	case policy.LocalhostHost:
		return loop()
	case policy.InterfaceHost:
		return []local{{kind: eval.LocalInterface, iface: m.Host.Name}}
	}
	out := []local{{kind: eval.LocalAddr, addr: wholeFamily(f).Addr()}}
	out = append(out, loop()...)
	generic := netip.MustParseAddr("192.0.2.1")
	if f == policy.IPv6 {
		generic = netip.MustParseAddr("2001:db8::1")
	}
	taken := map[string]bool{}
	for _, s := range []*side{c.this, c.other} {
		for a := range s.in[pi].addr {
			if policy.FamilyOf(a) == f && !policy.IsLoopback(a) && !a.IsUnspecified() {
				out = append(out, local{kind: eval.LocalAddr, addr: a})
			}
		}
		for name := range s.in[pi].iface {
			taken[name] = true
			out = append(out, local{kind: eval.LocalInterface, iface: name})
		}
	}
	for slices.ContainsFunc(out, func(l local) bool { return l.addr == generic }) {
		generic = generic.Next()
	}
	out = append(out, local{kind: eval.LocalAddr, addr: generic})
	iface := "capspec0"
	for i := 1; taken[iface]; i++ {
		iface = "capspec" + strconv.Itoa(i)
	}
	out = append(out, local{kind: eval.LocalInterface, iface: iface})
	slices.SortFunc(out, func(a, b local) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), a.addr.Compare(b.addr), cmp.Compare(a.iface, b.iface))
	})
	return slices.Compact(out)
}

// matchingLocal returns the groups of inbound rules that may match a
// local side (with the fixed interface table: no interface owns an
// address).
func (in *inRules) matchingLocal(l local) []*group {
	out := []*group{in.any}
	switch l.kind {
	case eval.LocalAddr:
		if l.addr.IsUnspecified() {
			return out
		}
		out = append(out, in.addr[l.addr])
		if policy.IsLoopback(l.addr) {
			out = append(out, in.localhost)
		}
	case eval.LocalInterface:
		out = append(out, in.iface[l.iface])
		if Interfaces.IsLoopback(l.iface) {
			out = append(out, in.localhost)
		}
	}
	return out
}
