package cli

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
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
	set, err := a.load(o.policies)
	if err != nil {
		return err
	}
	var aps []*ast.Policy
	for _, it := range set.items {
		aps = append(aps, it.policy)
	}
	p, conflicts := policy.Compile(aps...)
	ds := append(set.diagnostics(), conflicts...)
	if diag.HasErrors(ds) {
		if err := a.writeDiags(ds, set.files); err != nil {
			return err
		}
		return exit(ExitUsage)
	}

	items, rds, err := a.evalRequests(args, o.requests, set.files)
	if err != nil {
		return err
	}
	if len(rds) > 0 {
		if err := a.writeDiags(rds, set.files); err != nil {
			return err
		}
		return exit(ExitUsage)
	}
	if len(items) == 0 {
		return usageErrorf("no requests: give them as arguments, with --requests FILE, or on standard input")
	}

	results := eval.Run(p, ifaces, items)
	if o.format == "json" {
		err = eval.WriteJSON(a.env.Stdout, results)
	} else {
		pal, perr := a.palette(a.env.Stdout)
		if perr != nil {
			return perr
		}
		err = eval.WriteText(a.env.Stdout, results, pal)
	}
	if err != nil {
		return err
	}
	for _, r := range results {
		if !r.Decision.Allowed {
			return exit(ExitFailed)
		}
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
		name, ps, err := eval.ParseInterface(s)
		if err != nil {
			return nil, usageErrorf("--iface %s", err)
		}
		table[name] = append(table[name], ps...)
	}
	return eval.NewInterfaces(table), nil
}

// evalRequests reads the requests: arguments, --requests files, or
// standard input. Lines that cannot be read are diagnostics; their files
// join files for rendering.
func (a *app) evalRequests(args, paths []string, files diag.FileSet) ([]eval.Item, []diag.Diagnostic, error) {
	var items []eval.Item
	var ds []diag.Diagnostic
	argAt := 1
	for _, arg := range args {
		// Find the argument's position on the command line, for argv[N].
		for argAt < len(a.env.Args) && a.env.Args[argAt] != arg {
			argAt++
		}
		origin := fmt.Sprintf("argv[%d]", argAt)
		argAt++
		f := diag.NewFile(origin, arg)
		files.Add(f)
		it, err := eval.ParseRequest(arg)
		if err != nil {
			ds = append(ds, eval.RequestDiagnostic(origin, arg, err))
			continue
		}
		lead := len(arg) - len(strings.TrimLeft(arg, " \t"))
		it.Range = f.Range(lead, lead+len(it.Text))
		items = append(items, it)
	}
	if len(args) == 0 && len(paths) == 0 {
		paths = []string{"-"}
	}
	for _, path := range paths {
		name, content := path, ""
		if path == "-" {
			b, err := io.ReadAll(a.env.Stdin)
			if err != nil {
				return nil, nil, &exitError{code: ExitUsage, err: fmt.Errorf("reading standard input: %w", err)}
			}
			name, content = "<stdin>", string(b)
		} else {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, nil, &exitError{code: ExitUsage, err: fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))}
			}
			content = string(b)
		}
		files.Add(diag.NewFile(name, content))
		its, fds := eval.ReadRequests(name, content)
		items = append(items, its...)
		ds = append(ds, fds...)
	}
	return items, ds, nil
}
