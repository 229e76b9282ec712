// Package proxy serves SOCKS5 (RFC 1928, CONNECT without authentication)
// and an HTTP proxy (CONNECT tunnels and absolute-form plain HTTP) that
// decide every lookup and connect of their clients through an
// enforce.Enforcer (SPEC §9): names are resolved by the proxy, so a client
// using socks5h:// or an HTTP proxy has its lookups decided too. A denied
// SOCKS request gets reply 0x02, a denied HTTP request 403 with the
// reason. Every decision is one line of an AuditLog; a connection's line
// is written when it closes, with the bytes both ways.
package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capspec/capspec/enforce"
	"github.com/capspec/capspec/eval"
)

// Defaults of Config.
const (
	DefaultMaxConns         = 1024
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultDialTimeout      = 30 * time.Second
)

// Config configures a Server. A zero field takes its default.
type Config struct {
	// Enforcer decides and makes the connections. Its Options.Observe
	// must call Observe for the audit log to see the decisions.
	Enforcer *enforce.Enforcer
	// Log receives the audit lines (nil: none).
	Log *AuditLog
	// MaxConns is the most client connections open at once, SOCKS and
	// HTTP together; at the limit, new connections wait in the listen
	// queue. Default 1024.
	MaxConns int
	// IdleTimeout closes a tunnel through which no byte moved in either
	// direction for this long (and an HTTP client connection idle between
	// requests). Default 5 minutes.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the time a client takes to send its SOCKS
	// handshake or its HTTP request headers. Default 10 seconds.
	HandshakeTimeout time.Duration
	// DialTimeout bounds a connect, lookups included. Default 30 seconds.
	DialTimeout time.Duration
}

// Server is a SOCKS5 and HTTP proxy under a policy.
type Server struct {
	cfg  Config
	sem  chan struct{}
	done chan struct{}

	mu        sync.Mutex
	closing   bool
	forced    bool // the grace period is over: everything open is closed
	listeners map[net.Listener]struct{}
	active    map[io.Closer]struct{} // open client connections and tunnels
	https     []*httpServer
	running   int // handlers of SOCKS clients and HTTP tunnels running

	open atomic.Int64 // tunnels open (for tests and the stop line)
}

// New returns a server; it serves once given listeners.
func New(cfg Config) *Server {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Log == nil {
		cfg.Log = NewAuditLog(nil)
	}
	return &Server{cfg: cfg, sem: make(chan struct{}, cfg.MaxConns), done: make(chan struct{}),
		listeners: map[net.Listener]struct{}{}, active: map[io.Closer]struct{}{}}
}

// ErrServerClosed is returned by the Serve methods after Shutdown.
var ErrServerClosed = errors.New("proxy: server closed")

// acquire takes a connection slot, waiting for one; false when the
// server is closing.
func (s *Server) acquire() bool {
	select {
	case s.sem <- struct{}{}:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) release() { <-s.sem }

// track registers a listener; false when the server is closing.
func (s *Server) track(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

// hold registers something to close on a forced shutdown; false when the
// grace period is over (the caller closes it at once).
func (s *Server) hold(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forced {
		return false
	}
	s.active[c] = struct{}{}
	return true
}

func (s *Server) unhold(c io.Closer) {
	s.mu.Lock()
	delete(s.active, c)
	s.mu.Unlock()
}

// ServeSOCKS accepts SOCKS5 clients on l until Shutdown (then it returns
// ErrServerClosed) or until l fails.
func (s *Server) ServeSOCKS(l net.Listener) error {
	if !s.track(l) {
		return ErrServerClosed
	}
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return ErrServerClosed
			default:
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		// At the limit, wait here: later clients wait in the listen queue.
		if !s.acquire() {
			c.Close()
			return ErrServerClosed
		}
		if !s.enter() {
			c.Close()
			s.release()
			return ErrServerClosed
		}
		go func() {
			defer s.leave()
			defer s.release()
			s.serveSOCKS(c)
		}()
	}
}

// serveSOCKS serves one SOCKS client.
func (s *Server) serveSOCKS(c net.Conn) {
	defer c.Close()
	if !s.hold(c) {
		return
	}
	held := true
	defer func() {
		if held {
			s.unhold(c)
		}
	}()
	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	br := bufio.NewReaderSize(c, 512)
	if err := readGreeting(br, c); err != nil {
		return
	}
	q, err := readRequest(br, c)
	if err != nil {
		return
	}
	rec := &record{proxy: "socks5", client: c.RemoteAddr().String()}
	up, final, err := s.dial(rec, q.target())
	if err != nil {
		c.Write(socksReply(replyFor(err), netip.AddrPort{}))
		return
	}
	if _, err := c.Write(socksReply(repSucceeded, addrPortOf(up.LocalAddr()))); err != nil {
		up.Close()
		s.logConn(rec, final, 0, 0, 0, "error")
		return
	}
	var early []byte
	if n := br.Buffered(); n > 0 {
		early, _ = br.Peek(n)
	}
	s.unhold(c) // the tunnel holds it now
	held = false
	s.tunnel(rec, final, c, up, early)
}

// dial connects to target ("host:port") through the enforcer, and logs
// every decision but the one of the connection made, which it returns
// (logged when the connection closes).
func (s *Server) dial(rec *record, target string) (net.Conn, timedEvent, error) {
	ctx, cancel := context.WithTimeout(withRecord(context.Background(), rec), s.cfg.DialTimeout)
	defer cancel()
	return s.dialCtx(ctx, rec, target)
}

func (s *Server) dialCtx(ctx context.Context, rec *record, target string) (net.Conn, timedEvent, error) {
	up, err := s.cfg.Enforcer.DialContext(ctx, "tcp", target)
	evs := rec.take()
	var final timedEvent
	if err == nil {
		for i := len(evs) - 1; i >= 0; i-- {
			if ev := evs[i].ev; ev.Request.Op == eval.Connect && ev.Decision.Allowed && ev.Err == nil {
				final = evs[i]
				evs = append(evs[:i:i], evs[i+1:]...)
				break
			}
		}
	}
	for _, te := range evs {
		s.cfg.Log.Write(decisionEntry(rec.proxy, rec.client, te.at, te.ev))
	}
	return up, final, err
}

// logConn writes the line of a connection that closed.
func (s *Server) logConn(rec *record, final timedEvent, up, down int64, dur time.Duration, why string) {
	e := decisionEntry(rec.proxy, rec.client, final.at, final.ev)
	ms := float64(dur.Microseconds()) / 1000
	e.BytesUp, e.BytesDown, e.DurationMS, e.Closed = &up, &down, &ms, why
	s.cfg.Log.Write(e)
}

// addrPortOf returns the address and port of a socket address.
func addrPortOf(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// isTemporary reports an accept error worth waiting after (out of file
// descriptors, an aborted connection).
func isTemporary(err error) bool {
	var se interface{ Temporary() bool }
	return errors.As(err, &se) && se.Temporary()
}

// Shutdown stops accepting, lets open connections finish until ctx is
// done, then closes them. It returns ctx's error when it had to close
// connections, and how many.
func (s *Server) Shutdown(ctx context.Context) (forced int, err error) {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.done)
		for l := range s.listeners {
			l.Close()
		}
	}
	https := s.https
	s.mu.Unlock()
	for _, h := range https {
		h.srv.Shutdown(ctx)
	}
	if s.wait(ctx) {
		return 0, nil
	}
	s.mu.Lock()
	s.forced = true
	forced = len(s.active)
	for c := range s.active {
		c.Close()
	}
	s.mu.Unlock()
	for _, h := range https {
		h.srv.Close()
	}
	s.wait(context.Background())
	return forced, ctx.Err()
}

// enter counts a handler in; false once the grace period is over.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forced {
		return false
	}
	s.running++
	return true
}

// leave counts a handler out.
func (s *Server) leave() {
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
}

// wait waits until no handler runs (true) or ctx is done (false).
func (s *Server) wait(ctx context.Context) bool {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		n := s.running
		s.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// Open returns the number of tunnels open.
func (s *Server) Open() int { return int(s.open.Load()) }
