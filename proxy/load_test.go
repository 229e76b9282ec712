package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/capspec/capspec/proxy"
)

// openFDs counts the process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents)
}

// raiseFDLimit makes room for n more descriptors, or skips the test.
func raiseFDLimit(t testing.TB, n uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if rl.Cur >= n {
		return
	}
	rl.Cur = min(max(n, rl.Cur), rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < n {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d (hard limit %d): %v", n, rl.Max, err)
	}
}

// TestLoad opens 1,000 tunnels at once through the SOCKS and HTTP
// listeners (names resolved over the loopback DNS server, and addresses),
// each echoing data while all are open, while 200 denied requests come
// in; then everything closes and no goroutine or descriptor is left.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped with -short")
	}
	const tunnels, denials = 1000, 200
	raiseFDLimit(t, 4*tunnels+2*denials+256)
	// Checked after every cleanup below has run (cleanups run last first).
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	before := -1

	echo := newEchoServer(t, "127.0.0.1:0")
	forbidden := newEchoServer(t, "127.0.0.1:0")
	r := newRig(t, proxy.Config{}, fmt.Sprintf("--allow-outbound=tcp://echo.test:%d", echo.Port()), fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", echo.Port()))
	r.dns.Set("echo.test", "127.0.0.1")
	r.dns.Set("forbidden.test", "127.0.0.1")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// One tunnel first, so that what the runtime opens once (the poller)
	// is open before counting.
	warm, _ := net.Dial("tcp", r.socks)
	if rep := socksConnect(t, warm, domainRequest("echo.test", echo.Port())); rep != 0 {
		t.Fatalf("warm-up reply %#x", rep)
	}
	warm.Close()
	time.Sleep(50 * time.Millisecond)
	before = openFDs(t)

	var established sync.WaitGroup
	established.Add(tunnels)
	release := make(chan struct{})
	errs := make(chan error, tunnels+denials)
	var wg sync.WaitGroup
	for i := range tunnels {
		wg.Go(func() {
			ok := false
			defer func() {
				if !ok {
					established.Done()
				}
			}()
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", map[bool]string{true: r.socks, false: r.http}[i%2 == 0])
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(80 * time.Second))
			switch i % 4 {
			case 0: // SOCKS, name resolved by the proxy
				if rep := socksHandshake(c, domainRequest("echo.test", echo.Port())); rep != 0 {
					errs <- fmt.Errorf("tunnel %d: SOCKS reply %#x", i, rep)
					return
				}
			case 2: // SOCKS, IPv4 address
				if rep := socksHandshake(c, []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(echo.Port() >> 8), byte(echo.Port())}); rep != 0 {
					errs <- fmt.Errorf("tunnel %d: SOCKS reply %#x", i, rep)
					return
				}
			default: // HTTP CONNECT, by name or address
				host := "echo.test"
				if i%4 == 3 {
					host = "127.0.0.1"
				}
				if status := connectStatus(c, fmt.Sprintf("%s:%d", host, echo.Port())); status != "200" {
					errs <- fmt.Errorf("tunnel %d: CONNECT %s", i, status)
					return
				}
			}
			msg := []byte(strings.Repeat(fmt.Sprintf("tunnel %04d ", i), 100))
			got := make([]byte, len(msg))
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
				errs <- fmt.Errorf("tunnel %d: echo %v", i, err)
				return
			}
			ok = true
			established.Done()
			select {
			case <-release:
			case <-ctx.Done():
				return
			}
			// Still working once all are open.
			if _, err := c.Write(msg[:10]); err != nil {
				errs <- err
				return
			}
			if _, err := io.ReadFull(c, got[:10]); err != nil {
				errs <- fmt.Errorf("tunnel %d after all opened: %v", i, err)
			}
		})
	}
	for i := range denials {
		wg.Go(func() {
			c, err := net.Dial("tcp", map[bool]string{true: r.socks, false: r.http}[i%2 == 0])
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(80 * time.Second))
			if i%2 == 0 {
				req := domainRequest("forbidden.test", forbidden.Port())
				if i%4 == 0 {
					req = []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(forbidden.Port() >> 8), byte(forbidden.Port())}
				}
				if rep := socksHandshake(c, req); rep != 2 {
					errs <- fmt.Errorf("denial %d: SOCKS reply %#x, want 0x02", i, rep)
				}
				return
			}
			if status := connectStatus(c, fmt.Sprintf("forbidden.test:%d", forbidden.Port())); status != "403" {
				errs <- fmt.Errorf("denial %d: CONNECT %s, want 403", i, status)
			}
		})
	}
	waited := make(chan struct{})
	go func() { established.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		t.Fatal("the tunnels did not all open in time")
	}
	if n := r.srv.Open(); n != tunnels {
		t.Errorf("%d tunnels open, want %d", n, tunnels)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := forbidden.Conns(); n != 0 {
		t.Errorf("a denied destination got %d connections", n)
	}
	if n := echo.Conns(); n != tunnels+1 {
		t.Errorf("the echo server got %d connections, want %d", n, tunnels+1)
	}
	// Everything closes: the proxy's side of each tunnel follows the client's.
	deadline := time.Now().Add(20 * time.Second)
	for r.srv.Open() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := r.srv.Open(); n != 0 {
		t.Errorf("%d tunnels still open", n)
	}
	for openFDs(t) > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := openFDs(t); after > before {
		t.Errorf("%d file descriptors open after the load, %d before", after, before)
	}
	// Every decision was logged: each tunnel's connect line has its bytes.
	closedLines := 0
	for _, e := range r.log.entries(t) {
		if e.BytesUp != nil && e.Decision == "allow" {
			closedLines++
		}
	}
	if closedLines != tunnels+1 {
		t.Errorf("%d connection lines, want %d", closedLines, tunnels+1)
	}
}

// socksHandshake is socksConnect without a testing.TB (for goroutines).
func socksHandshake(c net.Conn, req []byte) byte {
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return 0xff
	}
	var m [2]byte
	if _, err := io.ReadFull(c, m[:]); err != nil || m != [2]byte{5, 0} {
		return 0xff
	}
	if _, err := c.Write(req); err != nil {
		return 0xff
	}
	var rep [4]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		return 0xff
	}
	n := 4
	if rep[3] == 4 {
		n = 16
	}
	if _, err := io.ReadFull(c, make([]byte, n+2)); err != nil {
		return 0xff
	}
	return rep[1]
}

// connectStatus sends an HTTP CONNECT and returns the status code; on
// 200 the connection is the tunnel (the proxy sends nothing after its
// response head until the destination does, and the callers write first).
func connectStatus(c net.Conn, target string) string {
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		return err.Error()
	}
	var head []byte
	buf := make([]byte, 512)
	for !strings.Contains(string(head), "\r\n\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			return err.Error()
		}
		head = append(head, buf[:n]...)
	}
	line, _, _ := strings.Cut(string(head), "\r\n")
	f := strings.Fields(line)
	if len(f) < 2 {
		return line
	}
	if f[1] == "200" && !strings.HasSuffix(string(head), "\r\n\r\n") {
		return "200 with tunnel bytes before the client wrote"
	}
	if f[1] != "200" {
		// A denial's body (the connection stays open for more requests).
		if resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(string(head)), c)), nil); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	return f[1]
}
