// Package loopback is a TCP server on a loopback address for tests: it
// serves each connection with a handler, counts the connections, and
// stops (waiting for its handlers) when the test ends.
package loopback

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// Server is a TCP server on loopback.
type Server struct {
	L     net.Listener
	conns atomic.Int64
}

// Serve listens on addr (a loopback address, port 0 for one the system
// picks) and serves each connection with handle, which closes it when it
// returns.
func Serve(t testing.TB, addr string, handle func(net.Conn)) *Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{L: l}
	var wg sync.WaitGroup
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	}()
	// The accept loop ends before the handlers are waited for, so that no
	// handler is added while waiting.
	t.Cleanup(func() { l.Close(); <-accepting; wg.Wait() })
	return s
}

// Echo serves connections by echoing what they send.
func Echo(t testing.TB, addr string) *Server {
	return Serve(t, addr, func(c net.Conn) { io.Copy(c, c) })
}

// Sink serves connections by reading them to their end.
func Sink(t testing.TB, addr string) *Server {
	return Serve(t, addr, func(c net.Conn) { io.Copy(io.Discard, c) })
}

// Conns returns the number of connections accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Addr returns the listening address ("127.0.0.1:41234").
func (s *Server) Addr() string { return s.L.Addr().String() }

// Port returns the listening port.
func (s *Server) Port() uint16 { return netip.MustParseAddrPort(s.Addr()).Port() }
