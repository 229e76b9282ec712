package enforce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Dial is DialContext with a background context.
func (e *Enforcer) Dial(network, address string) (net.Conn, error) {
	return e.DialContext(context.Background(), network, address)
}

// DialContext connects to address ("host:port") under the policy. network
// is "tcp", "tcp4" or "tcp6" for a TCP connect, "udp", "udp4" or "udp6"
// for a connected UDP socket (its sends go to address). It has the
// signature of http.Transport.DialContext and proxy.ContextDialer.
//
// A host that is a name is looked up first (Resolver.LookupNetIP; "tcp4"
// asks for IPv4 only), then each address given is decided as "connect tcp
// ADDR:PORT via NAME" and tried in turn until one connects. A host that is
// an IP literal is decided as "connect tcp ADDR:PORT", resolved from a
// name when a remembered lookup gave it. Mappings apply: the socket goes
// to the host side of the decision. Just before the connect, the
// dialer's Control hook decides again and checks the address the socket
// is about to connect to. A denial is a *DeniedError (wrapped in a
// *net.OpError); when some address was allowed but could not be reached,
// the error is that network error.
func (e *Enforcer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	op, fam, err := dialOp(network)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	host, port, err := splitHostPort(network, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	st := e.cur.Load()
	a, zone, isAddr, err := hostLiteral(host)
	if isAddr {
		q := eval.Request{Op: op, Addr: a, Port: port}
		if err != nil {
			q = eval.Request{Op: op, Name: host, Port: port}
			d := eval.Decision{Rule: -1, Invalid: err}
			derr := denied(st, q, d)
			e.observe(ctx, st, Event{Request: q, Decision: d, Err: derr})
			return nil, &net.OpError{Op: "dial", Net: network, Err: derr}
		}
		d, via := st.tracker.DecideVia(q)
		q.Name = via
		if !d.Allowed {
			derr := denied(st, q, d)
			e.observe(ctx, st, Event{Request: q, Decision: d, ByAddress: true, Err: derr})
			return nil, &net.OpError{Op: "dial", Net: network, Err: derr}
		}
		return e.dialDecided(ctx, st, network, q, d, zone, true)
	}
	nq, given, err := e.lookup(ctx, st, host, fam)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var firstDenied, firstErr error
	for _, a := range given {
		q := eval.Request{Op: op, Addr: a, Name: nq.Name, Port: port}
		d := st.tracker.Decide(q)
		if !d.Allowed {
			derr := denied(st, q, d)
			e.observe(ctx, st, Event{Request: q, Decision: d, Err: derr})
			if firstDenied == nil {
				firstDenied = derr
			}
			continue
		}
		c, err := e.dialDecided(ctx, st, network, q, d, "", false)
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: firstDenied}
}

// dialOp reads the network of a dial: the operation it is and the family
// it restricts to.
func dialOp(network string) (eval.Op, policy.Families, error) {
	switch network {
	case "tcp":
		return eval.Connect, 0, nil
	case "tcp4":
		return eval.Connect, policy.IPv4, nil
	case "tcp6":
		return eval.Connect, policy.IPv6, nil
	case "udp":
		return eval.Send, 0, nil
	case "udp4":
		return eval.Send, policy.IPv4, nil
	case "udp6":
		return eval.Send, policy.IPv6, nil
	}
	return 0, 0, net.UnknownNetworkError(network)
}

// splitHostPort splits "host:port"; the port is a number or a service name.
func splitHostPort(network, address string) (string, uint16, error) {
	host, ps, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		p, lerr := net.LookupPort(network, ps)
		if lerr != nil {
			return "", 0, fmt.Errorf("bad port %q in %q", ps, address)
		}
		n = uint64(p)
	}
	return host, uint16(n), nil
}

// hostSide returns where the host connects (or binds) after mappings.
func hostSide(q eval.Request, d eval.Decision) netip.AddrPort {
	a := d.HostAddr
	if !a.IsValid() {
		a = q.Addr
	}
	return netip.AddrPortFrom(a, d.HostPort)
}

// dialDecided connects to the host side of an allowed decision, deciding
// again in the Control hook, and reports the attempt.
func (e *Enforcer) dialDecided(ctx context.Context, st *state, network string, q eval.Request, d eval.Decision, zone string, byAddr bool) (net.Conn, error) {
	host := hostSide(q, d)
	target := host
	if zone != "" && host.Addr() == q.Addr {
		target = netip.AddrPortFrom(host.Addr().WithZone(zone), host.Port())
	}
	dialer := e.dialer
	uc, ucc := e.dialer.Control, e.dialer.ControlContext
	dialer.Control = nil
	dialer.ControlContext = func(cctx context.Context, nw, address string, c syscall.RawConn) error {
		if err := recheck(st, q, address); err != nil {
			return err
		}
		if ucc != nil {
			return ucc(cctx, nw, address, c)
		}
		if uc != nil {
			return uc(nw, address, c)
		}
		return nil
	}
	c, err := dialer.DialContext(ctx, network, target.String())
	ev := Event{Request: q, Decision: d, Host: host, ByAddress: byAddr, Err: err}
	var derr *DeniedError
	if errors.As(err, &derr) {
		ev.Request, ev.Decision, ev.Host = derr.Request, derr.Decision, netip.AddrPort{}
	}
	e.observe(ctx, st, ev)
	return c, err
}

// sockAddr reads the address a Control hook is given, unmapped and
// without zone, as requests and decisions have it.
func sockAddr(address string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return ap, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), nil
}

// recheck decides q again just before the connect, and checks that the
// socket's address is the host side of the decision.
func recheck(st *state, q eval.Request, address string) error {
	got, err := sockAddr(address)
	if err != nil {
		de := denied(st, q, eval.Decision{Rule: -1})
		de.detail = fmt.Sprintf("the socket's address %q cannot be read", address)
		return de
	}
	d, _ := st.tracker.DecideVia(q)
	if !d.Allowed {
		return denied(st, q, d)
	}
	if want := hostSide(q, d); got != want {
		de := denied(st, q, d)
		de.detail = fmt.Sprintf("the socket was about to connect to %s, not to %s as decided", eval.AddrPort(got.Addr(), got.Port()), eval.AddrPort(want.Addr(), want.Port()))
		return de
	}
	return nil
}

// ControlContext decides the connect or send a dialer not made by the
// Enforcer is about to make, from the address of its socket: assign it to
// net.Dialer.ControlContext to put any dialer under the policy. The
// request is "connect tcp ADDR:PORT" (or "send udp"), resolved from a
// name when a lookup through the Enforcer's Resolver gave ADDR: a name the
// dialer resolved by itself counts for nothing, so a DNS answer that
// changed since the checked lookup (rebinding) is denied. A mapping cannot
// be applied here (the socket's address is fixed): a request the policy
// maps elsewhere is denied, with a reason that says so. Each decision is
// reported to Options.Observe.
func (e *Enforcer) ControlContext(ctx context.Context, network, address string, _ syscall.RawConn) error {
	st := e.cur.Load()
	op, _, err := dialOp(network)
	if err != nil {
		return err
	}
	got, err := sockAddr(address)
	if err != nil {
		return fmt.Errorf("capspec: the socket's address %q cannot be read", address)
	}
	q := eval.Request{Op: op, Addr: got.Addr(), Port: got.Port()}
	d, via := st.tracker.DecideVia(q)
	q.Name = via
	if !d.Allowed {
		derr := denied(st, q, d)
		e.observe(ctx, st, Event{Request: q, Decision: d, ByAddress: true, Err: derr})
		return derr
	}
	if want := hostSide(q, d); want != got {
		derr := denied(st, q, d)
		derr.detail = fmt.Sprintf("the policy maps it to %s, which only a dial through the enforcer applies", eval.AddrPort(want.Addr(), want.Port()))
		e.observe(ctx, st, Event{Request: q, Decision: derr.Decision, ByAddress: true, Err: derr})
		return derr
	}
	e.observe(ctx, st, Event{Request: q, Decision: d, Host: got, ByAddress: true})
	return nil
}
