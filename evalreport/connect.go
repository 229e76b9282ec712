package evalreport

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// connectCtx is what bears on a connect or send, family by family.
type connectCtx struct {
	q    eval.Request
	name *nameInfo         // the name resolved from (nil: a bare address)
	addr [2]netip.Addr     // the address in each family (the zero Addr: unknown, from DNS)
	nets [2]*netInfo       // for an unknown address: the networks allowing the port
	fams []policy.Families // the families examined
	e    *Explainer
}

// explainConnect explains a connect or send.
func (e *Explainer) explainConnect(x *Explanation, s *scratch) {
	q := x.Request
	cc := &connectCtx{q: q, e: e}
	c := e.hitsOfKind(s, ast.Outbound, e.out.any)
	if q.Name != "" {
		cc.name = e.nameOf(q.Name, s)
		e.out.hits(q.Name, c)
		e.out.related(q.Name, c)
	}
	switch {
	case q.Addr.IsValid():
		f := policy.FamilyOf(q.Addr)
		cc.fams = []policy.Families{f}
		cc.addr[famIndex(f)] = q.Addr
		e.netsContaining(q.Addr, c)
	default:
		for i, f := range families {
			lk := cc.name.lk[i]
			if !lk.ok {
				continue
			}
			cc.fams = append(cc.fams, f)
			if lk.answer.IsValid() {
				cc.addr[i] = lk.answer
				e.netsContaining(lk.answer, c)
				x.Notes = append(x.Notes, fmt.Sprintf("the %s lookup of %s answers %s without DNS", f, q.Name, lk.answer))
			}
		}
		if len(cc.fams) == 0 {
			x.Notes = append(x.Notes, fmt.Sprintf("a connect to %s needs its lookup, and no resolve rule (explicit, or implied by an outbound rule to a name) allows the lookup of %s", q.Name, q.Name))
			cc.fams = families[:]
		}
	}
	hits := len(c.list)
	v := newVerdict(s)
	for _, f := range cc.fams {
		i := famIndex(f)
		if !q.Addr.IsValid() && !cc.name.lk[i].ok {
			continue
		}
		if a := cc.addr[i]; a.IsValid() {
			var pk policy.Pick
			for j, cd := range c.list[:hits] {
				if c.allows(j, f, cc.reasons) {
					pk.Add(cd.r)
					v.allowBy(cd.r, f)
				}
			}
			if w := pk.Winner(); w != nil {
				v.allowed[i], v.winner[i], v.host[i], v.port[i] = true, w, a, w.HostPort(q.Port)
			}
			continue
		}
		// An address DNS gives: the rules allowing every address, and the
		// networks if together they cover the family.
		ni := cc.netInfo(f)
		var whole policy.Pick
		for j, cd := range c.list[:hits] {
			if cd.r.Host.Kind != policy.AddressHost && c.allows(j, f, cc.reasons) {
				whole.Add(cd.r)
				v.allowBy(cd.r, f)
			}
		}
		if ni.sum.Covers {
			for _, r := range ni.nets {
				v.allowBy(r, f)
			}
		}
		if w, port := policy.DecideUnknown(whole, ni.sum, q.Port); w != nil {
			v.allowed[i], v.winner[i], v.port[i] = true, w, port
		}
	}
	c.add(e.first[1], false)
	e.finish(x, &v, c, cc.fams, cc.reasons, s)
	cc.notes(x)
}

// netInfo returns the summary of the networks for family f, computing it once.
func (cc *connectCtx) netInfo(f policy.Families) *netInfo {
	i := famIndex(f)
	if cc.nets[i] == nil {
		cc.nets[i] = cc.e.netInfo(cc.q, f)
	}
	return cc.nets[i]
}

// reasons says why outbound rule r does not allow the connect or send in
// family f (nothing: it does).
func (cc *connectCtx) reasons(r *policy.Rule, f policy.Families, w *why) {
	q := cc.q
	noun := "address"
	if !q.Addr.IsValid() {
		noun = "connection"
	}
	if appliesReasons(r, q, f, w, noun) {
		return
	}
	i := famIndex(f)
	addr := cc.addr[i]
	if addr.IsValid() && policy.IsUnspecifiedDestination(addr) {
		// Whatever the host: nothing else about it matters.
		if w.miss() {
			w.sayf("%s is an unspecified address (denied whatever the rules say)", eval.AddrText(addr))
		}
		return
	}
	lookupOK := q.Addr.IsValid() || cc.name.lk[i].ok
	if !lookupOK && !r.Host.Kind.IsName() && w.miss() {
		w.sayf("the %s lookup of %s is not allowed", f, q.Name)
	}
	h := r.Host
	switch h.Kind {
	case policy.AnyHost:
	case policy.AddressHost:
		switch {
		case !addr.IsValid() && !cc.netInfo(f).sum.Covers:
			if w.miss() {
				w.sayf("the address of %s comes from DNS, and %s covers only some addresses (give it: %s %s ADDRESS:%d via %s)",
					q.Name, h, q.Op, q.Op.Protocol(), q.Port, q.Name)
			}
		case addr.IsValid() && !h.MatchesAddr(addr):
			if !w.miss() {
				break
			}
			if h.Prefix.IsSingleIP() {
				w.sayf("address %s is not %s", addr, h)
			} else {
				w.sayf("%s is outside %s", addr, h)
			}
		}
	default:
		switch {
		case q.Name == "":
			if w.miss() {
				w.sayf("%s is a bare address; the rule allows addresses resolved from %s", eval.AddrText(addr), h)
			}
		case !h.MatchesName(q.Name):
			if w.miss() {
				w.says(nameMiss(h, q.Name))
			}
		case !policy.ResolvedFrom(q.Name, f, cc.name.maps, addr):
			if w.miss() {
				w.says(cc.notResolvedFrom(f, addr))
			}
		}
	}
}

// notResolvedFrom says why addr (or an address DNS gives) is not resolved
// from the request's name in family f.
func (cc *connectCtx) notResolvedFrom(f policy.Families, addr netip.Addr) string {
	n := cc.name
	i := famIndex(f)
	switch {
	case n.maps.Mapped() && !n.maps[i].IsValid():
		return n.mappedElsewhere(f)
	case n.maps.Mapped():
		return fmt.Sprintf("%s resolves to %s (mapped by rule %d), not %s", n.name, n.maps[i], n.mapRules[i].Index+1, addrOr(addr, "an address from DNS"))
	case n.name == "localhost":
		return fmt.Sprintf("localhost resolves to loopback addresses, not %s", addrOr(addr, "an address from DNS"))
	}
	return fmt.Sprintf("%s is not resolved from %s", addrOr(addr, "the address"), n.name)
}
func addrOr(a netip.Addr, none string) string {
	if a.IsValid() {
		return a.String()
	}
	return none
}

// notes adds what else bears on a connect or send.
func (cc *connectCtx) notes(x *Explanation) {
	q := cc.q
	d := x.Decision
	for i, a := range cc.addr {
		if a.IsValid() && policy.IsUnspecifiedDestination(a) && (q.Addr.IsValid() || cc.name.lk[i].ok) {
			x.Notes = append(x.Notes, fmt.Sprintf("%s is an unspecified address (0.0.0.0/8 or [::]): on Linux a connect or send to it reaches the host itself, so it is denied whatever the rules say", eval.AddrText(a)))
			break
		}
	}
	if d.Allowed && !q.Addr.IsValid() {
		for i, f := range families {
			if cc.nets[i] == nil || !cc.nets[i].sum.Covers || !d.Families.Has(f) {
				continue
			}
			var nets []string
			for _, m := range x.Allowing {
				if h := m.Rule.Host; h.Kind == policy.AddressHost && h.Prefix.Bits() != 0 && m.Families.Has(f) {
					nets = append(nets, fmt.Sprint(m.Rule.Index+1))
				}
			}
			if len(nets) > 0 {
				x.Notes = append(x.Notes, fmt.Sprintf("the address DNS gives for %s is not known; the networks of rules %s together cover every %s address", q.Name, strings.Join(nets, ", "), f))
			}
		}
		if d.HostPort == 0 && !d.HostAddr.IsValid() {
			x.Notes = append(x.Notes, fmt.Sprintf("the host port depends on the address DNS gives: networks map port %d for some addresses (or differently); give the address (via %s) to know it", q.Port, q.Name))
		}
	}
	if d.Allowed {
		return
	}
	if len(cc.e.first[1]) == 0 {
		x.Notes = append(x.Notes, "the policy has no --allow-outbound rules")
	}
	if q.Addr.IsValid() && q.Name == "" && !policy.IsUnspecifiedDestination(q.Addr) && len(cc.e.out.exact)+len(cc.e.out.wild) > 0 {
		x.Notes = append(x.Notes, fmt.Sprintf("%s is a bare address: rules to names allow only addresses resolved from a matching name (write via NAME, or record the lookup)", eval.AddrText(q.Addr)))
	}
}
