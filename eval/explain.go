package eval

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Explanation is a decision with its reasons: the rules that allow the
// request, and for a denial, the nearest rules and why each missed.
type Explanation struct {
	// Request is the request as decided (normalized).
	Request  Request
	Decision Decision
	// Allowing are the rules that allow the request, in policy order.
	Allowing []Match
	// Nearest are, for a denial, up to three rules of the request's kind
	// that came closest, fewest reasons first.
	Nearest []Miss
	// Notes say what else bears on the decision.
	Notes []string
}

// Match is a rule that allows a request, in some families.
type Match struct {
	// Rule is the rule; for a lookup it may be the resolve rule an
	// outbound rule implies (Rule.ImpliedBy is then set).
	Rule     *policy.Rule
	Families policy.Families
	// Decides is true for the rule that decided (Decision.Rule).
	Decides bool
}

// Miss is a rule that does not allow a request, and why.
type Miss struct {
	Rule    *policy.Rule
	Reasons []string
}

// maxNearest is how many missing rules a denial lists.
const maxNearest = 3

// Explain decides a request and says why, rule by rule. It is the slow
// path: it looks at every rule of the request's kind.
func (e *Reference) Explain(q Request) Explanation {
	if err := normalize(&q); err != nil {
		return Explanation{Request: q, Decision: invalid(err), Notes: []string{err.Error()}}
	}
	x := Explanation{Request: q, Decision: e.Decide(q)}
	if q.Op == Lookup && q.Addr.IsValid() {
		x.Notes = append(x.Notes, "a lookup of an IP literal sends no query and needs no permission")
		return x
	}
	fams := e.explainFamilies(q, &x)
	var cands []*policy.Rule
	if q.Op == Lookup {
		cands = e.p.Resolves
	} else {
		for _, r := range e.p.Rules {
			if r.Kind == q.Op.Kind() {
				cands = append(cands, r)
			}
		}
	}
	var misses []Miss
	for _, r := range cands {
		var allowed policy.Families
		var best []string
		for _, f := range fams {
			reasons := e.reasons(r, q, f)
			if len(reasons) == 0 {
				allowed |= f
			} else if best == nil || len(reasons) < len(best) {
				best = reasons
			}
		}
		if allowed != 0 {
			x.Allowing = append(x.Allowing, Match{Rule: r, Families: allowed, Decides: r.Index == x.Decision.Rule})
		} else {
			misses = append(misses, Miss{Rule: r, Reasons: best})
		}
	}
	if x.Decision.Allowed && (q.Op == Connect || q.Op == Send) && !q.Addr.IsValid() {
		e.unknownNotes(q, &x, fams)
	}
	if !x.Decision.Allowed {
		slices.SortStableFunc(misses, func(a, b Miss) int {
			return cmp.Or(cmp.Compare(missWeight(a), missWeight(b)), cmp.Compare(a.Rule.Index, b.Rule.Index))
		})
		x.Nearest = misses[:min(len(misses), maxNearest)]
		e.denialNotes(q, &x, len(cands))
	}
	return x
}

// missWeight orders misses: fewer reasons first; a miss by protocol alone
// after a miss by one other reason.
func missWeight(m Miss) int {
	w := 2 * len(m.Reasons)
	for _, r := range m.Reasons {
		if strings.HasPrefix(r, "protocol ") {
			w++
		}
	}
	return w
}

// explainFamilies returns the families in which rules are examined, adding
// notes about lookups a connect by name needs.
func (e *Reference) explainFamilies(q Request, x *Explanation) []policy.Families {
	switch {
	case q.Op == Lookup && q.Family != 0:
		return []policy.Families{q.Family}
	case (q.Op == Connect || q.Op == Send) && q.Addr.IsValid(),
		(q.Op == Listen || q.Op == Bind) && q.Local == LocalAddr:
		return []policy.Families{policy.FamilyOf(q.Addr)}
	case q.Op == Connect || q.Op == Send:
		var fams []policy.Families
		for _, f := range families {
			if lk := e.lookup(q.Name, f); lk.ok {
				fams = append(fams, f)
				if lk.answer.IsValid() {
					x.Notes = append(x.Notes, fmt.Sprintf("the %s lookup of %s answers %s without DNS", f, q.Name, lk.answer))
				}
			}
		}
		if len(fams) == 0 {
			x.Notes = append(x.Notes, fmt.Sprintf("a connect to %s needs its lookup, and no resolve rule (explicit, or implied by an outbound rule to a name) allows the lookup of %s", q.Name, q.Name))
			return families[:]
		}
		return fams
	}
	return families[:]
}

// netsCover reports whether the networks allowing q's protocol and port
// in family f together cover every address of f.
func (e *Reference) netsCover(q Request, f policy.Families) bool {
	var b netipx.IPSetBuilder
	for _, r := range e.p.Rules {
		if outboundApplies(r, q, f) && r.Host.Kind == policy.AddressHost {
			b.AddPrefix(r.Host.Prefix)
		}
	}
	return coversFamily(&b, f)
}

// unknownNotes adds notes to an allowed connect by name whose address DNS
// gives: networks that allow it only together, and a host port that
// depends on the address.
func (e *Reference) unknownNotes(q Request, x *Explanation, fams []policy.Families) {
	for _, f := range fams {
		if lk := e.lookup(q.Name, f); !lk.ok || lk.answer.IsValid() {
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
	if d := x.Decision; d.HostPort == 0 {
		x.Notes = append(x.Notes, fmt.Sprintf("the host port depends on the address DNS gives: networks map port %d for some addresses (or differently); give the address (via %s) to know it", q.Port, q.Name))
	}
}

// denialNotes adds notes that help with a denial.
func (e *Reference) denialNotes(q Request, x *Explanation, ncands int) {
	if ncands == 0 {
		x.Notes = append(x.Notes, fmt.Sprintf("the policy has no %s rules", q.Op.Kind().FlagName()))
	}
	if q.Op == Lookup && ncands == 0 {
		for _, r := range e.p.Rules {
			if r.Kind == ast.Outbound && !r.Host.Kind.IsName() {
				x.Notes = append(x.Notes, "outbound rules to * or to addresses allow connects, not lookups")
				break
			}
		}
	}
	if (q.Op == Connect || q.Op == Send) && q.Addr.IsValid() && q.Name == "" {
		for _, r := range e.p.Rules {
			if r.Kind == ast.Outbound && r.Host.Kind.IsName() {
				x.Notes = append(x.Notes, fmt.Sprintf("%s is a bare address: rules to names allow only addresses resolved from a matching name (write via NAME, or record the lookup)", q.Addr))
				break
			}
		}
	}
}

// reasons says why rule r does not allow q in family f (nothing: it does).
func (e *Reference) reasons(r *policy.Rule, q Request, f policy.Families) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if q.Op != Lookup {
		if proto := q.Op.Protocol(); r.Protocol != proto {
			add("protocol %s, but the rule is %s", proto, r.Protocol)
		}
		if !r.Ports.Contains(q.Port) {
			what := "port"
			if q.Port == 0 {
				what = "port 0 (chosen by the system)"
				add("%s not in %s", what, r.Ports.Spell(r.Kind == ast.Outbound))
			} else {
				add("port %d not in %s", q.Port, r.Ports.Spell(r.Kind == ast.Outbound))
			}
		}
	}
	famMiss := !r.Families.Has(f)
	if famMiss {
		noun := "address"
		switch {
		case q.Op == Lookup:
			noun = "lookup"
		case q.Op == Listen || q.Op == Bind:
			if q.Local != LocalAddr {
				noun = "listen"
			}
		case !q.Addr.IsValid():
			noun = "connection"
		}
		switch {
		case r.Host.Kind == policy.AddressHost:
			add("%s %s but the rule is for the %s %s %s", f, noun, policy.FamilyOf(r.Host.Prefix.Addr()), hostNoun(r.Host), r.Host)
		case r.HostMap.IsValid():
			add("%s %s but %s is mapped to the %s address %s", f, noun, r.Host.Name, policy.FamilyOf(r.HostMap), r.HostMap)
		case r.Source != nil && r.Source.Host != nil && r.Source.Host.Addr.IsUnspecified():
			add("%s %s but the rule's %s means %s", f, noun, r.Source.Host.Raw, "*"+r.Families.Modifier())
		default:
			add("%s %s but rule is %s", f, noun, r.Families.Modifier())
		}
		if r.Host.Kind == policy.AddressHost {
			return out
		}
	}
	switch q.Op {
	case Lookup:
		if !r.Host.MatchesName(q.Name) {
			add("%s", nameMiss(r.Host, q.Name))
		}
	case Connect, Send:
		if !q.Addr.IsValid() && !r.Host.Kind.IsName() && !e.lookup(q.Name, f).ok {
			add("the %s lookup of %s is not allowed", f, q.Name)
		}
		out = append(out, e.outboundHostMiss(r, q, f)...)
	default:
		out = append(out, e.inboundHostMiss(r, q, f)...)
	}
	return out
}

// hostNoun names an address host: "address" or "network".
func hostNoun(h policy.Host) string {
	if h.Prefix.IsSingleIP() {
		return "address"
	}
	return "network"
}

// nameMiss says why a name host does not match name.
func nameMiss(h policy.Host, name string) string {
	switch h.Kind {
	case policy.WildcardHost:
		switch {
		case name == h.Name:
			return fmt.Sprintf("name %s: *.%s does not cover its apex", name, name)
		case strings.HasSuffix(name, h.Name):
			return fmt.Sprintf("name %s is not below %s (a wildcard matches whole labels)", name, h.Name)
		}
		return fmt.Sprintf("name %s is not below %s", name, h.Name)
	case policy.NameHost, policy.LocalhostHost:
		if policy.UnderDomain(name, h.Name) {
			return fmt.Sprintf("name %s is not %s (a subdomain needs *.%s)", name, h.Name, h.Name)
		}
		return fmt.Sprintf("name %s is not %s", name, h.Name)
	}
	return fmt.Sprintf("name %s does not match %s", name, h)
}

// outboundHostMiss says why an outbound rule's host does not allow q in f.
func (e *Reference) outboundHostMiss(r *policy.Rule, q Request, f policy.Families) []string {
	addr := q.Addr
	if !addr.IsValid() {
		if lk := e.lookup(q.Name, f); lk.ok {
			addr = lk.answer
		}
	}
	h := r.Host
	switch h.Kind {
	case policy.AnyHost:
		return nil
	case policy.AddressHost:
		switch {
		case !addr.IsValid() && h.Prefix.Bits() != 0 && !e.netsCover(q, f):
			return []string{fmt.Sprintf("the address of %s comes from DNS, and %s covers only some addresses (give it: %s %s ADDRESS:%d via %s)",
				q.Name, h, q.Op, q.Op.Protocol(), q.Port, q.Name)}
		case addr.IsValid() && !h.Prefix.Contains(addr):
			if h.Prefix.IsSingleIP() {
				return []string{fmt.Sprintf("address %s is not %s", addr, h)}
			}
			return []string{fmt.Sprintf("%s is outside %s", addr, h)}
		}
		return nil
	}
	if q.Name == "" {
		return []string{fmt.Sprintf("%s is a bare address; the rule allows addresses resolved from %s", addr, h)}
	}
	if !h.MatchesName(q.Name) {
		return []string{nameMiss(h, q.Name)}
	}
	if !e.resolvedFrom(q.Name, f, addr) {
		if q.Name == "localhost" {
			return []string{fmt.Sprintf("localhost resolves to loopback addresses, not %s", addr)}
		}
		lk := e.lookup(q.Name, f)
		return []string{fmt.Sprintf("%s resolves to %s (mapped by rule %d), not %s", q.Name, lk.answer, lk.rule+1, addr)}
	}
	return nil
}

// inboundHostMiss says why an inbound rule's host does not cover q's local side.
func (e *Reference) inboundHostMiss(r *policy.Rule, q Request, f policy.Families) []string {
	h := r.Host
	if h.Kind == policy.AnyHost {
		return nil
	}
	local, addr := q.Local, q.Addr
	if local == LocalLocalhost {
		local, addr = LocalAddr, loopbackAddr(f)
	}
	switch {
	case local == LocalAny:
		return []string{fmt.Sprintf("listening on * (every interface) needs a * rule; this rule is for %s", h)}
	case local == LocalAddr && addr.IsUnspecified():
		return []string{fmt.Sprintf("%s is every %s interface: it needs a * rule (or %s); this rule is for %s", addrText(addr), policy.FamilyOf(addr), addrText(addr), h)}
	case local == LocalInterface:
		switch h.Kind {
		case policy.InterfaceHost:
			if h.Name != q.Name {
				return []string{fmt.Sprintf("interface %s is not %s", q.Name, h.Name)}
			}
		case policy.LocalhostHost:
			if !e.ifaces.IsLoopback(q.Name) {
				return []string{fmt.Sprintf("interface %s is not a loopback interface", q.Name)}
			}
		default:
			return []string{fmt.Sprintf("the rule is for the address %s, not an interface", h)}
		}
		return nil
	}
	switch h.Kind {
	case policy.AddressHost:
		if h.Prefix.Addr() != addr {
			return []string{fmt.Sprintf("address %s is not %s", addr, h)}
		}
	case policy.LocalhostHost:
		if !policy.IsLoopback(addr) {
			return []string{fmt.Sprintf("%s is not a loopback address (localhost is 127.0.0.0/8 and ::1)", addr)}
		}
	case policy.InterfaceHost:
		if slices.Contains(e.ifaces.Owners(addr), h.Name) {
			return nil
		}
		if !e.ifaces.Has(h.Name) {
			return []string{fmt.Sprintf("%s is not an address of %s (%s is not in the interface table)", addr, h.Name, h.Name)}
		}
		return []string{fmt.Sprintf("%s is not an address of %s (%s has %s)", addr, h.Name, h.Name, addrList(e.ifaces.Addrs(h.Name)))}
	}
	return nil
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "no address"
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}
