package eval

import (
	"net/netip"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Reference decides requests by a plain loop over the rules: short enough
// to be obviously right, and slow (linear in the number of rules). It is
// the definition the Index engine is tested against. It is safe for
// concurrent use.
type Reference struct {
	p      *policy.Policy
	ifaces *Interfaces
}

// NewReference returns the reference evaluator of a compiled policy, with
// the interface table inbound requests are decided with (nil: none).
func NewReference(p *policy.Policy, ifaces *Interfaces) *Reference {
	return &Reference{p: p, ifaces: ifaces}
}

// pick keeps the winner among matching rules (see mapRank): the mapping
// rule of lowest rank, else the first rule.
type pick struct{ mapped, first *policy.Rule }

func (pk *pick) add(r *policy.Rule) {
	if pk.first == nil || r.Index < pk.first.Index {
		pk.first = r
	}
	if r.PortMap.IsMapped() && (pk.mapped == nil || mapRank(r) < mapRank(pk.mapped)) {
		pk.mapped = r
	}
}

func (pk *pick) winner() *policy.Rule {
	if pk.mapped != nil {
		return pk.mapped
	}
	return pk.first
}

// Decide decides one request.
func (e *Reference) Decide(q Request) Decision {
	if err := normalize(&q); err != nil {
		return invalid(err)
	}
	var rs [2]famResult
	switch q.Op {
	case Lookup:
		if q.Addr.IsValid() {
			return literalLookup(q)
		}
		for i, f := range families {
			if q.Family == 0 || q.Family == f {
				rs[i] = e.lookup(q.Name, f)
			}
		}
	case Connect, Send:
		for i, f := range families {
			rs[i] = e.connect(q, f)
		}
	default:
		for i, f := range families {
			rs[i] = e.listen(q, f)
		}
	}
	return combine(&rs)
}

// lookup decides a lookup of name in family f.
func (e *Reference) lookup(name string, f policy.Families) famResult {
	var first *policy.Rule
	for _, r := range e.p.Resolves {
		if r.Families.Has(f) && r.Host.MatchesName(name) && (first == nil || r.Index < first.Index) {
			first = r
		}
	}
	if first == nil {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: first.Index}
	switch m := e.hostMap(name, f); {
	case m != nil:
		res.rule, res.answer = m.Index, m.HostMap
	case name == "localhost":
		res.answer = loopbackAddr(f)
	}
	return res
}

// hostMap returns the mapping resolve rule that answers a lookup of name
// in family f (see betterHostMap), or nil.
func (e *Reference) hostMap(name string, f policy.Families) *policy.Rule {
	var m *policy.Rule
	for _, r := range e.p.Resolves {
		if r.HostMap.IsValid() && r.Families.Has(f) && r.Host.MatchesName(name) && betterHostMap(r, m) {
			m = r
		}
	}
	return m
}

// outboundApplies reports whether an outbound rule is for q's protocol and
// port in family f (whatever its host).
func outboundApplies(r *policy.Rule, q Request, f policy.Families) bool {
	return r.Kind == ast.Outbound && r.Protocol == q.Op.Protocol() && r.Families.Has(f) && r.Ports.Contains(q.Port)
}

// connect decides a connect or send in family f.
func (e *Reference) connect(q Request, f policy.Families) famResult {
	addr := q.Addr
	if !addr.IsValid() {
		// By name: an address an allowed lookup of the name returns.
		lk := e.lookup(q.Name, f)
		if !lk.ok {
			return famResult{rule: -1}
		}
		if !lk.answer.IsValid() {
			return e.connectUnknown(q, f)
		}
		addr = lk.answer
	} else if policy.FamilyOf(addr) != f {
		return famResult{rule: -1}
	}
	var pk pick
	for _, r := range e.p.Rules {
		if outboundApplies(r, q, f) && e.outboundHostMatches(r, q.Name, addr, f) {
			pk.add(r)
		}
	}
	w := pk.winner()
	if w == nil {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: w.Index, hostAddr: addr, hostPort: q.Port}
	if w.PortMap.IsMapped() {
		res.hostPort = w.PortMap.Map(q.Port)
	}
	return res
}

// connectUnknown decides a connect or send to a name in family f whose
// address DNS gives: it is allowed when a connect to every address of the
// family would be (rules to the name, "*", or networks that together
// cover the family), and its host port is the one every such connect
// would have, or 0 when they differ.
func (e *Reference) connectUnknown(q Request, f policy.Families) famResult {
	var whole, all pick // rules matching every address; and the networks
	var nets, mappedNets netipx.IPSetBuilder
	offsets := map[int]bool{}
	for _, r := range e.p.Rules {
		switch {
		case !outboundApplies(r, q, f):
		case r.Host.Kind == policy.AddressHost:
			all.add(r)
			nets.AddPrefix(r.Host.Prefix)
			if r.PortMap.IsMapped() {
				mappedNets.AddPrefix(r.Host.Prefix)
				offsets[r.PortMap.Offset()] = true
			}
		case e.outboundHostMatches(r, q.Name, netip.Addr{}, f):
			whole.add(r)
			all.add(r)
		}
	}
	w := whole.winner()
	if coversFamily(&nets, f) {
		w = all.winner() // a mapping network wins over the rest (mapRank)
	}
	if w == nil {
		return famResult{rule: -1}
	}
	// An address outside the mapping networks gets the whole rules' mapping.
	outside := 0
	if whole.mapped != nil {
		outside = whole.mapped.PortMap.Offset()
	}
	known, off := true, outside
	switch {
	case len(offsets) > 1:
		known = false
	case len(offsets) == 1:
		for o := range offsets {
			off = o
		}
		known = off == outside || coversFamily(&mappedNets, f)
	}
	res := famResult{ok: true, rule: w.Index}
	if known {
		res.hostPort = uint16(int(q.Port) + off)
	}
	return res
}

// coversFamily reports whether the networks of b cover every address of family f.
func coversFamily(b *netipx.IPSetBuilder, f policy.Families) bool {
	set, err := b.IPSet()
	return err == nil && set.ContainsPrefix(wholeFamily(f))
}

// wholeFamily is 0.0.0.0/0 or ::/0.
func wholeFamily(f policy.Families) netip.Prefix {
	if f == policy.IPv6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// outboundHostMatches reports whether an outbound rule's host allows a
// connect to addr (invalid: an unknown address DNS gives for name) in
// family f, resolved from name (empty: none). A network never matches an
// unknown address by itself (see connectUnknown).
func (e *Reference) outboundHostMatches(r *policy.Rule, name string, addr netip.Addr, f policy.Families) bool {
	switch r.Host.Kind {
	case policy.AnyHost:
		return true
	case policy.AddressHost:
		return addr.IsValid() && r.Host.Prefix.Contains(addr)
	}
	return name != "" && r.Host.MatchesName(name) && e.resolvedFrom(name, f, addr)
}

// resolvedFrom reports whether an allowed lookup of name can return addr
// (invalid: an unknown address from DNS) in family f: a mapped name
// returns only its mapping, localhost only loopback addresses.
func (e *Reference) resolvedFrom(name string, f policy.Families, addr netip.Addr) bool {
	mapped := e.hostMap(name, f)
	switch {
	case !addr.IsValid():
		return mapped == nil && name != "localhost"
	case mapped != nil:
		return addr == mapped.HostMap
	case name == "localhost":
		return policy.LoopbackPrefix(f).Contains(addr)
	}
	return true
}

// listen decides a listen or bind in family f.
func (e *Reference) listen(q Request, f policy.Families) famResult {
	local, addr := q.Local, q.Addr
	switch {
	case local == LocalAddr && addr.IsUnspecified():
		local = LocalAny
		if policy.FamilyOf(addr) != f {
			return famResult{rule: -1}
		}
	case local == LocalAddr && policy.FamilyOf(addr) != f:
		return famResult{rule: -1}
	case local == LocalLocalhost:
		local, addr = LocalAddr, loopbackAddr(f)
	}
	proto := q.Op.Protocol()
	var pk pick
	for _, r := range e.p.Rules {
		if r.Kind != ast.Inbound || r.Protocol != proto || !r.Families.Has(f) || !r.Ports.Contains(q.Port) {
			continue
		}
		if e.inboundHostMatches(r, local, q.Name, addr) {
			pk.add(r)
		}
	}
	w := pk.winner()
	if w == nil {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: w.Index, hostPort: q.Port}
	if local == LocalAddr || local == LocalAny && addr.IsValid() {
		res.hostAddr = addr
	}
	if w.PortMap.IsMapped() {
		res.hostPort = w.PortMap.Map(q.Port)
	}
	return res
}

// inboundHostMatches reports whether an inbound rule's host covers a local side.
func (e *Reference) inboundHostMatches(r *policy.Rule, local LocalKind, iface string, addr netip.Addr) bool {
	h := r.Host
	if h.Kind == policy.AnyHost {
		return true
	}
	switch local {
	case LocalAddr:
		switch h.Kind {
		case policy.AddressHost:
			return h.Prefix.Addr() == addr
		case policy.LocalhostHost:
			return policy.IsLoopback(addr)
		case policy.InterfaceHost:
			for _, o := range e.ifaces.Owners(addr) {
				if o == h.Name {
					return true
				}
			}
		}
	case LocalInterface:
		switch h.Kind {
		case policy.InterfaceHost:
			return h.Name == iface
		case policy.LocalhostHost:
			return e.ifaces.IsLoopback(iface)
		}
	}
	return false
}
