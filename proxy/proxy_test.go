package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	xproxy "golang.org/x/net/proxy"

	"github.com/capspec/capspec/proxy"
)

func get(t testing.TB, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPProxyWithGoClient(t *testing.T) {
	web, port := webServer(t, "127.0.0.1:0")
	_ = web
	tlsWeb := newTLSServer(t)
	r := newRig(t, proxy.Config{},
		fmt.Sprintf("--allow-outbound=tcp://app.test:%d", port),
		fmt.Sprintf("--allow-outbound=tcp://secure.test:%d", tlsWeb.port),
	)
	r.dns.Set("app.test", "127.0.0.1")
	r.dns.Set("secure.test", "127.0.0.1")
	pu, _ := url.Parse("http://" + r.http)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: tlsWeb.clientConfig, DisableKeepAlives: true}}

	// Plain HTTP, absolute-form: the proxy resolves app.test and connects.
	code, body := get(t, client, fmt.Sprintf("http://app.test:%d/x", port))
	if code != 200 || !strings.Contains(body, "for app.test:") {
		t.Errorf("plain: %d %q", code, body)
	}
	// HTTPS through a CONNECT tunnel.
	code, body = get(t, client, fmt.Sprintf("https://secure.test:%d/", tlsWeb.port))
	if code != 200 || body != "secure" {
		t.Errorf("connect: %d %q", code, body)
	}
	// A denied request: 403 with the reason.
	code, body = get(t, client, fmt.Sprintf("http://app.test:%d/", port+1))
	if code != 403 || !strings.Contains(body, fmt.Sprintf("connect tcp 127.0.0.1:%d via app.test denied: nearest rule 1 at flag[0]:1:1", port+1)) {
		t.Errorf("denied: %d %q", code, body)
	}
	if _, err := client.Get(fmt.Sprintf("https://other.test:%d/", tlsWeb.port)); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("denied CONNECT: %v", err)
	}

	// The audit log: the lookup, then the connect with its bytes once closed.
	e := r.log.waitEntry(t, func(e proxy.Entry) bool {
		return e.Request == fmt.Sprintf("connect tcp 127.0.0.1:%d via secure.test", tlsWeb.port) && e.BytesDown != nil
	})
	if e.Decision != "allow" || e.Proxy != "http" || e.Rule == nil || e.Rule.Position != "flag[1]:1:1" || *e.BytesUp == 0 || *e.BytesDown == 0 || e.Closed != "eof" && e.Closed != "error" {
		t.Errorf("entry %+v", e)
	}
	r.log.waitEntry(t, func(e proxy.Entry) bool {
		return e.Request == "lookup secure.test" && e.Decision == "allow" && len(e.Answers) == 1 && e.Answers[0] == "127.0.0.1"
	})
	d := r.log.waitEntry(t, func(e proxy.Entry) bool { return e.Request == "lookup other.test" })
	if d.Decision != "deny" || d.Rule != nil || !strings.Contains(d.Reason, "no rule allows it") && !strings.Contains(d.Reason, "nearest") {
		t.Errorf("deny entry %+v", d)
	}
}

func TestHTTPProxyBadRequests(t *testing.T) {
	r := newRig(t, proxy.Config{}, "--allow-outbound=tcp://*:*")
	for _, tc := range []struct{ req, status string }{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"GET https://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", "400"},
		{"CONNECT 127.0.0.1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "400"},
		{"CONNECT 0.0.0.0:80 HTTP/1.1\r\nHost: 0.0.0.0:80\r\n\r\n", "403"},
		{"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", "502"},
	} {
		c, err := net.Dial("tcp", r.http)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, tc.req)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 "+tc.status) {
			t.Errorf("%q: %q, %v; want %s", tc.req, line, err, tc.status)
		}
	}
}

// Hop-by-hop headers are not forwarded.
func TestHTTPProxyHopByHop(t *testing.T) {
	seen := make(chan http.Header, 1)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-End", "yes")
	})}
	go srv.Serve(l)
	defer srv.Close()
	r := newRig(t, proxy.Config{}, "--allow-outbound=tcp://127.0.0.1:*")
	c, err := net.Dial("tcp", r.http)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET http://%s/ HTTP/1.1\r\nHost: %s\r\nProxy-Connection: keep-alive\r\nConnection: X-Secret\r\nX-Secret: 1\r\nProxy-Authorization: Basic eDp5\r\nX-Keep: 1\r\n\r\n", l.Addr(), l.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-seen
	for _, k := range []string{"Proxy-Connection", "X-Secret", "Proxy-Authorization"} {
		if h.Get(k) != "" {
			t.Errorf("%s forwarded", k)
		}
	}
	if h.Get("X-Keep") != "1" || resp.Header.Get("X-End") != "yes" || resp.Header.Get("Keep-Alive") != "" {
		t.Errorf("headers: sent %v, got back %v", h, resp.Header)
	}
}

func TestSOCKSWithXNetProxy(t *testing.T) {
	web, port := webServer(t, "127.0.0.1:0")
	_ = web
	web6, port6 := webServer(t, "[::1]:0")
	_ = web6
	db := newEchoServer(t, "127.0.0.1:0")
	r := newRig(t, proxy.Config{},
		fmt.Sprintf("--allow-outbound=tcp://app.test:%d", port),
		fmt.Sprintf("--allow-outbound=tcp://[::1]:%d", port6),
		fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", port),
		fmt.Sprintf("--allow-outbound=tcp://my-database.internal->127.0.0.1:5432->%d", db.Port()),
	)
	r.dns.Set("app.test", "127.0.0.1")
	d, err := xproxy.SOCKS5("tcp", r.socks, nil, xproxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	cd := d.(xproxy.ContextDialer)
	client := &http.Client{Transport: &http.Transport{DialContext: cd.DialContext, DisableKeepAlives: true}}
	// A domain name (resolved by the proxy), an IPv4 and an IPv6 address.
	for _, u := range []string{
		fmt.Sprintf("http://app.test:%d/", port),
		fmt.Sprintf("http://127.0.0.1:%d/", port),
		fmt.Sprintf("http://[::1]:%d/", port6),
	} {
		if code, body := get(t, client, u); code != 200 || !strings.HasPrefix(body, "hello") {
			t.Errorf("%s: %d %q", u, code, body)
		}
	}
	// Denied: reply 0x02, which x/net/proxy reports as such.
	_, err = d.Dial("tcp", fmt.Sprintf("app.test:%d", port+1))
	if err == nil || !strings.Contains(err.Error(), "not allowed by ruleset") {
		t.Errorf("denied dial: %v", err)
	}
	// The mapping: my-database.internal:5432 reaches the echo server.
	c, err := d.Dial("tcp", "my-database.internal:5432")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "ping")
	b := make([]byte, 4)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Errorf("echo %q %v", b, err)
	}
	c.Close()
	if r.dns.Queries() == 0 {
		t.Error("app.test was not resolved over DNS")
	}
	e := r.log.waitEntry(t, func(e proxy.Entry) bool {
		return e.Request == "connect tcp 127.0.0.1:5432 via my-database.internal" && e.BytesUp != nil
	})
	if e.Host != fmt.Sprintf("127.0.0.1:%d", db.Port()) || *e.BytesUp != 4 || *e.BytesDown != 4 || e.Proxy != "socks5" {
		t.Errorf("mapped entry %+v", e)
	}
}

func TestSOCKSProtocol(t *testing.T) {
	echo := newEchoServer(t, "127.0.0.1:0")
	r := newRig(t, proxy.Config{}, fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", echo.Port()), "--allow-outbound=tcp://refused.test:1")
	r.dns.Set("refused.test", "127.0.0.1")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", r.socks)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	p := echo.Port()
	for _, tc := range []struct {
		name string
		req  []byte
		rep  byte
	}{
		{"ipv4", []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(p >> 8), byte(p)}, 0},
		{"bind", []byte{5, 2, 0, 1, 127, 0, 0, 1, byte(p >> 8), byte(p)}, 7},
		{"udp associate", []byte{5, 3, 0, 1, 127, 0, 0, 1, byte(p >> 8), byte(p)}, 7},
		{"bad address type", []byte{5, 1, 0, 9, 127, 0, 0, 1}, 8},
		{"denied port", []byte{5, 1, 0, 1, 127, 0, 0, 1, byte((p + 1) >> 8), byte(p + 1)}, 2},
		{"denied name", domainRequest("evil.test", p), 2},
		{"legacy ipv4 name", domainRequest("127.1", p), 2},
		{"refused", domainRequest("refused.test", 1), 5},
		{"unknown name", domainRequest("refused.test.", 1), 5},
	} {
		if got := socksConnect(t, dial(), tc.req); got != tc.rep {
			t.Errorf("%s: reply %#x, want %#x", tc.name, got, tc.rep)
		}
	}
	// No acceptable method.
	c := dial()
	c.Write([]byte{5, 1, 2})
	var m [2]byte
	if _, err := io.ReadFull(c, m[:]); err != nil || m != [2]byte{5, 0xff} {
		t.Errorf("method reply %v %v", m, err)
	}
	// Data sent right after the request is not lost.
	c = dial()
	c.Write([]byte{5, 1, 0})
	io.ReadFull(c, m[:])
	c.Write(append([]byte{5, 1, 0, 1, 127, 0, 0, 1, byte(p >> 8), byte(p)}, "early"...))
	buf := make([]byte, 10+5)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf[10:]) != "early" {
		t.Errorf("early data: %q %v", buf, err)
	}
}

// The second DNS answer differs: the proxy decides it again and denies.
func TestSOCKSRebinding(t *testing.T) {
	s2 := newEchoServer(t, "127.0.0.2:0")
	s3 := newEchoServer(t, fmt.Sprintf("127.0.0.3:%d", s2.Port()))
	r := newRig(t, proxy.Config{}, "--allow-resolve=rebind.test", fmt.Sprintf("--allow-outbound=tcp://127.0.0.2:%d", s2.Port()))
	r.dns.Set("rebind.test", "127.0.0.2")
	c, _ := net.Dial("tcp", r.socks)
	if rep := socksConnect(t, c, domainRequest("rebind.test", s2.Port())); rep != 0 {
		t.Fatalf("first: %#x", rep)
	}
	c.Close()
	r.dns.Set("rebind.test", "127.0.0.3")
	c, _ = net.Dial("tcp", r.socks)
	if rep := socksConnect(t, c, domainRequest("rebind.test", s2.Port())); rep != 2 {
		t.Fatalf("second: %#x", rep)
	}
	c.Close()
	if s3.Conns() != 0 {
		t.Error("127.0.0.3 was reached")
	}
	r.log.waitEntry(t, func(e proxy.Entry) bool {
		return e.Request == fmt.Sprintf("connect tcp 127.0.0.3:%d via rebind.test", s2.Port()) && e.Decision == "deny"
	})
}

func TestIdleTimeout(t *testing.T) {
	echo := newEchoServer(t, "127.0.0.1:0")
	r := newRig(t, proxy.Config{IdleTimeout: time.Second}, fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", echo.Port()))
	req := []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(echo.Port() >> 8), byte(echo.Port())}

	// Traffic every 100ms for two seconds keeps the tunnel open.
	busy, _ := net.Dial("tcp", r.socks)
	defer busy.Close()
	if rep := socksConnect(t, busy, req); rep != 0 {
		t.Fatal(rep)
	}
	b := make([]byte, 1)
	for range 20 {
		busy.Write([]byte{'x'})
		busy.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(busy, b); err != nil {
			t.Fatalf("busy tunnel closed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A silent one is closed.
	quiet, _ := net.Dial("tcp", r.socks)
	defer quiet.Close()
	if rep := socksConnect(t, quiet, req); rep != 0 {
		t.Fatal(rep)
	}
	start := time.Now()
	quiet.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := quiet.Read(b); err != io.EOF {
		t.Errorf("quiet tunnel: %v", err)
	}
	if d := time.Since(start); d < time.Second || d > 8*time.Second {
		t.Errorf("closed after %v", d)
	}
	r.log.waitEntry(t, func(e proxy.Entry) bool { return e.Closed == "idle" })
}

func TestShutdown(t *testing.T) {
	echo := newEchoServer(t, "127.0.0.1:0")
	r := newRig(t, proxy.Config{}, fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", echo.Port()))
	req := []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(echo.Port() >> 8), byte(echo.Port())}
	c, _ := net.Dial("tcp", r.socks)
	defer c.Close()
	if rep := socksConnect(t, c, req); rep != 0 {
		t.Fatal(rep)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// The tunnel still works during the grace period; new clients are refused.
	go func() {
		time.Sleep(50 * time.Millisecond)
		c.Write([]byte("still"))
	}()
	done := make(chan int)
	go func() { n, _ := r.srv.Shutdown(ctx); done <- n }()
	b := make([]byte, 5)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "still" {
		t.Errorf("tunnel during grace: %q %v", b, err)
	}
	if forced := <-done; forced != 1 {
		t.Errorf("forced %d, want 1", forced)
	}
	if _, err := c.Read(b); err == nil {
		t.Error("tunnel open after the grace period")
	}
	if _, err := net.DialTimeout("tcp", r.socks, time.Second); err == nil {
		t.Error("still accepting")
	}
	r.log.waitEntry(t, func(e proxy.Entry) bool { return e.Closed == "shutdown" })
}

func TestMaxConns(t *testing.T) {
	echo := newEchoServer(t, "127.0.0.1:0")
	r := newRig(t, proxy.Config{MaxConns: 2}, fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", echo.Port()))
	req := []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(echo.Port() >> 8), byte(echo.Port())}
	var cs []net.Conn
	for range 2 {
		c, _ := net.Dial("tcp", r.socks)
		defer c.Close()
		if rep := socksConnect(t, c, req); rep != 0 {
			t.Fatal(rep)
		}
		cs = append(cs, c)
	}
	third, _ := net.Dial("tcp", r.http) // the limit counts both listeners
	defer third.Close()
	fmt.Fprintf(third, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n", echo.Port())
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("a third connection was served at the limit of 2")
	}
	cs[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(third).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Errorf("after a slot freed: %q %v", line, err)
	}
}

// tlsServer is an HTTPS server on loopback answering "secure".
type tlsServer struct {
	port         uint16
	clientConfig *tls.Config
}
