package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/capspec/capspec/internal/syncbuf"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/enforce"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/dnstest"
	"github.com/capspec/capspec/internal/loopback"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/proxy"
)

// lockedBuffer is an audit log destination the test reads while the
// proxy writes.
type lockedBuffer struct{ syncbuf.Buffer }

// entries returns the audit lines written so far.
func (l *lockedBuffer) entries(t testing.TB) []proxy.Entry {
	t.Helper()
	var out []proxy.Entry
	sc := bufio.NewScanner(bytes.NewReader(l.Bytes()))
	for sc.Scan() {
		var e proxy.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// waitEntry waits until an audit entry satisfies ok, and returns it.
func (l *lockedBuffer) waitEntry(t testing.TB, ok func(proxy.Entry) bool) proxy.Entry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range l.entries(t) {
			if ok(e) {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no such audit entry in:\n%s", l.String())
	return proxy.Entry{}
}

// rig is a proxy on loopback with its DNS server and audit log.
type rig struct {
	srv   *proxy.Server
	enf   *enforce.Enforcer
	dns   *dnstest.Server
	log   *lockedBuffer
	socks string // SOCKS address
	http  string // HTTP proxy address
	done  chan error
}

// newRig starts a proxy deciding with flags.
func newRig(t testing.TB, cfg proxy.Config, flags ...string) *rig {
	t.Helper()
	r := &rig{dns: dnstest.New(t), log: &lockedBuffer{}, done: make(chan error, 2)}
	ifaces := eval.NewInterfaces(map[string][]netip.Prefix{"lo": {netip.MustParsePrefix("127.0.0.1/8")}})
	e, err := enforce.NewFromFlags(enforce.Options{DNS: r.dns.Resolver(), Interfaces: ifaces, Observe: proxy.Observe}, flags...)
	if err != nil {
		t.Fatal(err)
	}
	r.enf = e
	cfg.Enforcer = e
	cfg.Log = proxy.NewAuditLog(r.log)
	r.srv = proxy.New(cfg)
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.socks, r.http = sl.Addr().String(), hl.Addr().String()
	go func() { r.done <- r.srv.ServeSOCKS(sl) }()
	go func() { r.done <- r.srv.ServeHTTPProxy(hl) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.srv.Shutdown(ctx)
		for range 2 {
			if err := <-r.done; err != proxy.ErrServerClosed {
				t.Errorf("serve returned %v", err)
			}
		}
	})
	return r
}

// webServer is an HTTP server on loopback answering "hello NAME" where
// NAME is its own address.
func webServer(t testing.TB, addr string) (*httptest.Server, uint16) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s for %s", l.Addr(), r.Host)
	}))
	s.Listener.Close()
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return s, netip.MustParseAddrPort(l.Addr().String()).Port()
}

// newEchoServer echoes on addr and counts its connections.
func newEchoServer(t testing.TB, addr string) *loopback.Server { return loopback.Echo(t, addr) }

// socksConnect runs a SOCKS5 handshake and CONNECT for the raw request
// bytes req (VER CMD RSV ATYP ADDR PORT) and returns the reply code.
func socksConnect(t testing.TB, c net.Conn, req []byte) byte {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		t.Fatal(err)
	}
	var m [2]byte
	if _, err := io.ReadFull(c, m[:]); err != nil || m != [2]byte{5, 0} {
		t.Fatalf("method reply %v, %v", m, err)
	}
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	var rep [4]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		t.Fatalf("reply: %v", err)
	}
	n := 4
	if rep[3] == 4 {
		n = 16
	}
	rest := make([]byte, n+2)
	if _, err := io.ReadFull(c, rest); err != nil {
		t.Fatalf("reply address: %v", err)
	}
	c.SetDeadline(time.Time{})
	return rep[1]
}

// domainRequest is a CONNECT request to name:port.
func domainRequest(name string, port uint16) []byte {
	b := []byte{5, 1, 0, 3, byte(len(name))}
	b = append(b, name...)
	return append(b, byte(port>>8), byte(port))
}

func newTLSServer(t testing.TB) *tlsServer {
	t.Helper()
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
	t.Cleanup(s.Close)
	cfg := s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.ServerName = "example.com" // httptest's certificate names example.com and 127.0.0.1
	return &tlsServer{port: netip.MustParseAddrPort(s.Listener.Addr().String()).Port(), clientConfig: cfg}
}

// compileFlags compiles flags (the policy must have no errors).
func compileFlags(flags ...string) (*policy.Policy, error) {
	p, ds := eval.CompileFlags(flags...)
	if diag.HasErrors(ds) {
		return nil, fmt.Errorf("%v", ds)
	}
	return p, nil
}
