package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capspec/capspec/internal/syncbuf"

	"github.com/capspec/capspec/playground"
)

// TestPlaygroundServes runs capspec playground on a loopback port, fetches
// the page and the wasm, and stops it as Ctrl-C would.
func TestPlaygroundServes(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.flags")
	if err := os.WriteFile(policyFile, []byte("--allow-outbound=tcp://example.com:443\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncbuf.Buffer
	a := &app{env: Env{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader("")}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- a.runPlayground(ctx, playgroundOptions{listen: "127.0.0.1:0"}, []string{policyFile}, func(addr net.Addr) { ready <- addr })
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("playground stopped: %v", err)
	}
	base := "http://" + addr.String()
	for path, ctype := range map[string]string{"/": "text/html; charset=utf-8", "/capspec.wasm": "application/wasm"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != ctype || len(body) == 0 {
			t.Errorf("GET %s: %d %q, %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stopping: %v", err)
	}
	out := stdout.String()
	link := base + "/#" + playground.Fragment(playground.Input{Policy: "--allow-outbound=tcp://example.com:443\n", Interfaces: playground.DefaultInterfaces})
	if !strings.Contains(out, "capspec playground: serving "+link+" (press Ctrl-C to stop)\n") || !strings.HasSuffix(out, "capspec playground: stopped\n") {
		t.Errorf("stdout:\n%s\nwant the link %s", out, link)
	}
	if stderr.String() != "" {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestPlaygroundWarnsWhenExposed(t *testing.T) {
	for _, tt := range []struct {
		ip   string
		warn bool
	}{
		{"127.0.0.1", false}, {"127.3.4.5", false}, {"::1", false}, {"::ffff:127.0.0.1", false},
		{"0.0.0.0", true}, {"::", true}, {"192.168.1.10", true}, {"2001:db8::1", true},
	} {
		var b bytes.Buffer
		got := warnExposed(&b, "x", &net.TCPAddr{IP: net.ParseIP(tt.ip), Port: 8080})
		if got != tt.warn || (b.Len() > 0) != tt.warn || tt.warn && !strings.Contains(b.String(), "WARNING: --listen x is not a loopback address") {
			t.Errorf("%s: warned %v: %q", tt.ip, got, b.String())
		}
	}
}
