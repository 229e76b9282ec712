package eval

import (
	"net/netip"

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

// pick keeps the winner among matching rules: the first mapping rule,
// else the first rule.
type pick struct{ mapped, first *policy.Rule }

func (pk *pick) add(r *policy.Rule, mapped bool) {
	if pk.first == nil || r.Index < pk.first.Index {
		pk.first = r
	}
	if mapped && (pk.mapped == nil || r.Index < pk.mapped.Index) {
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
	q, err := normalize(q)
	if err != nil {
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
	var pk pick
	for _, r := range e.p.Resolves {
		if r.Families.Has(f) && r.Host.MatchesName(name) {
			pk.add(r, r.HostMap.IsValid())
		}
	}
	w := pk.winner()
	if w == nil {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: w.Index}
	switch {
	case w.HostMap.IsValid():
		res.answer = w.HostMap
	case name == "localhost":
		res.answer = loopbackAddr(f)
	}
	return res
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
		addr = lk.answer
	} else if policy.FamilyOf(addr) != f {
		return famResult{rule: -1}
	}
	proto := q.Op.Protocol()
	var pk pick
	for _, r := range e.p.Rules {
		if r.Kind != ast.Outbound || r.Protocol != proto || !r.Families.Has(f) || !r.Ports.Contains(q.Port) {
			continue
		}
		if e.outboundHostMatches(r, q.Name, addr, f) {
			pk.add(r, r.PortMap.IsMapped())
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

// outboundHostMatches reports whether an outbound rule's host allows a
// connect to addr (invalid: an unknown address DNS gives for name) in
// family f, resolved from name (empty: none).
func (e *Reference) outboundHostMatches(r *policy.Rule, name string, addr netip.Addr, f policy.Families) bool {
	switch r.Host.Kind {
	case policy.AnyHost:
		return true
	case policy.AddressHost:
		if !addr.IsValid() {
			return r.Host.Prefix.Bits() == 0 // every address of the family
		}
		return r.Host.Prefix.Contains(addr)
	}
	return name != "" && r.Host.MatchesName(name) && e.resolvedFrom(name, f, addr)
}

// resolvedFrom reports whether an allowed lookup of name can return addr
// (invalid: an unknown address from DNS) in family f: a mapped name
// returns only its mapping, localhost only loopback addresses.
func (e *Reference) resolvedFrom(name string, f policy.Families, addr netip.Addr) bool {
	var mapped *policy.Rule
	for _, r := range e.p.Resolves {
		if r.HostMap.IsValid() && r.Families.Has(f) && r.Host.MatchesName(name) && (mapped == nil || r.Index < mapped.Index) {
			mapped = r
		}
	}
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
			pk.add(r, r.PortMap.IsMapped())
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
