package eval

import (
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Reference decides requests by a plain loop over the rules, asking the
// matching predicates of package policy of each: short enough to be
// obviously right, and slow (linear in the number of rules). It is the
// definition the Index engine and the explanations of capspec eval are
// tested against. It is safe for concurrent use.
type Reference struct {
	p      *policy.Policy
	ifaces *Interfaces
}

// NewReference returns the reference evaluator of a compiled policy, with
// the interface table inbound requests are decided with (nil: none).
func NewReference(p *policy.Policy, ifaces *Interfaces) *Reference {
	return &Reference{p: p, ifaces: ifaces}
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

// nameMaps returns the host mappings of name: in each family, the mapping
// resolve rule answering its lookup (policy.BetterHostMap), and its address.
func (e *Reference) nameMaps(name string) (policy.NameMaps, [2]*policy.Rule) {
	var rules [2]*policy.Rule
	for _, r := range e.p.Resolves {
		for i, f := range families {
			if r.MapsName(name, f) && policy.BetterHostMap(r, rules[i]) {
				rules[i] = r
			}
		}
	}
	var m policy.NameMaps
	for i, r := range rules {
		if r != nil {
			m[i] = r.HostMap
		}
	}
	return m, rules
}

// lookup decides a lookup of name in family f: the first resolve rule
// matching it, or the mapping answering it; nothing in a family a mapped
// name is not mapped in.
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
	m, maps := e.nameMaps(name)
	answer, _, ok := policy.Answer(name, f, m)
	if !ok {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: first.Index, answer: answer}
	if mr := maps[famIndex(f)]; mr != nil {
		res.rule = mr.Index
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
		if !lk.answer.IsValid() {
			return e.connectUnknown(q, f)
		}
		addr = lk.answer
	} else if policy.FamilyOf(addr) != f {
		return famResult{rule: -1}
	}
	if policy.IsUnspecifiedDestination(addr) {
		return famResult{rule: -1} // whatever the rules say (SPEC §3.3)
	}
	var m policy.NameMaps
	if q.Name != "" {
		m, _ = e.nameMaps(q.Name)
	}
	var pk policy.Pick
	for _, r := range e.p.Rules {
		if r.Kind == ast.Outbound && r.Applies(q.Op.Protocol(), q.Port, f) && outboundHostMatches(r, q.Name, m, addr, f) {
			pk.Add(r)
		}
	}
	w := pk.Winner()
	if w == nil {
		return famResult{rule: -1}
	}
	return famResult{ok: true, rule: w.Index, hostAddr: addr, hostPort: w.HostPort(q.Port)}
}

// connectUnknown decides a connect or send to a name in family f whose
// address DNS gives (policy.DecideUnknown).
func (e *Reference) connectUnknown(q Request, f policy.Families) famResult {
	m, _ := e.nameMaps(q.Name)
	var whole policy.Pick
	var nets []*policy.Rule
	for _, r := range e.p.Rules {
		switch {
		case r.Kind != ast.Outbound || !r.Applies(q.Op.Protocol(), q.Port, f):
		case r.Host.Kind == policy.AddressHost:
			nets = append(nets, r)
		case outboundHostMatches(r, q.Name, m, netip.Addr{}, f):
			whole.Add(r)
		}
	}
	w, hostPort := policy.DecideUnknown(whole, policy.SummarizeNets(nets, f), q.Port)
	if w == nil {
		return famResult{rule: -1}
	}
	return famResult{ok: true, rule: w.Index, hostPort: hostPort}
}

// outboundHostMatches reports whether an outbound rule's host allows a
// connect to addr (the zero Addr: an address DNS gives for name, unknown)
// in family f, resolved from name (empty: none) whose mappings are m. A
// network never matches an unknown address by itself.
func outboundHostMatches(r *policy.Rule, name string, m policy.NameMaps, addr netip.Addr, f policy.Families) bool {
	if r.Host.MatchesAddr(addr) {
		return true
	}
	return name != "" && r.Host.Kind.IsName() && r.Host.MatchesName(name) && policy.ResolvedFrom(name, f, m, addr)
}

// listen decides a listen or bind in family f.
func (e *Reference) listen(q Request, f policy.Families) famResult {
	local, addr := q.Local, q.Addr
	switch {
	case local == LocalAddr && policy.FamilyOf(addr) != f:
		return famResult{rule: -1}
	case local == LocalAddr && addr.IsUnspecified():
		local = LocalAny // 0.0.0.0 and [::]: every interface of the family
	case local == LocalLocalhost:
		local, addr = LocalAddr, policy.LoopbackAddr(f)
	}
	var pk policy.Pick
	for _, r := range e.p.Rules {
		if r.Kind == ast.Inbound && r.Applies(q.Op.Protocol(), q.Port, f) && e.inboundHostMatches(r.Host, local, q.Name, addr) {
			pk.Add(r)
		}
	}
	w := pk.Winner()
	if w == nil {
		return famResult{rule: -1}
	}
	res := famResult{ok: true, rule: w.Index, hostPort: w.HostPort(q.Port)}
	if local == LocalAddr || local == LocalAny && addr.IsValid() {
		res.hostAddr = addr
	}
	return res
}

// inboundHostMatches reports whether an inbound host covers a local side.
func (e *Reference) inboundHostMatches(h policy.Host, local LocalKind, iface string, addr netip.Addr) bool {
	switch local {
	case LocalAddr:
		return h.MatchesLocalAddr(addr, e.ifaces.Owners(addr))
	case LocalInterface:
		return h.MatchesInterface(iface, e.ifaces.IsLoopback(iface))
	}
	return h.Kind == policy.AnyHost
}
