package enforce_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/capspec/capspec/enforce"
	"github.com/capspec/capspec/internal/dnstest"
	"github.com/capspec/capspec/internal/loopback"
)

// ttlDNS asks the server with miekg/dns's client and reports the TTLs of
// the answers (an enforce.TTLDNS).
type ttlDNS struct{ s *dnstest.Server }

func (d ttlDNS) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	as, _, err := d.LookupNetIPTTL(ctx, network, host)
	return as, err
}

func (d ttlDNS) LookupNetIPTTL(ctx context.Context, network, host string) ([]netip.Addr, time.Duration, error) {
	var types []uint16
	if network != "ip6" {
		types = append(types, dns.TypeA)
	}
	if network != "ip4" {
		types = append(types, dns.TypeAAAA)
	}
	var out []netip.Addr
	ttl := time.Duration(-1)
	c := new(dns.Client)
	for _, typ := range types {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(host), typ)
		r, _, err := c.ExchangeContext(ctx, m, d.s.Addr)
		if err != nil {
			return nil, 0, err
		}
		for _, rr := range r.Answer {
			t := time.Duration(rr.Header().Ttl) * time.Second
			if ttl < 0 || t < ttl {
				ttl = t
			}
			switch rr := rr.(type) {
			case *dns.A:
				a, _ := netip.AddrFromSlice(rr.A)
				out = append(out, a.Unmap())
			case *dns.AAAA:
				a, _ := netip.AddrFromSlice(rr.AAAA)
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return nil, 0, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, ttl, nil
}

// newServer listens on addr ("127.0.0.1:0") and writes a greeting naming
// its address to each connection, then echoes.
func newServer(t testing.TB, addr string) *loopback.Server {
	t.Helper()
	var s *loopback.Server
	ready := make(chan struct{})
	s = loopback.Serve(t, addr, func(c net.Conn) {
		<-ready
		io.WriteString(c, "hello from "+s.Addr()+"\n")
		io.Copy(c, c)
	})
	close(ready)
	return s
}

// greeting reads the first line a server writes.
func greeting(t testing.TB, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b []byte
	one := make([]byte, 1)
	for {
		n, err := c.Read(one)
		if err != nil {
			t.Fatalf("reading the greeting: %v", err)
		}
		if n == 1 {
			if one[0] == '\n' {
				return string(b)
			}
			b = append(b, one[0])
		}
	}
}

// events records the events an Enforcer reports.
type events struct {
	mu  sync.Mutex
	evs []enforce.Event
}

func (r *events) observe(_ context.Context, ev enforce.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

// lines returns each event as "allow|deny REQUEST".
func (r *events) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.evs {
		word := "allow"
		if !ev.Decision.Allowed {
			word = "deny"
		}
		out = append(out, word+" "+ev.Request.String())
	}
	return out
}

// mustDenied returns the *enforce.DeniedError inside err, or fails.
func mustDenied(t testing.TB, err error) *enforce.DeniedError {
	t.Helper()
	var de *enforce.DeniedError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is no denial", err, err)
	}
	if !errors.Is(err, enforce.ErrDenied) {
		t.Fatalf("errors.Is(%v, ErrDenied) is false", err)
	}
	return de
}

// newEnforcer compiles flags into an Enforcer with the test's DNS and a
// fixed interface table (lo: loopback), recording events.
func newEnforcer(t testing.TB, d enforce.DNS, flags ...string) (*enforce.Enforcer, *events) {
	t.Helper()
	rec := &events{}
	e, err := enforce.NewFromFlags(enforce.Options{DNS: d, Interfaces: loTable(), Observe: rec.observe}, flags...)
	if err != nil {
		t.Fatal(err)
	}
	return e, rec
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
