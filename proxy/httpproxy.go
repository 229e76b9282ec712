package proxy

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capspec/capspec/enforce"
)

// httpServer is the net/http server of one HTTP proxy listener.
type httpServer struct {
	srv *http.Server
}

// limitListener takes a connection slot of the server before each accept;
// the slot is given back when the connection closes (or, once hijacked
// for a tunnel, when the tunnel ends). Connections are not wrapped, so a
// tunnel copies between the TCP connections themselves.
type limitListener struct {
	net.Listener
	s *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	// At the limit, wait here: later clients wait in the listen queue.
	if !l.s.acquire() {
		c.Close()
		return nil, net.ErrClosed
	}
	return c, nil
}

// ServeHTTPProxy accepts HTTP proxy clients on l until Shutdown (then it
// returns ErrServerClosed) or until l fails. It serves CONNECT tunnels and
// absolute-form plain HTTP requests (http:// only: https goes through
// CONNECT); anything else gets 400.
func (s *Server) ServeHTTPProxy(l net.Listener) error {
	if !s.track(l) {
		return ErrServerClosed
	}
	h := &httpServer{}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(*httputil.ProxyRequest) {}, // the absolute URL as asked; hop-by-hop headers are dropped
		Transport:     s.transport(),
		ErrorHandler:  func(w http.ResponseWriter, _ *http.Request, err error) { httpError(w, err) },
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	h.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveHTTP(w, r, rp) }),
		ReadHeaderTimeout: s.cfg.HandshakeTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				if !s.hold(c) {
					c.Close()
				}
			case http.StateHijacked:
				s.unhold(c)
			case http.StateClosed:
				s.unhold(c)
				s.release()
			}
		},
	}
	s.mu.Lock()
	s.https = append(s.https, h)
	s.mu.Unlock()
	err := h.srv.Serve(&limitListener{Listener: l, s: s})
	select {
	case <-s.done:
		return ErrServerClosed
	default:
	}
	return err
}

// serveHTTP serves one request to the proxy.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) {
	if r.Method == http.MethodConnect {
		s.serveConnect(w, r)
		return
	}
	if !r.URL.IsAbs() || r.URL.Host == "" {
		http.Error(w, "capspec proxy: this is a proxy: send CONNECT host:port or an absolute-form request (GET http://host/...)", http.StatusBadRequest)
		return
	}
	if r.URL.Scheme != "http" {
		http.Error(w, "capspec proxy: only http:// URLs are forwarded as requests; use CONNECT for "+r.URL.Scheme, http.StatusBadRequest)
		return
	}
	rec := &record{proxy: "http", client: r.RemoteAddr}
	rp.ServeHTTP(w, r.WithContext(withRecord(r.Context(), rec)))
}

// serveConnect opens a tunnel for a CONNECT request.
func (s *Server) serveConnect(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if _, _, err := net.SplitHostPort(target); err != nil {
		http.Error(w, "capspec proxy: CONNECT needs host:port, not "+target, http.StatusBadRequest)
		return
	}
	rec := &record{proxy: "http", client: r.RemoteAddr}
	ctx, cancel := context.WithTimeout(withRecord(r.Context(), rec), s.cfg.DialTimeout)
	up, final, err := s.dialCtx(ctx, rec, target)
	cancel()
	if err != nil {
		httpError(w, err)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		s.logConn(rec, final, 0, 0, 0, "error")
		http.Error(w, "capspec proxy: cannot tunnel on this connection", http.StatusInternalServerError)
		return
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		up.Close()
		s.logConn(rec, final, 0, 0, 0, "error")
		return
	}
	defer s.release() // the client's slot, which the hijack made ours
	if !s.enter() {
		c.Close()
		up.Close()
		s.logConn(rec, final, 0, 0, 0, "shutdown")
		return
	}
	defer s.leave()
	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		c.Close()
		up.Close()
		s.logConn(rec, final, 0, 0, 0, "error")
		return
	}
	var early []byte
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ = brw.Reader.Peek(n)
	}
	s.tunnel(rec, final, c, up, early)
}

// httpError answers a failed connect: 403 with the reason for a denial,
// 504 for a timeout, 502 otherwise.
func httpError(w http.ResponseWriter, err error) {
	var de *enforce.DeniedError
	var timeout interface{ Timeout() bool }
	switch {
	case asDenied(err, &de):
		http.Error(w, de.Error(), http.StatusForbidden)
	case errors.As(err, &timeout) && timeout.Timeout():
		http.Error(w, "capspec proxy: "+err.Error(), http.StatusGatewayTimeout)
	default:
		http.Error(w, "capspec proxy: "+err.Error(), http.StatusBadGateway)
	}
}

// asDenied finds a denial in err.
func asDenied(err error, de **enforce.DeniedError) bool { return errors.As(err, de) }

// transport makes the destination connections of plain HTTP requests:
// one per request (no connection is kept for another request, so each
// is decided against the policy in force), each logged when it closes.
func (s *Server) transport() *http.Transport {
	return &http.Transport{
		Proxy:              nil,
		DisableKeepAlives:  true,
		DisableCompression: true,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			rec, ok := ctx.Value(recordKey{}).(*record)
			if !ok {
				return nil, errors.New("capspec proxy: a destination connection without a client request")
			}
			up, final, err := s.dialCtx(ctx, rec, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: up, start: time.Now(), done: func(sent, got int64, d time.Duration) {
				s.logConn(rec, final, sent, got, d, "eof")
			}}, nil
		},
	}
}

// countingConn counts the bytes of a destination connection and reports
// them once, when it closes.
type countingConn struct {
	net.Conn
	sent, got atomic.Int64
	start     time.Time
	once      sync.Once
	done      func(sent, got int64, d time.Duration)
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.got.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.sent.Add(int64(n))
	return n, err
}

func (c *countingConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.done(c.sent.Load(), c.got.Load(), time.Since(c.start)) })
	return err
}
