package cli

import (
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreport"
	"github.com/capspec/capspec/evalreq"
)

func (a *app) evalCommand() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval [REQUEST]...",
		Short: "Decide requests against a policy (exit 1 when any is denied)",
		Long: `eval decides requests against the policy given by --allow-* flags and
--policy files, as a runtime enforcing the flags would, and says why.

A request is one of:

  lookup NAME [ipv4|ipv6] [=> ADDRESS, ...]
  connect tcp HOST:PORT [via NAME]      HOST is an IPv4 address, [IPv6], or a name
  send udp HOST:PORT [via NAME]
  listen tcp LOCAL:PORT                 LOCAL is an address, an interface, localhost or *
  bind udp LOCAL:PORT

or a JSON object per line (see docs/eval.md). Requests come from the
arguments (one per argument), from --requests files, or from standard input.
A lookup line with "=> ADDRESS, ..." records the answers; later connects to
those addresses count as resolved from the name if the lookup was allowed.

Listens are decided with the machine's interfaces, or with the table given
by --iface NAME=ADDRESS/LEN[,ADDRESS/LEN] (as "ip addr" prints them).

Exit status: 0 when every request is allowed, 1 when any is denied, 2 for
usage errors, unreadable input, bad requests, or a policy with errors.`,
		Example: `  capspec eval --allow-outbound=tcp://example.com:80 'connect tcp example.com:443'
  capspec eval --policy policy.flags --requests requests.txt --format json
  capspec eval --allow-inbound=tcp://eth0:80 --iface eth0=10.0.0.5/24 'listen tcp 10.0.0.5:80'`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runEval(args, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text or json (one object per request)")
	f.StringArrayVar(&o.policies, "policy", nil, "a flags file holding the policy (repeatable; - for standard input)")
	f.StringArrayVar(&o.requests, "requests", nil, "a file of requests, one per line (repeatable; - for standard input)")
	f.StringArrayVar(&o.ifaces, "iface", nil, "an interface and its addresses, NAME=ADDRESS/LEN[,...] (repeatable; replaces the machine's table)")
	return cmd
}

// evalOptions are the flags of capspec eval.
type evalOptions struct {
	format   string
	policies []string
	requests []string
	ifaces   []string
}

func (a *app) runEval(args []string, o *evalOptions) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	ifaces, err := evalInterfaces(o.ifaces)
	if err != nil {
		return err
	}
	stdinForPolicy := slices.Contains(o.policies, "-") || slices.Contains(a.shell, "-")
	stdinForRequests := slices.Contains(o.requests, "-") || len(args) == 0 && len(o.requests) == 0
	if stdinForPolicy && stdinForRequests {
		return usageErrorf("standard input can hold the policy or the requests, not both")
	}
	if len(*a.allow["resolve"])+len(*a.allow["outbound"])+len(*a.allow["inbound"]) == 0 && len(o.policies) == 0 && len(a.shell) == 0 {
		return usageErrorf("no policy: give --allow-* flags, --policy FILE or --shell FILE")
	}
	p, set, err := a.loadPolicy(o.policies)
	if err != nil {
		return err
	}

	srcs, err := a.evalSources(args, o.requests, set.files)
	if err != nil {
		return err
	}
	// Read every request first: a request that cannot be read stops the
	// run before anything is decided. Nothing read is kept.
	var rds []diag.Diagnostic
	n := 0
	for _, src := range srcs {
		for _, d := range src.requests() {
			if d != nil {
				rds = append(rds, *d)
			} else {
				n++
			}
		}
	}
	if len(rds) > 0 {
		if err := a.writeDiags(rds, set.files); err != nil {
			return err
		}
		return exit(ExitUsage)
	}
	if n == 0 {
		return usageErrorf("no requests: give them as arguments, with --requests FILE, or on standard input")
	}

	// Then decide them in order, writing each decision as it is made.
	var w evalreport.Writer
	if o.format == "json" {
		w = evalreport.NewJSONWriter(a.env.Stdout)
	} else {
		pal, perr := a.palette(a.env.Stdout)
		if perr != nil {
			return perr
		}
		w = evalreport.NewTextWriter(a.env.Stdout, pal)
	}
	run := evalreport.NewRunner(p, ifaces, eval.TrackerOptions{})
	denied := false
	for _, src := range srcs {
		for it := range src.requests() {
			r := run.Decide(it)
			denied = denied || !r.Decision.Allowed
			if err := w.Write(r); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if denied {
		return exit(ExitFailed)
	}
	return nil
}

// writeDiags prints diagnostics to standard error.
func (a *app) writeDiags(ds []diag.Diagnostic, files diag.FileSet) error {
	pal, err := a.palette(a.env.Stderr)
	if err != nil {
		return err
	}
	diag.Sort(ds)
	return diag.WriteText(a.env.Stderr, ds, files, pal)
}

// evalInterfaces returns the interface table: from --iface, or the machine's.
func evalInterfaces(specs []string) (*eval.Interfaces, error) {
	if len(specs) == 0 {
		t, err := eval.SystemInterfaces()
		if err != nil {
			return nil, &exitError{code: ExitUsage, err: fmt.Errorf("reading the network interfaces: %w", err)}
		}
		return t, nil
	}
	table := map[string][]netip.Prefix{}
	for _, s := range specs {
		name, ps, err := evalreq.ParseInterface(s)
		if err != nil {
			return nil, usageErrorf("--iface %s", err)
		}
		table[name] = append(table[name], ps...)
	}
	return eval.NewInterfaces(table), nil
}

// requestSource is where requests come from: one command-line argument
// (one request), or a request file.
type requestSource struct {
	file *diag.File
	arg  bool
}

// requests yields the source's requests, or a diagnostic for each that
// cannot be read.
func (s requestSource) requests() iter.Seq2[evalreq.Item, *diag.Diagnostic] {
	if !s.arg {
		return evalreq.Requests(s.file)
	}
	return func(yield func(evalreq.Item, *diag.Diagnostic) bool) {
		text := s.file.Content
		it, err := evalreq.ParseRequest(text)
		if err != nil {
			d := evalreq.RequestDiagnostic(s.file.Name, text, err)
			yield(evalreq.Item{}, &d)
			return
		}
		lead := len(text) - len(strings.TrimLeft(text, " \t"))
		it.Range = s.file.Range(lead, lead+len(it.Text))
		yield(it, nil)
	}
}

// evalSources returns where the requests come from: the arguments, then
// the --requests files, or standard input. Their files join files for
// rendering diagnostics.
func (a *app) evalSources(args, paths []string, files diag.FileSet) ([]requestSource, error) {
	var srcs []requestSource
	argAt := 1
	for _, arg := range args {
		// Find the argument's position on the command line, for argv[N].
		for argAt < len(a.env.Args) && a.env.Args[argAt] != arg {
			argAt++
		}
		f := diag.NewFile(fmt.Sprintf("argv[%d]", argAt), arg)
		argAt++
		files.Add(f)
		srcs = append(srcs, requestSource{file: f, arg: true})
	}
	if len(args) == 0 && len(paths) == 0 {
		paths = []string{"-"}
	}
	for _, path := range paths {
		name, content := path, ""
		if path == "-" {
			b, err := io.ReadAll(a.env.Stdin)
			if err != nil {
				return nil, &exitError{code: ExitUsage, err: fmt.Errorf("reading standard input: %w", err)}
			}
			name, content = "<stdin>", string(b)
			a.inputRead(len(b))
		} else {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, &exitError{code: ExitUsage, err: fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))}
			}
			content = string(b)
			a.inputRead(len(b))
		}
		f := diag.NewFile(name, content)
		files.Add(f)
		srcs = append(srcs, requestSource{file: f})
	}
	return srcs, nil
}
