package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/enforce"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/proxy"
)

// proxyOptions are the flags of capspec proxy.
type proxyOptions struct {
	socks, http string
	policies    []string
	ifaces      []string
	logPath     string
	learn       string
	dns         string
	grace       time.Duration
	idle        time.Duration
	handshake   time.Duration
	dialTimeout time.Duration
	maxConns    int
}

func (a *app) proxyCommand() *cobra.Command {
	var o proxyOptions
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Enforce a policy on real connections as a SOCKS5 and HTTP proxy",
		Long: `proxy serves SOCKS5 (RFC 1928, no authentication, CONNECT to a name, an IPv4
or an IPv6 address) and an HTTP proxy (CONNECT tunnels and absolute-form
plain HTTP), and decides every lookup and connect of its clients against the
policy, as capspec eval would (SPEC §9). Names are resolved by the proxy, so
a client using socks5h:// or the HTTP proxy has its lookups decided too;
mapped names are answered without DNS and mappings apply. A denied SOCKS
request gets reply 0x02 (not allowed by ruleset), a denied HTTP request 403
with the reason.

Every decision is one JSON line on standard error, or in --log FILE (see
docs/enforce.md for the fields); a connection's line is written when it
closes, with the bytes both ways.

SIGINT or SIGTERM stops accepting, lets open tunnels finish for --grace, then
closes them and exits 0 (a second signal ends the grace period at once).
SIGHUP reads the --policy and --shell files again: a policy with errors is
refused (its diagnostics are logged) and the running one stays; new
connections use the new policy and open tunnels are not cut.

--learn FILE allows every request and, when the proxy stops, writes to FILE
the canonical policy that allows exactly the requests it saw, each rule with
comments counting its uses: a first policy to review and tighten.

Exit status: 0 when stopped by a signal; 1 when a listener cannot be opened
or the learned policy cannot be written; 2 for usage errors, unreadable
input, or a policy with errors.`,
		Example: `  capspec proxy --policy policy.flags
  curl --socks5-hostname 127.0.0.1:1080 https://example.com/
  HTTPS_PROXY=http://127.0.0.1:3128 python3 app.py
  capspec proxy --learn first.flags --log audit.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runProxy(&o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.socks, "socks", "127.0.0.1:1080", `address of the SOCKS5 listener ("off": none)`)
	f.StringVar(&o.http, "http", "127.0.0.1:3128", `address of the HTTP proxy listener ("off": none)`)
	f.StringArrayVar(&o.policies, "policy", nil, "a flags file holding the policy (repeatable; read again on SIGHUP)")
	f.StringArrayVar(&o.ifaces, "iface", nil, "an interface and its addresses, NAME=ADDRESS/LEN[,...] (repeatable; replaces the machine's table)")
	f.StringVar(&o.logPath, "log", "", "append the audit log (JSON lines) to FILE instead of standard error")
	f.StringVar(&o.learn, "learn", "", "allow everything and, on stop, write the policy of what was seen to FILE")
	f.StringVar(&o.dns, "dns", "", "ask this DNS server (HOST:PORT) instead of the system's resolver")
	f.DurationVar(&o.grace, "grace", 30*time.Second, "how long open tunnels may finish after SIGINT or SIGTERM")
	f.DurationVar(&o.idle, "idle", proxy.DefaultIdleTimeout, "close a tunnel idle (no byte either way) for this long")
	f.DurationVar(&o.handshake, "handshake-timeout", proxy.DefaultHandshakeTimeout, "time a client has to send its SOCKS handshake or HTTP request headers")
	f.DurationVar(&o.dialTimeout, "dial-timeout", proxy.DefaultDialTimeout, "time a connect (lookups included) may take")
	f.IntVar(&o.maxConns, "max-conns", proxy.DefaultMaxConns, "most client connections open at once (SOCKS and HTTP together)")
	return cmd
}

func (a *app) runProxy(o *proxyOptions) error {
	if o.socks == "off" && o.http == "off" {
		return usageErrorf("--socks and --http are both off: nothing to serve")
	}
	if slices.Contains(o.policies, "-") || slices.Contains(a.shell, "-") {
		return usageErrorf("the proxy reads its policy again on SIGHUP: give files, not standard input")
	}
	hasPolicy := len(*a.allow["resolve"])+len(*a.allow["outbound"])+len(*a.allow["inbound"]) > 0 || len(o.policies) > 0 || len(a.shell) > 0
	if o.learn != "" && hasPolicy {
		return usageErrorf("--learn allows everything: give no policy with it")
	}
	if o.learn == "" && !hasPolicy {
		return usageErrorf("no policy: give --allow-* flags, --policy FILE or --shell FILE (or --learn FILE)")
	}
	if o.grace < 0 || o.idle < 0 || o.handshake < 0 || o.dialTimeout < 0 || o.maxConns < 1 {
		return usageErrorf("--grace, --idle, --handshake-timeout and --dial-timeout must not be negative, --max-conns at least 1")
	}
	ifaces, err := evalInterfaces(o.ifaces)
	if err != nil {
		return err
	}

	var p *policy.Policy
	if o.learn == "" {
		var ds []diag.Diagnostic
		var files diag.FileSet
		p, ds, files, err = a.proxyPolicy(o)
		if err != nil {
			return err
		}
		if diag.HasErrors(ds) {
			if err := a.writeDiags(ds, files); err != nil {
				return err
			}
			return exit(ExitUsage)
		}
	} else {
		var ds []diag.Diagnostic
		p, ds = eval.CompileFlags(enforce.LearnFlags...)
		if diag.HasErrors(ds) {
			return fmt.Errorf("the learning policy has errors: %v", ds)
		}
	}

	var logW io.Writer = a.env.Stderr
	if o.logPath != "" {
		f, err := os.OpenFile(o.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return &exitError{code: ExitUsage, err: fmt.Errorf("cannot open the log: %w", unwrapPathError(err))}
		}
		defer f.Close()
		logW = f
	}
	audit := proxy.NewAuditLog(logW)

	var learner *enforce.Learner
	observe := proxy.Observe
	if o.learn != "" {
		learner = enforce.NewLearner()
		observe = func(ctx context.Context, ev enforce.Event) {
			proxy.Observe(ctx, ev)
			learner.Observe(ctx, ev)
		}
	}
	eo := enforce.Options{Interfaces: ifaces, Observe: observe}
	if o.dns != "" {
		if _, _, err := net.SplitHostPort(o.dns); err != nil {
			return usageErrorf("--dns %s: want HOST:PORT", o.dns)
		}
		server := o.dns
		eo.DNS = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}}
	}
	enf, err := enforce.New(p, eo)
	if err != nil {
		return &exitError{code: ExitFailed, err: err}
	}
	srv := proxy.New(proxy.Config{Enforcer: enf, Log: audit, MaxConns: o.maxConns, IdleTimeout: o.idle,
		HandshakeTimeout: o.handshake, DialTimeout: o.dialTimeout})

	// Signals first, so that none is missed once listening.
	sigs := a.env.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(ch)
		sigs = ch
	}

	var listeners []net.Listener
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	listen := func(flag, addr string) (net.Listener, error) {
		if addr == "off" {
			return nil, nil
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return nil, &exitError{code: ExitFailed, err: fmt.Errorf("%s %s: %w", flag, addr, err)}
		}
		listeners = append(listeners, l)
		return l, nil
	}
	sl, err := listen("--socks", o.socks)
	if err != nil {
		return err
	}
	hl, err := listen("--http", o.http)
	if err != nil {
		return err
	}
	start := proxy.Entry{Event: "start", Rules: ptr(len(p.Rules)), Learn: o.learn != ""}
	serveErr := make(chan error, 2)
	if sl != nil {
		start.SOCKS = sl.Addr().String()
		go func() { serveErr <- srv.ServeSOCKS(sl) }()
	}
	if hl != nil {
		start.HTTP = hl.Addr().String()
		go func() { serveErr <- srv.ServeHTTPProxy(hl) }()
	}
	audit.Write(start)
	if o.logPath != "" {
		var on []string
		if start.SOCKS != "" {
			on = append(on, "SOCKS5 on "+start.SOCKS)
		}
		if start.HTTP != "" {
			on = append(on, "HTTP on "+start.HTTP)
		}
		fmt.Fprintf(a.env.Stderr, "capspec proxy: %s; audit log in %s\n", strings.Join(on, ", "), o.logPath)
	}

	var failed error
wait:
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				a.reloadProxy(o, enf, audit)
				continue
			}
			break wait
		case err := <-serveErr:
			if !errors.Is(err, proxy.ErrServerClosed) {
				failed = err
				break wait
			}
		}
	}

	// Stop: let open tunnels finish for the grace period (a second
	// signal ends it), then close what is left.
	ctx, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	go func() {
		for {
			select {
			case sig := <-sigs:
				if sig != syscall.SIGHUP {
					cancel()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	forced, _ := srv.Shutdown(ctx)
	audit.Write(proxy.Entry{Event: "stop", Forced: &forced})
	if learner != nil {
		text, err := learner.Policy()
		if err == nil {
			err = writeFileAtomicPerm(o.learn, text, 0o644)
		}
		if err != nil {
			return &exitError{code: ExitFailed, err: fmt.Errorf("writing the learned policy: %w", err)}
		}
		audit.Write(proxy.Entry{Event: "learned", File: o.learn, Rules: ptr(strings.Count(text, "\n--allow-"))})
	}
	if failed != nil {
		return &exitError{code: ExitFailed, err: failed}
	}
	return nil
}

// proxyPolicy reads and compiles the policy of the proxy.
func (a *app) proxyPolicy(o *proxyOptions) (*policy.Policy, []diag.Diagnostic, diag.FileSet, error) {
	set, err := a.load(o.policies)
	if err != nil {
		return nil, nil, nil, err
	}
	var aps []*ast.Policy
	for _, it := range set.items {
		aps = append(aps, it.policy)
	}
	p, conflicts := policy.Compile(aps...)
	return p, append(set.diagnostics(), conflicts...), set.files, nil
}

// reloadProxy reads the policy again (SIGHUP) and puts it in force, or
// logs why not.
func (a *app) reloadProxy(o *proxyOptions, enf *enforce.Enforcer, audit *proxy.AuditLog) {
	if o.learn != "" {
		audit.Write(proxy.Entry{Event: "reload", OK: ptr(false), Diagnostics: []string{"--learn has no policy to read again"}})
		return
	}
	p, ds, files, err := a.proxyPolicy(o)
	if err != nil {
		audit.Write(proxy.Entry{Event: "reload", OK: ptr(false), Diagnostics: []string{err.Error()}})
		return
	}
	if diag.HasErrors(ds) {
		var b bytes.Buffer
		diag.Sort(ds)
		diag.WriteText(&b, ds, files, diag.NewPalette(false))
		audit.Write(proxy.Entry{Event: "reload", OK: ptr(false), Diagnostics: strings.Split(strings.TrimRight(b.String(), "\n"), "\n")})
		return
	}
	enf.SetPolicy(p)
	audit.Write(proxy.Entry{Event: "reload", OK: ptr(true), Rules: ptr(len(p.Rules))})
}

func ptr[T any](v T) *T { return &v }
