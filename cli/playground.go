package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/playground"
	"github.com/capspec/capspec/playground/web"
	"github.com/capspec/capspec/policy"
)

// playgroundOptions are the flags of capspec playground.
type playgroundOptions struct {
	listen string
}

// defaultPlaygroundListen is where the playground listens unless told.
const defaultPlaygroundListen = "127.0.0.1:8080"

func (a *app) playgroundCommand() *cobra.Command {
	var o playgroundOptions
	cmd := &cobra.Command{
		Use:   "playground [FILE|-]",
		Short: "Serve the in-browser playground on a local port (runs until stopped)",
		Long: `playground serves a web page that runs capspec in the browser (WebAssembly):
an editor for a policy with diagnostics as you type and their fixes, the
canonical form, the explanation, requests decided live, and a diff against an
old policy. The page is embedded in capspec and works offline; it sends
nothing anywhere. The policy lives in the page's address (the URL fragment),
so a link shares it. See docs/playground.md.

It listens on --listen (127.0.0.1:8080 by default; port 0 picks a free port)
and prints the address to open. With FILE (- for standard input), the
address it prints holds that policy.

A --listen address that is not loopback makes the page reachable from other
machines: capspec warns on standard error, and serves it (the page is static
and holds no data; what is typed stays in each browser).

It runs until interrupted (Ctrl-C or SIGTERM) and then exits 0; the exit
status is 2 when it cannot listen or read FILE.`,
		Example: `  capspec playground
  capspec playground --listen 127.0.0.1:0
  capspec playground policy.flags`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.runPlayground(ctx, o, args, nil)
		},
	}
	cmd.Flags().StringVar(&o.listen, "listen", defaultPlaygroundListen, "the address to listen on, HOST:PORT")
	return cmd
}

// runPlayground serves the playground until ctx is done. ready, when not
// nil, is called with the address listened on once the server accepts
// connections (tests use it).
func (a *app) runPlayground(ctx context.Context, o playgroundOptions, args []string, ready func(net.Addr)) error {
	fragment := ""
	if len(args) == 1 {
		text, err := a.readPlaygroundFile(args[0])
		if err != nil {
			return err
		}
		fragment = "#" + playground.Fragment(playground.Input{Policy: text, Interfaces: playground.DefaultInterfaces})
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("--listen %s: %w", o.listen, err)}
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	warnExposed(a.env.Stderr, o.listen, addr)
	url := "http://" + addr.String() + "/" + fragment
	fmt.Fprintf(a.env.Stdout, "capspec playground: serving %s (press Ctrl-C to stop)\n", url)
	srv := &http.Server{
		Handler:           web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if ready != nil {
		ready(addr)
	}
	select {
	case err := <-done:
		return &exitError{code: ExitUsage, err: fmt.Errorf("serving: %w", err)}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return &exitError{code: ExitUsage, err: err}
	}
	fmt.Fprintln(a.env.Stdout, "capspec playground: stopped")
	return nil
}

// warnExposed warns, loudly, when the address listened on is not a
// loopback address, and reports whether it did.
func warnExposed(w io.Writer, listen string, addr *net.TCPAddr) bool {
	if ip, ok := netip.AddrFromSlice(addr.IP); ok && policy.IsLoopback(ip.Unmap()) {
		return false
	}
	fmt.Fprintf(w, "capspec: WARNING: --listen %s is not a loopback address: every machine that can reach %s can load the playground.\n", listen, addr)
	fmt.Fprintf(w, "capspec: WARNING: the page is static and receives nothing, but use --listen 127.0.0.1:PORT unless you mean to share it.\n")
	return true
}

// readPlaygroundFile reads the policy to open the playground with.
func (a *app) readPlaygroundFile(path string) (string, error) {
	if path == "-" {
		b, err := io.ReadAll(a.env.Stdin)
		if err != nil {
			return "", &exitError{code: ExitUsage, err: fmt.Errorf("reading standard input: %w", err)}
		}
		return string(b), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", &exitError{code: ExitUsage, err: fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))}
	}
	return string(b), nil
}
