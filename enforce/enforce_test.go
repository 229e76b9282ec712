package enforce_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capspec/capspec/enforce"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/dnstest"
)

// loTable is the interface table of the tests: lo (127.0.0.1, ::1) and a
// made-up eth9 owning 127.0.0.5, which the machine does not have.
func loTable() *eval.Interfaces {
	return eval.NewInterfaces(map[string][]netip.Prefix{
		"lo":   {netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
		"eth9": {netip.MustParsePrefix("127.0.0.5/8")},
	})
}

func TestDialByNameOverDNS(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	d := dnstest.New(t)
	d.Set("app.test", "127.0.0.1", "::1")
	e, rec := newEnforcer(t, d.Resolver(), fmt.Sprintf("--allow-outbound=tcp://app.test:%d#ipv4-only", srv.Port()))

	c, err := e.DialContext(context.Background(), "tcp", fmt.Sprintf("App.Test.:%d", srv.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g := greeting(t, c); !strings.Contains(g, "127.0.0.1") {
		t.Errorf("greeting %q", g)
	}
	// The rule is #ipv4-only: the lookup asks DNS for A records only.
	if !d.Asked("app.test", "A") || d.Asked("app.test", "AAAA") {
		t.Errorf("DNS asked A=%v AAAA=%v, want A only", d.Asked("app.test", "A"), d.Asked("app.test", "AAAA"))
	}
	want := []string{"allow lookup app.test", fmt.Sprintf("allow connect tcp 127.0.0.1:%d via app.test", srv.Port())}
	if got := rec.lines(); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	// The answer is remembered: a connect by address counts as resolved from app.test.
	c2, err := e.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.Port()))
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	if got := rec.lines(); got[len(got)-1] != fmt.Sprintf("allow connect tcp 127.0.0.1:%d via app.test", srv.Port()) {
		t.Errorf("last event %q", got[len(got)-1])
	}
}

func TestDenialError(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	e, rec := newEnforcer(t, nil, fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", srv.Port()))
	other := srv.Port() + 1
	if other == 0 {
		other = 1
	}
	_, err := e.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", other))
	de := mustDenied(t, err)
	if de.Request.String() != fmt.Sprintf("connect tcp 127.0.0.1:%d", other) || de.Decision.Allowed {
		t.Errorf("denial of %s, allowed=%v", de.Request, de.Decision.Allowed)
	}
	want := fmt.Sprintf("capspec: connect tcp 127.0.0.1:%d denied: nearest rule 1 at flag[0]:1:1 (--allow-outbound=tcp://127.0.0.1:%d): port %d not in %d", other, srv.Port(), other, srv.Port())
	if !strings.HasPrefix(de.Error(), want) {
		t.Errorf("message\n%s\nwant prefix\n%s", de.Error(), want)
	}
	if srv.Conns() != 0 {
		t.Error("the server got a connection")
	}
	if got := rec.lines(); !slices.Equal(got, []string{"deny connect tcp 127.0.0.1:" + fmt.Sprint(other)}) {
		t.Errorf("events %q", got)
	}

	// A lookup the policy does not allow never reaches DNS.
	d := dnstest.New(t)
	d.Set("evil.test", "127.0.0.1")
	e2, _ := newEnforcer(t, d.Resolver(), "--allow-outbound=tcp://good.test:80")
	_, err = e2.Dial("tcp", "evil.test:80")
	if de := mustDenied(t, err); de.Request.String() != "lookup evil.test" {
		t.Errorf("denied %s, want the lookup", de.Request)
	}
	if d.Queries() != 0 {
		t.Errorf("%d DNS queries for a denied lookup", d.Queries())
	}

	// Hostile spellings are refused as requests, never guessed.
	for _, addr := range []string{"127.1:80", "0x7f.0.0.1:80", "2130706433:80", "exa\u200bmple.com:80", "[::ffff:0.0.0.0]:80", "0.0.0.0:80", "[::]:80"} {
		e3, _ := newEnforcer(t, nil, "--allow-outbound=tcp://*:*", "--allow-resolve=*")
		_, err := e3.Dial("tcp", addr)
		mustDenied(t, err)
	}
}

func TestMappingWithoutDNS(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	d := dnstest.New(t)
	d.Set("my-database.internal", "127.0.0.9")
	e, rec := newEnforcer(t, d.Resolver(), fmt.Sprintf("--allow-outbound=tcp://my-database.internal->127.0.0.1:5432->%d", srv.Port()))
	c, err := e.Dial("tcp", "my-database.internal:5432")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g := greeting(t, c); g != "hello from "+srv.Addr() {
		t.Errorf("greeting %q", g)
	}
	if d.Queries() != 0 {
		t.Errorf("%d DNS queries for a mapped name", d.Queries())
	}
	if got := c.RemoteAddr().String(); got != srv.Addr() {
		t.Errorf("remote %s, want the host side %s", got, srv.Addr())
	}
	// The guest's view: the lookup answers the mapping, and a connect to
	// the mapped address and guest port goes to the host port.
	as, err := e.Resolver().LookupNetIP(context.Background(), "ip", "my-database.internal")
	if err != nil || len(as) != 1 || as[0] != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("lookup = %v, %v", as, err)
	}
	c2, err := e.Dial("tcp", "127.0.0.1:5432")
	if err != nil {
		t.Fatal(err)
	}
	greeting(t, c2)
	c2.Close()
	if n := srv.Conns(); n != 2 {
		t.Errorf("%d connections reached the host port, want 2", n)
	}
	if got := rec.lines(); got[0] != "allow lookup my-database.internal" || got[1] != "allow connect tcp 127.0.0.1:5432 via my-database.internal" {
		t.Errorf("events %q", got)
	}
}

func TestRebinding(t *testing.T) {
	// The same port on 127.0.0.2 and 127.0.0.3: a server on each, so that
	// a connect that should not happen would succeed.
	s2 := newServer(t, "127.0.0.2:0")
	s3 := newServer(t, fmt.Sprintf("127.0.0.3:%d", s2.Port()))
	port := s2.Port()
	d := dnstest.New(t)

	t.Run("dial by name", func(t *testing.T) {
		e, _ := newEnforcer(t, d.Resolver(), "--allow-resolve=rebind.test", fmt.Sprintf("--allow-outbound=tcp://127.0.0.2:%d", port))
		d.Set("rebind.test", "127.0.0.2")
		c, err := e.Dial("tcp", fmt.Sprintf("rebind.test:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		greeting(t, c)
		c.Close()
		d.Set("rebind.test", "127.0.0.3") // the second answer differs
		_, err = e.Dial("tcp", fmt.Sprintf("rebind.test:%d", port))
		if de := mustDenied(t, err); de.Request.String() != fmt.Sprintf("connect tcp 127.0.0.3:%d via rebind.test", port) {
			t.Errorf("denied %s", de.Request)
		}
	})

	// A dialer that resolves by itself, under the enforcer's Control hook:
	// the lookup checked through the enforcer gave 127.0.0.2; the dialer's
	// own lookup gets 127.0.0.3, which the hook sees in the socket address
	// just before the connect, and denies.
	t.Run("control hook", func(t *testing.T) {
		e, rec := newEnforcer(t, d.Resolver(), fmt.Sprintf("--allow-outbound=tcp://rebind.test:%d", port))
		d.Set("rebind.test", "127.0.0.2")
		if _, err := e.Resolver().LookupNetIP(context.Background(), "ip4", "rebind.test"); err != nil {
			t.Fatal(err)
		}
		dialer := &net.Dialer{Resolver: d.Resolver(), ControlContext: e.ControlContext}
		c, err := dialer.Dial("tcp4", fmt.Sprintf("rebind.test:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		greeting(t, c)
		c.Close()
		d.Set("rebind.test", "127.0.0.3")
		_, err = dialer.Dial("tcp4", fmt.Sprintf("rebind.test:%d", port))
		if de := mustDenied(t, err); de.Request.String() != fmt.Sprintf("connect tcp 127.0.0.3:%d", port) {
			t.Errorf("denied %s", de.Request)
		}
		got := rec.lines()
		want := []string{"allow lookup rebind.test ipv4", fmt.Sprintf("allow connect tcp 127.0.0.2:%d via rebind.test", port), fmt.Sprintf("deny connect tcp 127.0.0.3:%d", port)}
		if !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
	})
	if n := s3.Conns(); n != 0 {
		t.Errorf("127.0.0.3 got %d connections", n)
	}
	if n := s2.Conns(); n != 2 {
		t.Errorf("127.0.0.2 got %d connections, want 2", n)
	}
}

func TestControlHookSeesMapping(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	e, _ := newEnforcer(t, nil, fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:5432->%d", srv.Port()))
	dialer := &net.Dialer{ControlContext: e.ControlContext}
	_, err := dialer.Dial("tcp", "127.0.0.1:5432")
	de := mustDenied(t, err)
	if !strings.Contains(de.Error(), fmt.Sprintf("maps it to 127.0.0.1:%d", srv.Port())) {
		t.Errorf("message %q", de.Error())
	}
	c, err := e.Dial("tcp", "127.0.0.1:5432")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestTTL(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	d := dnstest.New(t)
	d.TTL.Store(30)
	d.Set("short.test", "127.0.0.1")
	var mu sync.Mutex
	now := time.Unix(1e9, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e, err := enforce.NewFromFlags(enforce.Options{DNS: ttlDNS{d}, Interfaces: loTable(), Tracker: eval.TrackerOptions{Now: clock}},
		fmt.Sprintf("--allow-outbound=tcp://short.test:%d", srv.Port()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resolver().LookupHost(context.Background(), "short.test"); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", srv.Port())
	c, err := e.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	mu.Lock()
	now = now.Add(31 * time.Second) // past the record's TTL (the tracker's default is 5 minutes)
	mu.Unlock()
	_, err = e.Dial("tcp", addr)
	mustDenied(t, err)
}

func TestListen(t *testing.T) {
	free := freePort(t)
	e, rec := newEnforcer(t, nil,
		fmt.Sprintf("--allow-inbound=tcp://localhost:80->%d", free),
		"--allow-inbound=tcp://127.0.0.1:0",
		"--allow-inbound=tcp://eth9:0",
	)
	ctx := context.Background()

	// Guest port 80 on localhost is host port free, on 127.0.0.1 and ::1.
	l, err := e.Listen(ctx, "tcp", "localhost:80")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Addrs()) != 2 {
		t.Errorf("addrs %v, want 127.0.0.1 and ::1", l.Addrs())
	}
	for _, a := range []string{fmt.Sprintf("127.0.0.1:%d", free), fmt.Sprintf("[::1]:%d", free)} {
		c, err := net.Dial("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		ac, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		ac.Close()
		c.Close()
	}
	l.Close()
	if _, err := l.Accept(); err == nil {
		t.Error("accept after close")
	}

	// Port 0: the system picks.
	l0, err := e.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if p := netip.MustParseAddrPort(l0.Addr().String()).Port(); p == 0 {
		t.Error("no port picked")
	}
	l0.Close()
	// A given port the policy does not name is denied; so is every interface.
	for _, a := range []string{"127.0.0.1:8080", ":0", "0.0.0.0:0", "lo:0"} {
		_, err := e.Listen(ctx, "tcp", a)
		mustDenied(t, err)
	}
	// An interface of the given table: eth9 owns 127.0.0.5.
	l9, err := e.Listen(ctx, "tcp", "eth9:0")
	if err != nil {
		t.Fatal(err)
	}
	if a := l9.Addr().String(); !strings.HasPrefix(a, "127.0.0.5:") {
		t.Errorf("eth9 listens on %s", a)
	}
	l9.Close()
	// 127.0.0.5 belongs to eth9 in the table: a listen on it is allowed by the eth9 rule.
	l5, err := e.Listen(ctx, "tcp", "127.0.0.5:0")
	if err != nil {
		t.Fatal(err)
	}
	l5.Close()
	if got := rec.lines(); got[0] != "allow listen tcp localhost:80" {
		t.Errorf("events %q", got)
	}
}

// freePort returns a TCP port free on 127.0.0.1 and ::1 just now.
func freePort(t testing.TB) int {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l6, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", p))
		l.Close()
		if err == nil {
			l6.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

func TestUDP(t *testing.T) {
	ctx := context.Background()
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	ep := echo.LocalAddr().(*net.UDPAddr).Port
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			echo.WriteTo(buf[:n], from)
		}
	}()
	e, _ := newEnforcer(t, nil, "--allow-inbound=udp://127.0.0.1:0", fmt.Sprintf("--allow-outbound=udp://127.0.0.1:53->%d", ep))
	pc, err := e.ListenPacket(ctx, "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	// Guest port 53 goes to the echo server's port.
	if _, err := pc.WriteTo([]byte("ping"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 10)
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	_, err = pc.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ep})
	mustDenied(t, err)
	if _, err := e.ListenPacket(ctx, "udp", "127.0.0.1:5353"); err == nil {
		t.Error("bind on a port the policy does not name")
	}

	// A connected UDP socket.
	c, err := e.DialContext(ctx, "udp", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("pong"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err = c.Read(buf)
	if err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	_, err = e.DialContext(ctx, "udp", "127.0.0.1:54")
	mustDenied(t, err)
}

// Many goroutines dial, are denied and look up while the policy changes
// (run with -race).
func TestConcurrent(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	d := dnstest.New(t)
	d.Set("app.test", "127.0.0.1")
	flags := []string{fmt.Sprintf("--allow-outbound=tcp://app.test:%d", srv.Port())}
	e, _ := newEnforcer(t, d.Resolver(), flags...)
	p, _ := eval.CompileFlags(flags...)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			for range 10 {
				if i%2 == 0 {
					c, err := e.Dial("tcp", fmt.Sprintf("app.test:%d", srv.Port()))
					if err != nil {
						errs <- err
						return
					}
					c.Close()
				} else {
					_, err := e.Dial("tcp", fmt.Sprintf("other.test:%d", srv.Port()))
					var de *enforce.DeniedError
					if !errorsAs(err, &de) {
						errs <- fmt.Errorf("not denied: %v", err)
						return
					}
					_ = de.Error()
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			e.SetPolicy(p)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
