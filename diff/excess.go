package diff

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// comparer asks what rules of one side (this) allow that the other side
// does not.
type comparer struct {
	this, other *side
	nets        map[netsKey][]netip.Addr // pieces of networks for mapping candidates, by what they are for
}

// piece is part of what a rule allows and the other side does not: in one
// family, for one host (the rule's, or one name below its wildcard), on
// some ports, with one request that shows it.
type piece struct {
	fam     policy.Families
	host    policy.Host
	hostMap netip.Addr
	ports   policy.PortSet // nil for a resolve rule
	example eval.Request
	// generic is true for the names below a wildcard (or every name, for
	// "*") that no rule of either side names: what the rule allows in
	// general, rather than for one name.
	generic bool
	// exFams are the families in which the example differs, when it asks
	// for none of its own (a lookup without family, a listen on "*")
	// because it differs in both; else 0 (the piece's family).
	exFams policy.Families
}

// excess returns what rule r of this side allows, in this side's policy,
// that the other side does not: nothing when the other side allows all of
// it. Every request of the rule's kind falls in some piece or is allowed by
// the other side; each piece's example is allowed by r and denied by the
// other side in the piece's family.
func (c *comparer) excess(r *policy.Rule) []piece {
	switch r.Kind {
	case ast.Resolve:
		return c.resolveExcess(r)
	case ast.Outbound:
		return c.outboundExcess(r)
	}
	return c.inboundExcess(r)
}

// resolveExcess: a lookup is decided by name and family only, so an exact
// name is one request per family, and the names a wildcard (or "*")
// matches that no rule of either side names are matched by the same rules
// of the other side as any of them: those that match every name r does.
func (c *comparer) resolveExcess(r *policy.Rule) []piece {
	var names []atom
	switch r.Host.Kind {
	case policy.WildcardHost, policy.AnyHost:
		d := r.Host.Name // "" for "*"
		if g := c.fresh(d); g != "" {
			names = append(names, atom{name: g, generic: true})
		}
		// A name either side maps answers its mapping only: in its other
		// family the lookup gives nothing, whatever else matches it.
		seen := map[string]bool{}
		for _, s := range []*side{c.this, c.other} {
			below := s.mappedBelow[d]
			if d == "" {
				below = nil
				for n := range s.mapped {
					below = append(below, n)
				}
				slices.Sort(below)
			}
			for _, n := range below {
				if !seen[n] {
					seen[n] = true
					names = append(names, atom{name: n})
				}
			}
		}
	default:
		names = []atom{{name: r.Host.Name}}
	}
	var out []piece
	for _, m := range names {
		var ps []piece
		for _, f := range bothFamilies {
			if !r.Families.Has(f) {
				continue
			}
			q := eval.Request{Op: eval.Lookup, Name: m.name, Family: f}
			if !c.this.reference(q).Families.Has(f) || c.other.reference(q).Families.Has(f) {
				continue // this side does not allow it after all (a mapped name), or the other does
			}
			p := piece{fam: f, host: r.Host, hostMap: r.HostMap, example: q, generic: m.generic}
			if !m.generic && r.Host.Kind != policy.NameHost && r.Host.Kind != policy.LocalhostHost {
				p.host = policy.Host{Kind: policy.NameHost, Name: m.name}
			}
			ps = append(ps, p)
		}
		if len(ps) == 2 {
			// Denied in both families: the lookup needs no family to show it.
			for i := range ps {
				ps[i].example.Family, ps[i].exFams = 0, policy.AllFamilies
			}
		}
		out = append(out, ps...)
	}
	return out
}

// outboundExcess: an outbound rule to "*" or a network allows its
// addresses whatever the name, so it exceeds the other side exactly where
// the other side's "*" and network rules leave an (address, port) of it
// uncovered. A rule to a name allows, for each name it matches, the
// addresses that name can reach in this policy; the other side covers
// them with its address rules and its rules matching the name (at the
// addresses the name reaches there). Names no rule of either side names
// behave alike (the generic atom); the names either side maps are atoms of
// their own.
func (c *comparer) outboundExcess(r *policy.Rule) []piece {
	pi := protoIndex(r.Protocol)
	op := eval.Connect
	if r.Protocol == ast.UDP {
		op = eval.Send
	}
	var out []piece
	for fi, f := range bothFamilies {
		if !r.Families.Has(f) {
			continue
		}
		ar := c.other.out[pi].addrs[fi]
		switch r.Host.Kind {
		case policy.AnyHost, policy.AddressHost:
			x := wholeFamily(f)
			if r.Host.Kind == policy.AddressHost {
				if policy.FamilyOf(r.Host.Prefix.Addr()) != f {
					continue
				}
				x = r.Host.Prefix
			}
			if p, ok := spanPiece(ar.uncovered(x, r.Ports, nil), op, ""); ok {
				p.fam, p.host = f, r.Host
				out = append(out, p)
			}
			continue
		}
		for _, m := range c.nameAtoms(r, f) {
			rs, rt := c.this.reach(m.name, f), c.other.reach(m.name, f)
			if !rs.IsValid() {
				continue // this side reaches nothing through the name in f
			}
			var np policy.PortSet
			if rt.IsValid() { // else the other side's name rules reach nothing here
				c.other.out[pi].names.matching(m.name, func(o *policy.Rule) {
					if o.Families.Has(f) {
						np = np.Union(o.Ports)
					}
				})
			}
			var ss []span
			switch {
			case rt.IsValid() && rt.Bits() <= rs.Bits() && rt.Contains(rs.Addr()):
				ss = ar.uncovered(rs, r.Ports.Minus(np), nil)
			case !rt.IsValid() || !rt.Overlaps(rs) || np.IsEmpty():
				ss = ar.uncovered(rs, r.Ports, nil)
			default:
				ss = ar.uncovered(rs, r.Ports, []rect{{rt, np}})
			}
			p, ok := spanPiece(ss, op, m.name)
			if !ok {
				continue
			}
			p.fam, p.generic = f, m.generic
			if m.generic {
				p.host = r.Host
			} else {
				p.host = policy.Host{Kind: policy.NameHost, Name: m.name}
				if m.name == "localhost" {
					p.host.Kind = policy.LocalhostHost
				}
				if rs.IsSingleIP() && m.name != "localhost" {
					p.hostMap = rs.Addr()
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// spanPiece makes a piece of the spans that are not full: their ports, and
// the first uncovered address and port as the example.
func spanPiece(ss []span, op eval.Op, via string) (piece, bool) {
	ports := spansPorts(ss)
	if ports.IsEmpty() {
		return piece{}, false
	}
	for _, s := range ss {
		if !s.full && len(s.addrs) > 0 {
			q := eval.Request{Op: op, Addr: s.addrs[0], Port: uint16(s.lo), Name: via}
			return piece{ports: ports, example: q}, true
		}
	}
	return piece{}, false
}

// atom is a name standing for the names a rule matches that are decided
// alike on both sides.
type atom struct {
	name    string
	generic bool
}

// nameAtoms returns the atoms of an outbound name rule in family f: its
// name; for a wildcard, a name below its domain that no rule names, and
// each name below it that either side maps.
func (c *comparer) nameAtoms(r *policy.Rule, f policy.Families) []atom {
	if r.Host.Kind != policy.WildcardHost {
		return []atom{{name: r.Host.Name}}
	}
	var out []atom
	if g := c.fresh(r.Host.Name); g != "" {
		out = append(out, atom{name: g, generic: true})
	}
	seen := map[string]bool{}
	for _, s := range []*side{c.this, c.other} {
		for _, n := range s.mappedBelow[r.Host.Name] {
			if !seen[n] {
				seen[n] = true
				out = append(out, atom{name: n})
			}
		}
	}
	return out
}

// inboundExcess: a listen is decided by its local side, port and family;
// for each kind of host the other side's rules that can match are known
// (with the fixed interface table, no interface owns an address).
func (c *comparer) inboundExcess(r *policy.Rule) []piece {
	in := &c.other.in[protoIndex(r.Protocol)]
	op := eval.Listen
	if r.Protocol == ast.UDP {
		op = eval.Bind
	}
	var out []piece
	for _, f := range bothFamilies {
		if !r.Families.Has(f) {
			continue
		}
		covered := in.any.portsIn(f)
		q := eval.Request{Op: op}
		switch r.Host.Kind {
		case policy.AnyHost:
			q.Local, q.Addr = eval.LocalAddr, wholeFamily(f).Addr() // 0.0.0.0 or [::]: every interface of f
		case policy.AddressHost:
			a := r.Host.Prefix.Addr()
			if policy.FamilyOf(a) != f {
				continue
			}
			covered = covered.Union(in.addr[a].portsIn(f))
			if policy.IsLoopback(a) {
				covered = covered.Union(in.localhost.portsIn(f))
			}
			q.Local, q.Addr = eval.LocalAddr, a
		case policy.LocalhostHost:
			a := c.loopbackExample(in, f)
			covered = covered.Union(in.localhost.portsIn(f)).Union(in.addr[a].portsIn(f))
			q.Local, q.Addr = eval.LocalAddr, a
		case policy.InterfaceHost:
			covered = covered.Union(in.iface[r.Host.Name].portsIn(f))
			if Interfaces.IsLoopback(r.Host.Name) {
				covered = covered.Union(in.localhost.portsIn(f))
			}
			q.Local, q.Name = eval.LocalInterface, r.Host.Name
		}
		rest := r.Ports.Minus(covered)
		if rest.IsEmpty() {
			continue
		}
		q.Port = rest.Min()
		if q.Port == 0 && len(rest) > 0 && rest[0].Hi > 0 {
			q.Port = 1
		} else if q.Port == 0 && len(rest) > 1 {
			q.Port = rest[1].Lo
		}
		out = append(out, piece{fam: f, host: r.Host, ports: rest, example: q})
	}
	if len(out) == 2 && r.Host.Kind == policy.AnyHost && out[0].example.Port == out[1].example.Port {
		// Denied in both families: a listen on "*" shows it.
		for i := range out {
			out[i].example.Local, out[i].example.Addr, out[i].exFams = eval.LocalAny, netip.Addr{}, policy.AllFamilies
		}
	}
	return out
}

// loopbackExample returns a loopback address of family f that no inbound
// address rule of the other side names (IPv6 has only ::1).
func (c *comparer) loopbackExample(in *inRules, f policy.Families) netip.Addr {
	if f == policy.IPv6 {
		return policy.Loopback6.Addr()
	}
	a := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	for in.addr[a] != nil && policy.Loopback4.Contains(a.Next()) {
		a = a.Next()
	}
	return a
}

// fresh returns a name below domain d (d == "": a name under a top-level
// label) that no rule of either side names, so that only the rules
// matching every name below d (or every name) match it; "" when no valid
// name fits.
func (c *comparer) fresh(d string) string {
	taken := func(n string) bool { return c.this.mentioned[n] || c.other.mentioned[n] }
	if d == "" {
		for i := 0; ; i++ {
			tld := "example"
			if i > 0 {
				tld = "example" + strconv.Itoa(i)
			}
			if !c.this.lastLabels[tld] && !c.other.lastLabels[tld] {
				return "host." + tld
			}
		}
	}
	for i := 0; i < 1000; i++ {
		label := "host"
		if i > 0 {
			label = "host" + strconv.Itoa(i)
		}
		n := label + "." + d
		if taken(n) {
			continue
		}
		if v, err := eval.NormalizeName(n); err != nil || v != n {
			return ""
		}
		return n
	}
	return ""
}
