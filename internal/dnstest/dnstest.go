// Package dnstest is a DNS server on loopback for tests: it answers A and
// AAAA queries from a table the test changes as it goes (to test
// rebinding), over UDP and TCP, and counts what it is asked.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Server is a DNS server on 127.0.0.1.
type Server struct {
	// Addr is the server's address (UDP and TCP).
	Addr string
	// TTL is the TTL of the answers, in seconds (default 60).
	TTL atomic.Uint32

	mu      sync.Mutex
	table   map[string][]netip.Addr
	queries atomic.Int64
	asked   sync.Map // "name TYPE"
}

// New starts a server for the test; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	// The same port for UDP and TCP: the port the system gives UDP may be
	// taken for TCP (by another connection's end), so try a few.
	var pc net.PacketConn
	var l net.Listener
	for attempt := 0; ; attempt++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if attempt == 20 {
			t.Fatal(err)
		}
	}
	s := &Server{Addr: pc.LocalAddr().String(), table: map[string][]netip.Addr{}}
	s.TTL.Store(60)
	for _, srv := range []*dns.Server{{PacketConn: pc}, {Listener: l}} {
		started := make(chan struct{})
		srv.Handler = dns.HandlerFunc(s.serve)
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

// Set makes name (lowercase, no final dot) answer addrs, each in its
// family; no address answers nothing (NOERROR, no records).
func (s *Server) Set(name string, addrs ...string) {
	as := []netip.Addr{}
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	s.mu.Lock()
	s.table[name] = as
	s.mu.Unlock()
}

// Queries returns the number of queries answered.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Asked reports whether the server was asked for name's records of type
// typ ("A", "AAAA").
func (s *Server) Asked(name, typ string) bool {
	_, ok := s.asked.Load(name + " " + typ)
	return ok
}

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg) {
	s.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(r)
	for _, q := range r.Question {
		name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
		s.asked.Store(name+" "+dns.TypeToString[q.Qtype], true)
		s.mu.Lock()
		as, ok := s.table[name]
		s.mu.Unlock()
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		for _, a := range as {
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: s.TTL.Load()}
			switch {
			case q.Qtype == dns.TypeA && a.Is4():
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case q.Qtype == dns.TypeAAAA && a.Is6():
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
	}
	w.WriteMsg(m)
}

// Resolver returns a Go resolver whose queries go to the server.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.Addr)
	}}
}
