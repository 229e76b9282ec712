package cli

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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/capspec/capspec/internal/syncbuf"

	xproxy "golang.org/x/net/proxy"

	"github.com/capspec/capspec/internal/dnstest"
	"github.com/capspec/capspec/internal/loopback"
)

// runningProxy is "capspec proxy" running in the test process.
type runningProxy struct {
	log     string // the audit log file
	socks   string
	http    string
	sigs    chan os.Signal
	done    chan int
	stderr  *syncbuf.Buffer
	stopped bool
}

// startProxy runs capspec proxy with args (plus loopback listeners on
// ports the system picks, the audit log in a file, and the test's DNS
// server) and waits until it listens.
func startProxy(t *testing.T, d *dnstest.Server, args ...string) *runningProxy {
	t.Helper()
	p := &runningProxy{log: filepath.Join(t.TempDir(), "audit.jsonl"), sigs: make(chan os.Signal, 4), done: make(chan int, 1), stderr: &syncbuf.Buffer{}}
	argv := append([]string{"capspec", "proxy", "--socks", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log", p.log, "--dns", d.Addr, "--grace", "2s"}, args...)
	go func() {
		p.done <- Run(Env{Args: argv, Stdout: io.Discard, Stderr: p.stderr, Signals: p.sigs})
	}()
	start := p.waitEntry(t, func(e map[string]any) bool { return e["event"] == "start" })
	p.socks, _ = start["socks"].(string)
	p.http, _ = start["http"].(string)
	t.Cleanup(func() {
		if !p.stopped {
			p.stop(t, syscall.SIGTERM)
		}
	})
	return p
}

// entries returns the audit log's lines.
func (p *runningProxy) entries(t *testing.T) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(p.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// waitEntry waits for an audit line that satisfies ok.
func (p *runningProxy) waitEntry(t *testing.T, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, e := range p.entries(t) {
			if ok(e) {
				return e
			}
		}
		select {
		case code := <-p.done:
			t.Fatalf("capspec proxy exited with %d: %s", code, p.stderr)
		default:
		}
	}
	b, _ := os.ReadFile(p.log)
	t.Fatalf("no such audit line in:\n%s\nstderr: %s", b, p.stderr)
	return nil
}

// stop sends sig and waits for the exit status, which must be 0.
func (p *runningProxy) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	p.stopped = true
	p.sigs <- sig
	select {
	case code := <-p.done:
		if code != 0 {
			t.Errorf("capspec proxy exited with %d: %s", code, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("capspec proxy did not stop")
	}
}

// helloServer is an HTTP server on 127.0.0.1 answering "hello".
func helloServer(t *testing.T) uint16 {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	t.Cleanup(s.Close)
	return netip.MustParseAddrPort(s.Listener.Addr().String()).Port()
}

func TestProxyCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found (.ci/run installs it): the real-client test needs it")
	}
	d := dnstest.New(t)
	d.Set("app.test", "127.0.0.1")
	d.Set("secure.test", "127.0.0.1")
	port := helloServer(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
	defer tlsSrv.Close()
	tlsPort := netip.MustParseAddrPort(tlsSrv.Listener.Addr().String()).Port()
	p := startProxy(t, d, fmt.Sprintf("--allow-outbound=tcp://app.test:%d", port), fmt.Sprintf("--allow-outbound=tcp://secure.test:%d", tlsPort))

	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "--max-time", "20", "--noproxy", ""}, args...)...)
		cmd.Env = append(os.Environ(), "ALL_PROXY=", "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=", "all_proxy=")
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	app := fmt.Sprintf("http://app.test:%d/", port)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"socks5-hostname", []string{"--socks5-hostname", p.socks, app}, "hello"},
		{"http plain", []string{"-x", "http://" + p.http, app}, "hello"},
		{"http CONNECT", []string{"-x", "http://" + p.http, "--proxytunnel", app}, "hello"},
		{"https CONNECT", []string{"-k", "-x", "http://" + p.http, fmt.Sprintf("https://secure.test:%d/", tlsPort)}, "secure"},
		{"socks5h https", []string{"-k", "-x", "socks5h://" + p.socks, fmt.Sprintf("https://secure.test:%d/", tlsPort)}, "secure"},
	} {
		if out, code := run(tc.args...); code != 0 || out != tc.want {
			t.Errorf("%s: curl exit %d, output %q, want %q", tc.name, code, out, tc.want)
		}
	}
	// Denied: SOCKS reply 0x02 (curl exits 97), HTTP 403 with the reason.
	if _, code := run("--socks5-hostname", p.socks, fmt.Sprintf("http://app.test:%d/", port+1)); code != 97 {
		t.Errorf("denied SOCKS: curl exit %d, want 97", code)
	}
	out, code := run("-x", "http://"+p.http, "-w", "\n%{http_code}", "http://evil.test/")
	if code != 0 || !strings.HasSuffix(out, "\n403") || !strings.Contains(out, "lookup evil.test denied") {
		t.Errorf("denied HTTP: exit %d, %q", code, out)
	}
	e := p.waitEntry(t, func(e map[string]any) bool {
		return e["request"] == fmt.Sprintf("connect tcp 127.0.0.1:%d via secure.test", tlsPort) && e["proxy"] == "socks5" && e["bytes_down"] != nil
	})
	if e["decision"] != "allow" || e["bytes_up"].(float64) == 0 || e["rule"].(map[string]any)["position"] != "argv[13]:1" {
		t.Errorf("audit entry %v", e)
	}
	p.stop(t, syscall.SIGTERM)
	if last := p.entries(t); last[len(last)-1]["event"] != "stop" {
		t.Errorf("last audit line %v", last[len(last)-1])
	}
}

// The learned policy allows every request the proxy saw (capspec eval
// exits 0 on them) and not the others (exit 1).
func TestProxyLearn(t *testing.T) {
	d := dnstest.New(t)
	d.Set("app.test", "127.0.0.1")
	port := helloServer(t)
	learned := filepath.Join(t.TempDir(), "learned.flags")
	p := startProxy(t, d, "--learn", learned)

	pu, _ := url.Parse("http://" + p.http)
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), DisableKeepAlives: true}}
	sd, err := xproxy.SOCKS5("tcp", p.socks, nil, xproxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	sc := &http.Client{Transport: &http.Transport{DialContext: sd.(xproxy.ContextDialer).DialContext, DisableKeepAlives: true}}
	for _, u := range []string{fmt.Sprintf("http://app.test:%d/", port), fmt.Sprintf("http://127.0.0.1:%d/a", port)} {
		for _, c := range []*http.Client{hc, sc} {
			resp, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	p.stop(t, syscall.SIGINT)
	text, err := os.ReadFile(learned)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("learned:\n%s", text)
	if !strings.Contains(string(text), fmt.Sprintf("# 2 connects to app.test:%d over ipv4\n", port)) || !strings.Contains(string(text), fmt.Sprintf("# 2 connects to 127.0.0.1:%d\n", port)) {
		t.Errorf("learned policy lacks the count of app.test")
	}
	var seen []string
	for _, e := range p.entries(t) {
		if e["event"] == "decision" {
			seen = append(seen, e["request"].(string))
		}
	}
	if len(seen) < 4 {
		t.Fatalf("audit log has %d decisions", len(seen))
	}
	eval := func(reqs ...string) int {
		return Run(Env{Args: append([]string{"capspec", "eval", "--policy", learned}, reqs...), Stdout: io.Discard, Stderr: io.Discard})
	}
	if code := eval(seen...); code != 0 {
		t.Errorf("eval of the requests seen: exit %d", code)
	}
	for _, q := range []string{
		fmt.Sprintf("connect tcp app.test:%d", port+1),
		fmt.Sprintf("connect tcp 127.0.0.2:%d", port),
		"lookup other.test",
		fmt.Sprintf("connect tcp 127.0.0.1:%d via other.test", port+1),
	} {
		if code := eval(q); code != 1 {
			t.Errorf("eval %q: exit %d, want 1 (not seen)", q, code)
		}
	}
}

func TestProxyReload(t *testing.T) {
	d := dnstest.New(t)
	echo := loopback.Echo(t, "127.0.0.1:0")
	ep := echo.Port()
	pol := filepath.Join(t.TempDir(), "policy.flags")
	write := func(s string) {
		if err := os.WriteFile(pol, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d\n", ep))
	p := startProxy(t, d, "--policy", pol)
	sd, _ := xproxy.SOCKS5("tcp", p.socks, nil, xproxy.Direct)
	open, err := sd.Dial("tcp", echo.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	roundTrip := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "ping"); err != nil {
			return err
		}
		b := make([]byte, 4)
		_, err := io.ReadFull(c, b)
		return err
	}

	// A new policy that no longer allows the echo server.
	write("--allow-outbound=tcp://127.0.0.1:1\n")
	p.sigs <- syscall.SIGHUP
	p.waitEntry(t, func(e map[string]any) bool { return e["event"] == "reload" && e["ok"] == true })
	if _, err := sd.Dial("tcp", echo.Addr()); err == nil || !strings.Contains(err.Error(), "not allowed by ruleset") {
		t.Errorf("new connection after reload: %v", err)
	}
	if err := roundTrip(open); err != nil {
		t.Errorf("open tunnel cut by the reload: %v", err)
	}
	// A policy with errors is refused; the running one stays.
	write(fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d\n--allow-outbound=tcp://x:70000\n", ep))
	p.sigs <- syscall.SIGHUP
	e := p.waitEntry(t, func(e map[string]any) bool { return e["event"] == "reload" && e["ok"] == false })
	if diags := fmt.Sprint(e["diagnostics"]); !strings.Contains(diags, "error[CS002]") || !strings.Contains(diags, "policy.flags:2:") {
		t.Errorf("reload diagnostics %s", diags)
	}
	if _, err := sd.Dial("tcp", echo.Addr()); err == nil {
		t.Error("the refused policy was put in force")
	}
	p.stop(t, syscall.SIGTERM)
}

func TestProxyUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--allow-outbound=tcp://x:70000"}, "error[CS002]"},
		{[]string{}, "no policy"},
		{[]string{"--learn", "x.flags", "--allow-resolve=x"}, "give no policy"},
		{[]string{"--socks", "off", "--http", "off", "--allow-resolve=x"}, "nothing to serve"},
		{[]string{"--policy", "-"}, "not standard input"},
		{[]string{"--allow-resolve=x", "extra"}, "unknown command"},
	} {
		var stderr bytes.Buffer
		code := Run(Env{Args: append([]string{"capspec", "proxy", "--socks", "127.0.0.1:0", "--http", "127.0.0.1:0"}, tc.args...), Stdout: io.Discard, Stderr: &stderr})
		if code != ExitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
	// A listener that cannot be opened: exit 1.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	var stderr bytes.Buffer
	code := Run(Env{Args: []string{"capspec", "proxy", "--socks", l.Addr().String(), "--http", "off", "--allow-resolve=x"}, Stdout: io.Discard, Stderr: &stderr})
	if code != ExitFailed || !strings.Contains(stderr.String(), "address already in use") {
		t.Errorf("busy port: exit %d, %q", code, stderr.String())
	}
	_ = context.Background
}
