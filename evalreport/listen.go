package evalreport

import (
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// explainListen explains a listen or bind.
func (e *Explainer) explainListen(x *Explanation, s *scratch) {
	q := x.Request
	lc := &listenCtx{q: q, e: e}
	c := e.hitsOfKind(s, ast.Inbound, e.in.any)
	lc.fams = families[:]
	if q.Local == eval.LocalAddr {
		lc.fams = []policy.Families{policy.FamilyOf(q.Addr)}
	}
	for _, f := range lc.fams {
		local, addr := lc.local(f)
		switch local {
		case eval.LocalAddr:
			c.add(e.in.addr[addr], true)
			for _, o := range e.ifaces.Owners(addr) {
				c.add(e.in.iface[o], true)
			}
			if policy.IsLoopback(addr) {
				c.add(e.in.localhost, true)
			}
		case eval.LocalInterface:
			c.add(e.in.iface[q.Name], true)
			if e.ifaces.IsLoopback(q.Name) {
				c.add(e.in.localhost, true)
			}
		}
	}
	hits := len(c.list)
	v := newVerdict(s)
	for _, f := range lc.fams {
		i := famIndex(f)
		var pk policy.Pick
		for j, cd := range c.list[:hits] {
			if c.allows(j, f, lc.reasons) {
				pk.Add(cd.r)
				v.allowBy(cd.r, f)
			}
		}
		w := pk.Winner()
		if w == nil {
			continue
		}
		v.allowed[i], v.winner[i], v.port[i] = true, w, w.HostPort(q.Port)
		if local, addr := lc.local(f); local == eval.LocalAddr || local == eval.LocalAny && addr.IsValid() {
			v.host[i] = addr
		}
	}
	c.add(e.first[2], false)
	e.finish(x, &v, c, lc.fams, lc.reasons, s)
	if !x.Decision.Allowed && len(e.first[2]) == 0 {
		x.Notes = append(x.Notes, "the policy has no --allow-inbound rules")
	}
}

// listenCtx is what bears on a listen or bind.
type listenCtx struct {
	q    eval.Request
	fams []policy.Families
	e    *Explainer
}

// local returns the local side in family f: an address (localhost is its
// loopback address), an interface, or every interface ("*", and 0.0.0.0
// and [::] with their address kept).
func (lc *listenCtx) local(f policy.Families) (eval.LocalKind, netip.Addr) {
	switch q := lc.q; {
	case q.Local == eval.LocalAddr && q.Addr.IsUnspecified():
		return eval.LocalAny, q.Addr
	case q.Local == eval.LocalLocalhost:
		return eval.LocalAddr, policy.LoopbackAddr(f)
	default:
		return q.Local, q.Addr
	}
}

// reasons says why inbound rule r does not allow the listen or bind in
// family f (nothing: it does).
func (lc *listenCtx) reasons(r *policy.Rule, f policy.Families, w *why) {
	q := lc.q
	noun := "address"
	if q.Local != eval.LocalAddr {
		noun = "listen"
	}
	if appliesReasons(r, q, f, w, noun) {
		return
	}
	h := r.Host
	local, addr := lc.local(f)
	ifaces := lc.e.ifaces
	switch {
	case local == eval.LocalAny:
		if h.Kind == policy.AnyHost || !w.miss() {
			break
		}
		if addr.IsValid() {
			w.sayf("%s is every %s interface: it needs a * rule (or %s); this rule is for %s", eval.AddrText(addr), policy.FamilyOf(addr), eval.AddrText(addr), h)
		} else {
			w.sayf("listening on * (every interface) needs a * rule; this rule is for %s", h)
		}
	case local == eval.LocalInterface:
		if h.MatchesInterface(q.Name, ifaces.IsLoopback(q.Name)) || !w.miss() {
			break
		}
		switch h.Kind {
		case policy.InterfaceHost:
			w.sayf("interface %s is not %s", q.Name, h.Name)
		case policy.LocalhostHost:
			w.sayf("interface %s is not a loopback interface", q.Name)
		default:
			w.sayf("the rule is for the address %s, not an interface", h)
		}
	case !h.MatchesLocalAddr(addr, ifaces.Owners(addr)):
		if !w.miss() {
			break
		}
		switch h.Kind {
		case policy.AddressHost:
			w.sayf("address %s is not %s", addr, h)
		case policy.LocalhostHost:
			w.sayf("%s is not a loopback address (localhost is 127.0.0.0/8 and ::1)", addr)
		case policy.InterfaceHost:
			if !ifaces.Has(h.Name) {
				w.sayf("%s is not an address of %s (%s is not in the interface table)", addr, h.Name, h.Name)
			} else {
				w.sayf("%s is not an address of %s (%s has %s)", addr, h.Name, h.Name, joinAddrs(ifaces.Addrs(h.Name), "no address"))
			}
		}
	}
}
