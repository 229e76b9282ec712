package eval

import (
	"net/netip"

	"github.com/capspec/capspec/policy"
)

// Decision is the verdict on one request. It holds no pointers to fresh
// memory, so deciding does not allocate; Explain gives the reasons.
type Decision struct {
	// Allowed is true when some rule allows the request (in some family,
	// for a request without one). A connect or send to an unspecified
	// address (0.0.0.0/8, [::]) is never allowed, whatever the rules say.
	Allowed bool
	// Families are the families in which the request is allowed.
	Families policy.Families
	// Rule is the index in Policy.Rules of the rule that decided the
	// request, or -1. Where several rules allow it, a mapping rule wins over
	// one without, the more specific host and then the lower host port
	// among mapping rules, else the first in policy order (policy.Pick: the
	// host side never depends on rule order); for a request without a
	// family, IPv4 is considered first. For a lookup allowed by an implied
	// resolve it is the outbound rule implying it.
	Rule int
	// HostAddr and HostPort are what the host uses after mappings: the
	// remote address and port of a connect or send, the local address and
	// port of a listen or bind. HostAddr is invalid when it is not known (a
	// connect by name answered by DNS, a listen on "*" or an interface).
	// For a connect by name answered by DNS, HostPort is the host port
	// every address would get, or 0 when it depends on the address
	// (networks that map the port cover only some addresses, or map it
	// differently).
	HostAddr netip.Addr
	HostPort uint16
	// Answers are, for a lookup, the addresses the lookup gives without a
	// DNS query, [0] for IPv4 and [1] for IPv6: a host mapping, localhost's
	// loopback, or the IP literal itself. Families allowed without such an
	// answer are answered by DNS. A mapped name is allowed only in the
	// families it is mapped in: the mapping is the whole answer.
	Answers [2]netip.Addr
	// NoRuleNeeded is true for a lookup of an IP literal, which sends no query.
	NoRuleNeeded bool
	// Invalid is why the request could not be decided (it is denied).
	Invalid error
}

// allow records that the request is allowed in family index fi by rule,
// with the host-side address and port; the first family allowed decides
// the rule and the host side.
func (d *Decision) allow(fi int, rule int32, hostAddr netip.Addr, hostPort uint16) {
	d.Families |= families[fi]
	if !d.Allowed {
		d.Allowed = true
		d.Rule, d.HostAddr, d.HostPort = int(rule), hostAddr, hostPort
	}
}

// famIndex returns 0 for IPv4 and 1 for IPv6.
func famIndex(f policy.Families) int {
	if f == policy.IPv6 {
		return 1
	}
	return 0
}

// families lists IPv4 and IPv6 in the order decisions consider them.
var families = [2]policy.Families{policy.IPv4, policy.IPv6}

// famResult is the outcome of a request in one family.
type famResult struct {
	ok       bool
	rule     int
	hostAddr netip.Addr
	hostPort uint16
	answer   netip.Addr
}

// combine makes a decision from the outcome in each family.
func combine(rs *[2]famResult) Decision {
	d := Decision{Rule: -1}
	for i, r := range rs {
		d.Answers[i] = r.answer
		if !r.ok {
			continue
		}
		d.Families |= families[i]
		if !d.Allowed {
			d.Allowed = true
			d.Rule, d.HostAddr, d.HostPort = r.rule, r.hostAddr, r.hostPort
		}
	}
	return d
}

// invalid is the decision on a request that cannot be decided.
func invalid(err error) Decision { return Decision{Rule: -1, Invalid: err} }

// literalLookup decides a lookup of an IP literal: no rule needed.
func literalLookup(q Request) Decision {
	want := q.Family
	if want == 0 {
		want = policy.AllFamilies
	}
	f := policy.FamilyOf(q.Addr)
	d := Decision{Allowed: true, Rule: -1, NoRuleNeeded: true, Families: f & want}
	if want.Has(f) {
		d.Answers[famIndex(f)] = q.Addr
	}
	return d
}
