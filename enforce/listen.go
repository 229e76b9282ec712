package enforce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// localRequest reads the local side of a listen or bind: "" and "*" are
// every interface, "localhost" the loopback interfaces, an IP literal
// that address (0.0.0.0 and [::] every interface of a family), anything
// else an interface name.
func localRequest(op eval.Op, host string, port uint16) eval.Request {
	q := eval.Request{Op: op, Port: port}
	if host == "" || host == "*" {
		q.Local = eval.LocalAny
		return q
	}
	if a, _, ok, err := hostLiteral(host); ok && err == nil {
		q.Local, q.Addr = eval.LocalAddr, a
		return q
	}
	if n, err := eval.NormalizeName(host); err == nil && n == "localhost" {
		q.Local = eval.LocalLocalhost
		return q
	}
	q.Local, q.Name = eval.LocalInterface, host
	return q
}

// listenFamilies reads the family a listen network restricts to.
func listenFamilies(network string, tcp bool) (policy.Families, error) {
	base := "udp"
	if tcp {
		base = "tcp"
	}
	switch network {
	case base:
		return policy.AllFamilies, nil
	case base + "4":
		return policy.IPv4, nil
	case base + "6":
		return policy.IPv6, nil
	}
	return 0, net.UnknownNetworkError(network)
}

// bindPlan is one socket a listen or bind opens: its network and address.
type bindPlan struct {
	network string
	addr    netip.Addr // invalid: every interface of the network's families
	zone    string
}

// plan returns the sockets an allowed listen or bind opens: one for "*"
// and for an address; one per address for localhost and an interface.
func (e *Enforcer) plan(q eval.Request, d eval.Decision, base string, fams policy.Families) ([]bindPlan, error) {
	fams &= d.Families
	if fams == 0 {
		return nil, fmt.Errorf("the policy allows %s only in %s", q, d.Families)
	}
	switch q.Local {
	case eval.LocalAny:
		switch fams {
		case policy.IPv4:
			return []bindPlan{{network: base + "4"}}, nil
		case policy.IPv6:
			return []bindPlan{{network: base + "6"}}, nil
		}
		return []bindPlan{{network: base}}, nil
	case eval.LocalAddr:
		a := q.Addr
		if d.HostAddr.IsValid() {
			a = d.HostAddr
		}
		switch {
		case a == netip.IPv4Unspecified():
			return []bindPlan{{network: base + "4"}}, nil
		case a == netip.IPv6Unspecified():
			return []bindPlan{{network: base + "6"}}, nil
		}
		p := bindPlan{network: base, addr: a}
		if a.Is6() && a.IsLinkLocalUnicast() {
			if owners := e.ifaces.Owners(a); len(owners) > 0 {
				p.zone = owners[0]
			}
		}
		return []bindPlan{p}, nil
	}
	var addrs []netip.Addr
	zone := ""
	if q.Local == eval.LocalLocalhost {
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	} else {
		addrs, zone = e.ifaces.Addrs(q.Name), q.Name
	}
	var ps []bindPlan
	for _, a := range addrs {
		if fams.Has(policy.FamilyOf(a)) {
			p := bindPlan{network: base, addr: a}
			if a.Is6() && a.IsLinkLocalUnicast() {
				p.zone = zone
			}
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%s has no %saddress to listen on", q.Name, fams.Adjective())
	}
	return ps, nil
}

// Listen listens for TCP connections on address ("host:port"; network
// "tcp", "tcp4" or "tcp6") under the policy: the request "listen tcp
// LOCAL:PORT", where LOCAL is "*" (or an empty host) for every interface,
// "localhost" for the loopback addresses (127.0.0.1 and ::1), an IP
// address, or an interface name (its addresses in the interface table).
// A port mapping applies: the socket listens on the host port. Port 0
// lets the system pick. Connections are accepted from every listening
// address.
func (e *Enforcer) Listen(ctx context.Context, network, address string) (*Listener, error) {
	fams, err := listenFamilies(network, true)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	st, q, d, ps, err := e.decideLocal(ctx, eval.Listen, network, address, "tcp", fams)
	if err != nil {
		return nil, err
	}
	l := &Listener{req: q, dec: d, done: make(chan struct{})}
	err = e.bindAll(ctx, ps, d.HostPort, func(ctx context.Context, nw, addr string) (net.Addr, error) {
		nl, err := e.lc.Listen(ctx, nw, addr)
		if err != nil {
			return nil, err
		}
		l.ls = append(l.ls, nl)
		return nl.Addr(), nil
	}, func() {
		for _, nl := range l.ls {
			nl.Close()
		}
		l.ls = nil
	})
	var host netip.AddrPort
	if err == nil {
		host = addrPortOf(l.ls[0].Addr())
	}
	e.observe(ctx, st, Event{Request: q, Decision: d, Host: host, Err: err})
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	if len(l.ls) > 1 {
		l.start()
	}
	return l, nil
}

// decideLocal decides a listen or bind and plans its sockets.
func (e *Enforcer) decideLocal(ctx context.Context, op eval.Op, network, address, base string, fams policy.Families) (*state, eval.Request, eval.Decision, []bindPlan, error) {
	opName := "listen"
	st := e.cur.Load()
	host, port, err := splitHostPort(network, address)
	if err != nil {
		return st, eval.Request{}, eval.Decision{}, nil, &net.OpError{Op: opName, Net: network, Err: err}
	}
	q := localRequest(op, host, port)
	nq, err := q.Normalize()
	if err != nil {
		d := eval.Decision{Rule: -1, Invalid: err}
		derr := denied(st, q, d)
		e.observe(ctx, st, Event{Request: q, Decision: d, Err: derr})
		return st, q, d, nil, &net.OpError{Op: opName, Net: network, Err: derr}
	}
	d := st.index.Decide(nq)
	if !d.Allowed {
		derr := denied(st, nq, d)
		e.observe(ctx, st, Event{Request: nq, Decision: d, Err: derr})
		return st, nq, d, nil, &net.OpError{Op: opName, Net: network, Err: derr}
	}
	ps, err := e.plan(nq, d, base, fams)
	if err != nil {
		e.observe(ctx, st, Event{Request: nq, Decision: d, Err: err})
		return st, nq, d, nil, &net.OpError{Op: opName, Net: network, Err: err}
	}
	return st, nq, d, ps, nil
}

// bindAll opens the planned sockets on port: with port 0 the first gets a
// port from the system and the others the same one (tried again a few
// times when it is taken on another address). An address the machine
// lacks (EADDRNOTAVAIL, such as ::1 without IPv6) is skipped when another
// one opened.
func (e *Enforcer) bindAll(ctx context.Context, ps []bindPlan, port uint16, open func(ctx context.Context, network, addr string) (net.Addr, error), closeAll func()) error {
	for attempt := 0; ; attempt++ {
		p := port
		var firstErr error
		opened := 0
		retry := false
		for _, b := range ps {
			addr := ":" + strconv.Itoa(int(p))
			if b.addr.IsValid() {
				addr = netip.AddrPortFrom(b.addr.WithZone(b.zone), p).String()
			}
			got, err := open(ctx, b.network, addr)
			if err != nil {
				if errors.Is(err, syscall.EADDRINUSE) && port == 0 && opened > 0 && attempt < 8 {
					retry = true
					break
				}
				if firstErr == nil {
					firstErr = err
				}
				if errors.Is(err, syscall.EADDRNOTAVAIL) && len(ps) > 1 {
					continue
				}
				closeAll()
				return err
			}
			opened++
			if p == 0 {
				p = addrPortOf(got).Port()
			}
		}
		if retry {
			closeAll()
			continue
		}
		if opened == 0 {
			closeAll()
			return firstErr
		}
		return nil
	}
}

// addrPortOf returns the address and port of a socket address.
func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(a.IP.To16())).Unmap(), uint16(a.Port))
	case *net.UDPAddr:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(a.IP.To16())).Unmap(), uint16(a.Port))
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// Listener is a TCP listener opened under the policy: one socket, or one
// per address for localhost and interfaces. It is a net.Listener.
type Listener struct {
	ls  []net.Listener
	req eval.Request
	dec eval.Decision

	acc       chan accepted
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// accepted is one Accept's result on one socket of a Listener.
type accepted struct {
	c   net.Conn
	err error
}

// start runs one accept loop per socket.
func (l *Listener) start() {
	l.acc = make(chan accepted)
	for _, nl := range l.ls {
		l.wg.Go(func() {
			for {
				c, err := nl.Accept()
				select {
				case l.acc <- accepted{c, err}:
				case <-l.done:
					if c != nil {
						c.Close()
					}
					return
				}
				if err != nil && !isTemporary(err) {
					return
				}
			}
		})
	}
}

// isTemporary reports an accept error worth trying again after.
func isTemporary(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED)
}

// Accept waits for the next connection on any of the listener's sockets.
func (l *Listener) Accept() (net.Conn, error) {
	if l.acc == nil {
		return l.ls[0].Accept()
	}
	select {
	case a := <-l.acc:
		return a.c, a.err
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
	}
}

// Close closes every socket of the listener.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		for _, nl := range l.ls {
			if cerr := nl.Close(); err == nil {
				err = cerr
			}
		}
		l.wg.Wait()
	})
	return err
}

// Addr returns the address of the listener's first socket (host side:
// after a port mapping, the host port).
func (l *Listener) Addr() net.Addr { return l.ls[0].Addr() }

// Addrs returns the addresses of all the listener's sockets.
func (l *Listener) Addrs() []net.Addr {
	out := make([]net.Addr, len(l.ls))
	for i, nl := range l.ls {
		out[i] = nl.Addr()
	}
	return out
}

// Request returns the listen request as decided.
func (l *Listener) Request() eval.Request { return l.req }

// Decision returns the decision that allowed the listen.
func (l *Listener) Decision() eval.Decision { return l.dec }

// ListenPacket binds a UDP socket on address (network "udp", "udp4" or
// "udp6"; local side as for Listen, but one socket: localhost binds
// 127.0.0.1, or ::1 for "udp6") under the policy: the request "bind udp
// LOCAL:PORT". Every send through the PacketConn is decided on its own.
func (e *Enforcer) ListenPacket(ctx context.Context, network, address string) (*PacketConn, error) {
	fams, err := listenFamilies(network, false)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	st, q, d, ps, err := e.decideLocal(ctx, eval.Bind, network, address, "udp", fams)
	if err != nil {
		return nil, err
	}
	var pc net.PacketConn
	err = e.bindAll(ctx, ps[:1], d.HostPort, func(ctx context.Context, nw, addr string) (net.Addr, error) {
		c, err := e.lc.ListenPacket(ctx, nw, addr)
		if err != nil {
			return nil, err
		}
		pc = c
		return c.LocalAddr(), nil
	}, func() {
		if pc != nil {
			pc.Close()
		}
	})
	var host netip.AddrPort
	if err == nil {
		host = addrPortOf(pc.LocalAddr())
	}
	e.observe(ctx, st, Event{Request: q, Decision: d, Host: host, Err: err})
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	return &PacketConn{pc: pc, e: e, req: q, dec: d}, nil
}

// PacketConn is a UDP socket bound under the policy. Each WriteTo is
// decided as "send udp ADDR:PORT" (resolved from a name when a lookup
// through the Enforcer's Resolver gave ADDR) against the policy in force,
// and goes to the host side of its decision (mappings apply). It is a
// net.PacketConn; the underlying socket is not exposed, so no send
// escapes the policy.
type PacketConn struct {
	pc  net.PacketConn
	e   *Enforcer
	req eval.Request
	dec eval.Decision
}

// WriteTo sends b to addr when the policy allows it; a denial is a
// *DeniedError wrapped in a *net.OpError.
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var ap netip.AddrPort
	zone := ""
	if u, ok := addr.(*net.UDPAddr); ok {
		ap, zone = u.AddrPort(), u.Zone
	} else if a, err := netip.ParseAddrPort(addr.String()); err == nil {
		ap, zone = a, a.Addr().Zone()
	} else {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: err}
	}
	ctx := context.Background()
	st := c.e.cur.Load()
	q := eval.Request{Op: eval.Send, Addr: ap.Addr().Unmap().WithZone(""), Port: ap.Port()}
	d, via := st.tracker.DecideVia(q)
	q.Name = via
	if !d.Allowed {
		derr := denied(st, q, d)
		c.e.observe(ctx, st, Event{Request: q, Decision: d, ByAddress: true, Err: derr})
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: derr}
	}
	host := hostSide(q, d)
	ua := net.UDPAddrFromAddrPort(host)
	if zone != "" && host.Addr() == q.Addr {
		ua.Zone = zone
	}
	n, err := c.pc.WriteTo(b, ua)
	c.e.observe(ctx, st, Event{Request: q, Decision: d, Host: host, ByAddress: true, Err: err})
	return n, err
}

// ReadFrom reads a packet and the address it came from (the host side).
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) { return c.pc.ReadFrom(b) }

// Close closes the socket.
func (c *PacketConn) Close() error { return c.pc.Close() }

// LocalAddr returns the socket's local address (host side).
func (c *PacketConn) LocalAddr() net.Addr { return c.pc.LocalAddr() }

// SetDeadline sets the read and write deadlines.
func (c *PacketConn) SetDeadline(t time.Time) error { return c.pc.SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (c *PacketConn) SetReadDeadline(t time.Time) error { return c.pc.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (c *PacketConn) SetWriteDeadline(t time.Time) error { return c.pc.SetWriteDeadline(t) }

// Request returns the bind request as decided.
func (c *PacketConn) Request() eval.Request { return c.req }

// Decision returns the decision that allowed the bind.
func (c *PacketConn) Decision() eval.Decision { return c.dec }
