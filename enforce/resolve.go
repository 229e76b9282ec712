package enforce

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// Resolver resolves names under the policy of its Enforcer: each lookup
// is decided, answered without DNS when the policy maps the name, and its
// answers filtered to the allowed families and remembered, so that a
// later connect to one of them (through the Enforcer) counts as resolved
// from the name.
type Resolver struct{ e *Enforcer }

// Resolver returns the enforcer's resolver.
func (e *Enforcer) Resolver() *Resolver { return &Resolver{e: e} }

// LookupNetIP looks up host for network "ip", "ip4" or "ip6" (the family
// asked for). A denied lookup is a *DeniedError; an IP literal is its own
// answer and needs no rule.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	fam, err := lookupFamily(network)
	if err != nil {
		return nil, err
	}
	_, as, err := r.e.lookup(ctx, r.e.cur.Load(), host, fam)
	return as, err
}

// LookupHost looks up host in every family the policy allows and returns
// the addresses as strings.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	as, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out, nil
}

// lookupFamily reads the network of a lookup.
func lookupFamily(network string) (policy.Families, error) {
	switch network {
	case "ip", "":
		return 0, nil
	case "ip4":
		return policy.IPv4, nil
	case "ip6":
		return policy.IPv6, nil
	}
	return 0, net.UnknownNetworkError(network)
}

// hostLiteral reads the host of an address as an IP literal: IPv4 in its
// four-decimal-octet form (legacy spellings such as 127.1 are errors, never
// guessed) or IPv6, with a zone kept for the socket. ok is false for a name.
func hostLiteral(host string) (a netip.Addr, zone string, ok bool, err error) {
	switch {
	case strings.IndexByte(host, ':') >= 0:
		if i := strings.IndexByte(host, '%'); i >= 0 {
			host, zone = host[:i], host[i+1:]
		}
		a, err = eval.ParseAddr(host)
		return a, zone, true, err
	case literal.LooksLikeIPv4(host):
		a, err = eval.ParseAddr(host)
		return a, "", true, err
	}
	return netip.Addr{}, "", false, nil
}

// lookup decides a lookup of host in family fam (0: any) and returns the
// request as decided and the answers given. A mapped name and localhost
// are answered without DNS; otherwise the DNS is asked for the allowed
// families only.
func (e *Enforcer) lookup(ctx context.Context, st *state, host string, fam policy.Families) (eval.Request, []netip.Addr, error) {
	q := eval.Request{Op: eval.Lookup, Name: host, Family: fam}
	if a, _, ok, err := hostLiteral(host); ok {
		if err != nil {
			d := eval.Decision{Rule: -1, Invalid: err}
			derr := denied(st, q, d)
			e.observe(ctx, st, Event{Request: q, Decision: d, Err: derr})
			return q, nil, derr
		}
		q.Name, q.Addr = "", a
	}
	nq, err := q.Normalize()
	if err != nil {
		d := eval.Decision{Rule: -1, Invalid: err}
		derr := denied(st, q, d)
		e.observe(ctx, st, Event{Request: q, Decision: d, Err: derr})
		return q, nil, derr
	}
	d := st.index.Decide(nq)
	if !d.Allowed {
		derr := denied(st, nq, d)
		e.observe(ctx, st, Event{Request: nq, Decision: d, Err: derr})
		return nq, nil, derr
	}
	if d.NoRuleNeeded {
		var given []netip.Addr
		if d.Families != 0 {
			given = []netip.Addr{nq.Addr}
		}
		e.observe(ctx, st, Event{Request: nq, Decision: d, Answers: given})
		return nq, given, nil
	}
	var dns []netip.Addr
	var ttl time.Duration
	if !d.Answers[0].IsValid() && !d.Answers[1].IsValid() {
		network := "ip"
		switch d.Families {
		case policy.IPv4:
			network = "ip4"
		case policy.IPv6:
			network = "ip6"
		}
		if t, ok := e.dns.(TTLDNS); ok {
			dns, ttl, err = t.LookupNetIPTTL(ctx, network, nq.Name)
		} else {
			dns, err = e.dns.LookupNetIP(ctx, network, nq.Name)
		}
		if err != nil {
			e.observe(ctx, st, Event{Request: nq, Decision: d, Err: err})
			return nq, nil, err
		}
	}
	d, given := st.tracker.LookupTTL(nq, dns, ttl)
	if len(given) == 0 {
		err := &net.DNSError{Err: "no address in the families the policy allows (" + d.Families.String() + ")", Name: nq.Name, IsNotFound: true}
		e.observe(ctx, st, Event{Request: nq, Decision: d, Err: err})
		return nq, nil, err
	}
	e.observe(ctx, st, Event{Request: nq, Decision: d, Answers: given})
	return nq, given, nil
}
