package diff

import (
	"net/netip"
	"slices"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Region is part of what one policy allows and the other does not: the
// requests Flag allows in its policy, except those the Except rules of the
// other policy allow there. Two kinds of outbound grants cross without
// being listed, since they would be on every region: a region of a rule
// to a name (Flag's host is a name, a wildcard or localhost) leaves out
// the connects the other policy allows by address whatever the name ("*"
// and networks), and a region of networks leaves out the connects via
// names the other policy allows that land in them. A region of "*" lists
// the other policy's rules to names (SPEC §8.1).
type Region struct {
	// Rule is the rule that grants the region: a rule of the policy, or
	// the resolve rule an outbound rule implies (Rule.ImpliedBy is then
	// that outbound rule).
	Rule *policy.Rule
	// Flag is the region as a rule: Rule itself, or Rule narrowed to the
	// ports and families where the difference lies, or to one name below
	// its wildcard. A name that the policy maps is written with its
	// mapping ("name->ip"), since that is the only address it reaches.
	Flag *policy.Rule
	// Except are rules of the other policy, narrowed to Flag's ports and
	// families, that allow part of Flag: the region is Flag without them.
	// Names the other policy maps are written with their mapping.
	Except []*policy.Rule
	// ExceptMore is true when Except lists only some of them: the first
	// MaxExcept found (the region is still Flag without all of them).
	ExceptMore bool
	// Example is a request of the region: Flag's policy allows it in the
	// families Family, the other policy in none of them (checked by the
	// reference evaluator).
	Example eval.Request
	Family  policy.Families
}

// exampleFamilies returns the families in which a piece's example
// differs.
func exampleFamilies(p piece) policy.Families {
	if p.exFams != 0 {
		return p.exFams
	}
	return p.fam
}

// regions turns the pieces of rule r into regions: one region for the
// rule (narrowed to the ports and families of the pieces) when every
// piece has the rule's host, or when the names below a wildcard differ in
// general; else one region per name (and host mapping).
func (c *comparer) regions(r *policy.Rule, ps []piece) []Region {
	if len(ps) == 0 {
		return nil
	}
	type hostKey struct {
		host    policy.Host
		hostMap netip.Addr
	}
	var groups [][]piece
	at := map[hostKey]int{}
	generic := slices.ContainsFunc(ps, func(p piece) bool { return p.generic })
	for _, p := range ps {
		k := hostKey{p.host, p.hostMap}
		if generic {
			k = hostKey{r.Host, r.HostMap}
		}
		i, ok := at[k]
		if !ok {
			i = len(groups)
			at[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], p)
	}
	var out []Region
	for _, g := range groups {
		flag := r.Clone()
		flag.ImpliedBy = nil
		if !generic {
			flag.Host, flag.HostMap = g[0].host, g[0].hostMap
			if g[0].hostMap.IsValid() {
				flag.Families &= policy.FamilyOf(g[0].hostMap)
			}
		}
		var fams policy.Families
		var ports policy.PortSet
		for _, p := range g {
			fams |= p.fam
			ports = ports.Union(p.ports)
		}
		flag.Families &= fams
		narrow(flag, ports)
		reg := Region{Rule: r, Flag: flag, Example: g[0].example, Family: exampleFamilies(g[0])}
		reg.Except, reg.ExceptMore = c.excepts(flag)
		out = append(out, c.simplify(reg)...)
	}
	return out
}

// narrow restricts a rule to ports (all of them for a resolve rule), when
// the result can be written; a port mapping is narrowed to one range.
func narrow(r *policy.Rule, ports policy.PortSet) {
	if r.Kind == ast.Resolve || ports.IsEmpty() || ports.Equal(r.Ports) || !ports.Writable() {
		return
	}
	if !r.PortMap.IsMapped() {
		r.Ports = ports
		return
	}
	if len(ports) == 1 {
		pr := ports[0]
		r.PortMap = policy.PortMapping{From: pr, To: policy.PortRange{Lo: r.PortMap.Map(pr.Lo), Hi: r.PortMap.Map(pr.Hi)}}
		r.Ports = ports
	}
}

// MaxExcept is the most exceptions a region lists (Region.ExceptMore says
// when it has more): so that the output of two policies whose rules all
// overlap grows with the rules, not with their pairs.
const MaxExcept = 1000

// excepts returns the rules of the other side that allow some request of
// flag (a rule of this side, read in this side's policy), narrowed to its
// ports and families, merged and in canonical order: the first MaxExcept
// the indexes find, and whether there are more.
func (c *comparer) excepts(flag *policy.Rule) (out []*policy.Rule, more bool) {
	if flag.Kind == ast.Resolve && (flag.Host.Kind == policy.NameHost || flag.Host.Kind == policy.LocalhostHost) {
		return nil, false // the region is lookups of one name the other side denies in its families
	}
	c.other.candidates(flag, func(o *policy.Rule) bool {
		if !o.Families.Overlaps(flag.Families) {
			return true
		}
		for _, e := range c.other.effective(at(o, flag)) {
			if !policy.Overlaps(e, flag) {
				continue
			}
			if len(out) == MaxExcept {
				more = true
				return false
			}
			out = append(out, restrict(e, flag))
		}
		return true
	})
	if len(out) == 0 {
		return nil, more
	}
	out = policy.MergeAll(out)
	policy.Sort(out)
	return slices.CompactFunc(out, func(a, b *policy.Rule) bool { return a.String() == b.String() }), more
}

// restrict narrows e to the ports and families of flag where it can.
func restrict(e, flag *policy.Rule) *policy.Rule {
	e = e.Clone()
	if f := e.Families & flag.Families; f != 0 {
		e.Families = f
	}
	if e.Kind != ast.Resolve && !e.PortMap.IsMapped() {
		if ps := e.Ports.Intersect(flag.Ports); !ps.IsEmpty() && ps.Writable() {
			e.Ports = ps
		}
	}
	return e
}

// effective returns rule o of this side as it acts in this side's policy:
// an outbound rule to an exact name that a resolve rule maps reaches only
// the mapped address in that family, so it is written "name->ip" there.
func (s *side) effective(o *policy.Rule) []*policy.Rule {
	if o.Kind != ast.Outbound || o.Host.Kind != policy.NameHost || o.HostMap.IsValid() || !s.mapped[o.Host.Name] {
		return []*policy.Rule{o}
	}
	var out []*policy.Rule
	for _, f := range bothFamilies {
		if !o.Families.Has(f) {
			continue
		}
		e := o.Clone()
		e.Families = f
		rt := s.reach(o.Host.Name, f)
		if !rt.IsValid() {
			continue // the name reaches nothing in f
		}
		if rt.IsSingleIP() {
			e.HostMap = rt.Addr()
		}
		out = append(out, e)
	}
	if len(out) == 2 && !out[0].HostMap.IsValid() && !out[1].HostMap.IsValid() {
		return []*policy.Rule{o}
	}
	return out // possibly none: a name mapped in a family the rule is not for
}

// at narrows rule e to the one name of flag, when flag is an outbound
// rule to an exact name that e matches as a wildcard: the exception then
// says what e allows for that name (see effective for a mapped name).
func at(e, flag *policy.Rule) *policy.Rule {
	if e.Kind != ast.Outbound || flag.Host.Kind != policy.NameHost || e.Host.Kind != policy.WildcardHost || !e.Host.MatchesName(flag.Host.Name) {
		return e
	}
	n := e.Clone()
	n.Host = flag.Host
	return n
}

// candidates calls yield with rules of this side that may allow requests
// of flag, a rule of the other side: a superset of those that do, found
// through the indexes by host and ports, each once, until yield returns
// false.
func (s *side) candidates(flag *policy.Rule, yield func(*policy.Rule) bool) {
	ps := flag.Ports // nil for a resolve rule: every rule of a host
	nameRules := func(ns *names) bool {
		h := flag.Host
		switch h.Kind {
		case policy.NameHost, policy.LocalhostHost:
			return ns.meeting(h.Name, ps, yield)
		case policy.WildcardHost:
			// "*", the domain itself and the wildcards above, the same
			// wildcard, the names and wildcards below.
			return ns.meeting(h.Name, ps, yield) && ns.wild[h.Name].meeting(ps, yield) &&
				s.belowIndex()[belowKey{flag.Kind, flag.Protocol, h.Name}].meeting(ps, yield)
		}
		return ns.all.meeting(ps, yield)
	}
	switch flag.Kind {
	case ast.Resolve:
		nameRules(&s.res)
	case ast.Outbound:
		o := &s.out[protoIndex(flag.Protocol)]
		// A region of networks leaves out the connects via names that
		// land in them (which names do is up to DNS): rules to names are
		// listed for names and for "*" only.
		if flag.Host.Kind != policy.AddressHost && !nameRules(&o.names) {
			return
		}
		if flag.Host.Kind.IsName() {
			// A region of a name leaves out what the other side allows by
			// address, whatever the name: its networks are not listed.
			return
		}
		for fi, fam := range bothFamilies {
			if !flag.Families.Has(fam) {
				continue
			}
			y := yield
			if fi == 1 && flag.Families.Has(policy.IPv4) {
				// A rule for both families is among the IPv4 rules too.
				y = func(r *policy.Rule) bool { return r.Families.Has(policy.IPv4) || yield(r) }
			}
			ar := o.addrs[fi]
			ok := true
			if flag.Host.Kind == policy.AnyHost {
				ok = ar.all.meeting(ps, y)
			} else {
				ok = ar.overlapping(flag.Host.Prefix, ps, y)
			}
			if !ok {
				return
			}
		}
	case ast.Inbound:
		in := &s.in[protoIndex(flag.Protocol)]
		switch flag.Host.Kind {
		case policy.AnyHost:
			in.all.meeting(ps, yield)
		case policy.AddressHost:
			a := flag.Host.Prefix.Addr()
			_ = in.any.meeting(ps, yield) && in.addr[a].meeting(ps, yield) &&
				(!policy.IsLoopback(a) || in.localhost.meeting(ps, yield))
		case policy.LocalhostHost:
			if !in.any.meeting(ps, yield) || !in.localhost.meeting(ps, yield) {
				return
			}
			for _, a := range in.loopback {
				if !in.addr[a].meeting(ps, yield) {
					return
				}
			}
		case policy.InterfaceHost:
			_ = in.any.meeting(ps, yield) && in.iface[flag.Host.Name].meeting(ps, yield) &&
				(!Interfaces.IsLoopback(flag.Host.Name) || in.localhost.meeting(ps, yield))
		}
	}
}

// simplify writes a region without exceptions where the policy model can
// subtract them exactly (ports, families, networks): a few rules of their
// own, each with its example. Otherwise the region stays as it is.
func (c *comparer) simplify(reg Region) []Region {
	if len(reg.Except) == 0 || reg.ExceptMore || !subtractable(reg.Flag) || reg.Flag.PortMap.IsMapped() {
		return []Region{reg}
	}
	rest := []*policy.Rule{reg.Flag}
	for _, e := range reg.Except {
		if !subtractable(e) {
			return []Region{reg}
		}
		// Regions are about what is allowed: where a request goes does
		// not matter here, and policy.Subtract would keep a mapping's
		// requests that a rule without it allows.
		e = e.Clone()
		e.PortMap = policy.PortMapping{}
		var next []*policy.Rule
		for _, x := range rest {
			d, exact := policy.Subtract(e, x)
			if !exact {
				return []Region{reg}
			}
			next = append(next, d...)
		}
		rest = next
		if len(rest) > maxPieces {
			return []Region{reg}
		}
	}
	rest = policy.MergeAll(rest)
	if len(rest) == 0 || len(rest) > maxPieces {
		return []Region{reg}
	}
	out := make([]Region, 0, len(rest))
	for _, x := range rest {
		if !x.Ports.Writable() {
			return []Region{reg}
		}
		ps := c.excess(x)
		if len(ps) == 0 {
			return []Region{reg}
		}
		out = append(out, Region{Rule: reg.Rule, Flag: x, Example: ps[0].example, Family: exampleFamilies(ps[0])})
	}
	return out
}

// maxPieces is how many rules a region may be written as instead of one
// rule with exceptions.
const maxPieces = 3

// subtractable reports whether policy.Subtract takes the rule exactly as
// it acts in its policy: rules whose grant does not depend on the
// policy's host mappings (all but outbound rules to names).
func subtractable(r *policy.Rule) bool {
	return r.Kind != ast.Outbound || !r.Host.Kind.IsName()
}
