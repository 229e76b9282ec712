package policygen

import (
	"errors"
	"net/netip"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Scan decides requests with one plain loop over a slice of rules, asking
// the matching predicates of package policy of each: the baseline the
// decision benchmarks measure the index against. It is lean where
// eval.Reference is general: it knows no mappings and no networks that
// cover a family only together, so NewScan refuses a policy with either
// (MixPolicy has neither). For the policies it takes it decides exactly as
// eval.Reference (the differential test of the mix checks it).
type Scan struct {
	rules    []policy.Rule // outbound and inbound rules, in policy order
	resolves []policy.Rule // the resolve rules in effect, in policy order
	ifaces   *eval.Interfaces
}

// NewScan returns the slice scan of a compiled policy, or an error when
// the policy has a mapping or networks covering a family.
func NewScan(p *policy.Policy, ifaces *eval.Interfaces) (*Scan, error) {
	s := &Scan{ifaces: ifaces}
	var nets [2][2]netipx.IPSetBuilder // [protocol][family]
	for _, r := range p.Rules {
		if r.PortMap.IsMapped() || r.HostMap.IsValid() {
			return nil, errors.New("the slice scan knows no mappings: " + r.String())
		}
		if r.Kind == ast.Resolve {
			continue
		}
		if r.Kind == ast.Outbound && r.Host.Kind == policy.AddressHost {
			pi := 0
			if r.Protocol == ast.UDP {
				pi = 1
			}
			nets[pi][famSlot(policy.FamilyOf(r.Host.Prefix.Addr()))].AddPrefix(r.Host.Prefix)
		}
		s.rules = append(s.rules, *r)
	}
	for pi := range nets {
		for fi, f := range []policy.Families{policy.IPv4, policy.IPv6} {
			if policy.CoversFamily(&nets[pi][fi], f) {
				return nil, errors.New("the slice scan knows no networks covering a family")
			}
		}
	}
	for _, r := range p.Resolves {
		s.resolves = append(s.resolves, *r)
	}
	return s, nil
}

func famSlot(f policy.Families) int {
	if f == policy.IPv6 {
		return 1
	}
	return 0
}

// Decide decides one request.
func (s *Scan) Decide(q eval.Request) eval.Decision {
	q, err := q.Normalize()
	if err != nil {
		return eval.Decision{Rule: -1, Invalid: err}
	}
	d := eval.Decision{Rule: -1}
	if q.Op == eval.Lookup && q.Addr.IsValid() {
		// An IP literal: no rule needed.
		want := q.Family
		if want == 0 {
			want = policy.AllFamilies
		}
		f := policy.FamilyOf(q.Addr)
		d = eval.Decision{Allowed: true, Rule: -1, NoRuleNeeded: true, Families: f & want}
		if want.Has(f) {
			d.Answers[famSlot(f)] = q.Addr
		}
		return d
	}
	for fi, f := range []policy.Families{policy.IPv4, policy.IPv6} {
		rule, addr, port := -1, netip.Addr{}, q.Port
		switch q.Op {
		case eval.Lookup:
			if q.Family != 0 && q.Family != f {
				continue
			}
			if rule = s.lookup(q.Name, f); rule >= 0 {
				d.Answers[fi], _, _ = policy.Answer(q.Name, f, policy.NameMaps{})
			}
		case eval.Connect, eval.Send:
			rule, addr = s.connect(q, f)
		default:
			rule, addr = s.listen(q, f)
		}
		if rule < 0 {
			continue
		}
		d.Families |= f
		if !d.Allowed {
			d.Allowed, d.Rule, d.HostAddr, d.HostPort = true, rule, addr, port
		}
	}
	return d
}

// lookup returns the first resolve rule allowing the lookup of name in f.
func (s *Scan) lookup(name string, f policy.Families) int {
	for i := range s.resolves {
		if r := &s.resolves[i]; r.Families.Has(f) && r.Host.MatchesName(name) {
			return r.Index
		}
	}
	return -1
}

// connect returns the first outbound rule allowing a connect or send in f,
// and the address the host connects to (invalid when DNS gives it).
func (s *Scan) connect(q eval.Request, f policy.Families) (int, netip.Addr) {
	addr := q.Addr
	if !addr.IsValid() {
		if s.lookup(q.Name, f) < 0 {
			return -1, addr
		}
		addr, _, _ = policy.Answer(q.Name, f, policy.NameMaps{})
	} else if policy.FamilyOf(addr) != f {
		return -1, addr
	}
	if addr.IsValid() && policy.IsUnspecifiedDestination(addr) {
		return -1, addr
	}
	proto := q.Op.Protocol()
	for i := range s.rules {
		r := &s.rules[i]
		if r.Kind == ast.Outbound && r.Applies(proto, q.Port, f) &&
			(r.Host.MatchesAddr(addr) || q.Name != "" && r.Host.Kind.IsName() && r.Host.MatchesName(q.Name) && policy.ResolvedFrom(q.Name, f, policy.NameMaps{}, addr)) {
			return r.Index, addr
		}
	}
	return -1, addr
}

// listen returns the first inbound rule allowing a listen or bind in f,
// and the local address (invalid for "*" and interfaces).
func (s *Scan) listen(q eval.Request, f policy.Families) (int, netip.Addr) {
	local, addr := q.Local, q.Addr
	switch {
	case local == eval.LocalAddr && policy.FamilyOf(addr) != f:
		return -1, netip.Addr{}
	case local == eval.LocalAddr && addr.IsUnspecified():
		local = eval.LocalAny
	case local == eval.LocalLocalhost:
		local, addr = eval.LocalAddr, policy.LoopbackAddr(f)
	}
	if local != eval.LocalAddr && !(local == eval.LocalAny && addr.IsValid()) {
		addr = netip.Addr{}
	}
	proto := q.Op.Protocol()
	var owners []string
	if local == eval.LocalAddr {
		owners = s.ifaces.Owners(addr)
	}
	loopback := local == eval.LocalInterface && s.ifaces.IsLoopback(q.Name)
	for i := range s.rules {
		r := &s.rules[i]
		if r.Kind != ast.Inbound || !r.Applies(proto, q.Port, f) {
			continue
		}
		var ok bool
		switch local {
		case eval.LocalAddr:
			ok = r.Host.MatchesLocalAddr(addr, owners)
		case eval.LocalInterface:
			ok = r.Host.MatchesInterface(q.Name, loopback)
		default:
			ok = r.Host.Kind == policy.AnyHost
		}
		if ok {
			return r.Index, addr
		}
	}
	return -1, addr
}
