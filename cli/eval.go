package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
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
	stdinForPolicy := slices.Contains(o.policies, "-")
	stdinForRequests := slices.Contains(o.requests, "-") || len(args) == 0 && len(o.requests) == 0
	if stdinForPolicy && stdinForRequests {
		return usageErrorf("standard input can hold the policy or the requests, not both")
	}
	if len(*a.allow["resolve"])+len(*a.allow["outbound"])+len(*a.allow["inbound"]) == 0 && len(o.policies) == 0 {
		return usageErrorf("no policy: give --allow-* flags or --policy FILE")
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

	ref := eval.NewReference(p, ifaces)
	tracker := eval.NewTracker(eval.NewIndex(p, ifaces))
	results := make([]evalResult, len(items))
	denied := false
	for i, it := range items {
		r := evalResult{item: it}
		q := it.Request
		if q.Op == eval.Lookup && it.Answers != nil {
			r.decision, r.recorded = tracker.Lookup(q, it.Answers)
		} else {
			r.decision, r.via = tracker.DecideVia(q)
		}
		if r.via != "" {
			q.Name = r.via
		}
		r.explanation = ref.Explain(q)
		denied = denied || !r.decision.Allowed
		results[i] = r
	}

	if o.format == "json" {
		err = writeEvalJSON(a.env.Stdout, results, p)
	} else {
		pal, perr := a.palette(a.env.Stdout)
		if perr != nil {
			return perr
		}
		err = writeEvalText(a.env.Stdout, results, p, pal)
	}
	if err != nil {
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

// evalResult is one decided request.
type evalResult struct {
	item        eval.Item
	decision    eval.Decision
	explanation eval.Explanation
	recorded    []netip.Addr // answers a recorded lookup gave the guest
	via         string       // the recorded name a bare address was resolved from
}

// hostSide writes where the host connects or listens, after mappings.
func hostSide(q eval.Request, d eval.Decision) string {
	port := strconv.Itoa(int(d.HostPort))
	if d.HostAddr.IsValid() {
		return eval.AddrPort(d.HostAddr, d.HostPort)
	}
	switch {
	case q.Op == eval.Connect || q.Op == eval.Send:
		return q.Name + ":" + port + " (the address DNS gives)"
	case q.Local == eval.LocalInterface:
		return q.Name + ":" + port
	}
	return "*:" + port
}

// requestHasFamily reports whether a request names its family (an
// address, or a lookup of one family).
func requestHasFamily(q eval.Request) bool {
	return q.Addr.IsValid() || q.Op == eval.Lookup && q.Family != 0
}

// ruleLine writes a rule for text output: "rule 2 at argv[3]:1: --allow-...".
func ruleLine(r *policy.Rule, pal *diag.Palette) string {
	s := fmt.Sprintf("rule %d at %s: %s", r.Index+1, pal.Gutter.Sprint(r.Range()), r.Text())
	if r.IsImplied() {
		s += " (implies " + r.String() + ")"
	}
	return s
}

func writeEvalText(w io.Writer, results []evalResult, p *policy.Policy, pal *diag.Palette) error {
	var b strings.Builder
	const indent = "       "
	for _, r := range results {
		q, d, x := r.item.Request, r.decision, r.explanation
		if d.Allowed {
			fmt.Fprintf(&b, "%s  %s\n", pal.Help.Sprint("allow"), r.item.Text)
		} else {
			fmt.Fprintf(&b, "%s   %s\n", pal.Error.Sprint("deny"), r.item.Text)
		}
		if d.Invalid != nil {
			fmt.Fprintf(&b, "%sinvalid request: %v\n", indent, d.Invalid)
			continue
		}
		if d.Allowed {
			if d.NoRuleNeeded {
				fmt.Fprintf(&b, "%sno rule needed: a lookup of an IP literal sends no query\n", indent)
			}
			for _, m := range x.Allowing {
				word := "also"
				if m.Decides {
					word = "by"
				}
				fmt.Fprintf(&b, "%s%s %s\n", indent, word, ruleLine(m.Rule, pal))
			}
			if !requestHasFamily(q) {
				fmt.Fprintf(&b, "%sfamilies: %s\n", indent, d.Families)
			}
			if r.via != "" {
				fmt.Fprintf(&b, "%sresolved from %s (recorded lookup)\n", indent, r.via)
			}
			switch {
			case q.Op == eval.Lookup && r.item.Answers != nil:
				fmt.Fprintf(&b, "%sanswers given: %s\n", indent, joinAddrs(r.recorded))
			case q.Op == eval.Lookup:
				if as := answers(d); len(as) > 0 && !d.NoRuleNeeded {
					fmt.Fprintf(&b, "%sanswer without DNS: %s\n", indent, joinAddrs(as))
				}
			default:
				fmt.Fprintf(&b, "%shost side: %s\n", indent, hostSide(q, d))
			}
			continue
		}
		for _, m := range x.Nearest {
			fmt.Fprintf(&b, "%s%s\n", indent, ruleLine(m.Rule, pal))
			for _, reason := range m.Reasons {
				fmt.Fprintf(&b, "%s  %s\n", indent, reason)
			}
		}
		for _, n := range x.Notes {
			fmt.Fprintf(&b, "%snote: %s\n", indent, n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// answers lists a decision's answers given without DNS.
func answers(d eval.Decision) []netip.Addr {
	var out []netip.Addr
	for _, a := range d.Answers {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

func joinAddrs(as []netip.Addr) string {
	if len(as) == 0 {
		return "none"
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// JSON output of capspec eval (docs/eval.md).

type jsonEvalRule struct {
	Index     int       `json:"index"`
	Flag      string    `json:"flag"`
	Canonical string    `json:"canonical"`
	Kind      string    `json:"kind"`
	Range     jsonRange `json:"range"`
	// Implied is the resolve rule an outbound rule implies, when that is
	// what allowed a lookup.
	Implied  string   `json:"implied,omitempty"`
	Families []string `json:"families,omitempty"`
	Reasons  []string `json:"reasons,omitempty"`
}

type jsonEvalResult struct {
	Request      string         `json:"request"`
	Input        jsonRange      `json:"input"`
	Decision     string         `json:"decision"`
	Invalid      string         `json:"invalid,omitempty"`
	Families     []string       `json:"families"`
	Rule         *jsonEvalRule  `json:"rule"`
	AllowedBy    []jsonEvalRule `json:"allowed_by"`
	NoRuleNeeded bool           `json:"no_rule_needed,omitempty"`
	Host         string         `json:"host,omitempty"`
	HostAddress  string         `json:"host_address,omitempty"`
	HostPort     *int           `json:"host_port,omitempty"`
	Answers      []string       `json:"answers,omitempty"`
	Recorded     []string       `json:"recorded,omitempty"`
	ResolvedFrom string         `json:"resolved_from,omitempty"`
	Nearest      []jsonEvalRule `json:"nearest"`
	Notes        []string       `json:"notes"`
}

func jsonEvalRuleOf(r *policy.Rule) jsonEvalRule {
	j := jsonEvalRule{Index: r.Index, Flag: r.Text(), Canonical: r.String(), Kind: r.Kind.String(), Range: toJSONRange(r.Range())}
	if r.IsImplied() {
		j.Flag, j.Canonical, j.Kind = r.ImpliedBy.Text(), r.ImpliedBy.String(), r.ImpliedBy.Kind.String()
		j.Implied = r.String()
	}
	return j
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func writeEvalJSON(w io.Writer, results []evalResult, p *policy.Policy) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range results {
		q, d, x := r.item.Request, r.decision, r.explanation
		j := jsonEvalResult{Request: q.String(), Input: toJSONRange(r.item.Range), Decision: "deny",
			Families: d.Families.List(), AllowedBy: []jsonEvalRule{}, Nearest: []jsonEvalRule{}, Notes: x.Notes,
			NoRuleNeeded: d.NoRuleNeeded, ResolvedFrom: r.via}
		if j.Families == nil {
			j.Families = []string{}
		}
		if j.Notes == nil {
			j.Notes = []string{}
		}
		if d.Invalid != nil {
			j.Invalid = d.Invalid.Error()
		}
		if d.Allowed {
			j.Decision = "allow"
			for _, m := range x.Allowing {
				jr := jsonEvalRuleOf(m.Rule)
				jr.Families = m.Families.List()
				j.AllowedBy = append(j.AllowedBy, jr)
				if m.Decides {
					j.Rule = &jr
				}
			}
			if q.Op != eval.Lookup {
				j.Host = hostSide(q, d)
				if d.HostAddr.IsValid() {
					j.HostAddress = d.HostAddr.String()
				}
				port := int(d.HostPort)
				j.HostPort = &port
			} else if !d.NoRuleNeeded {
				j.Answers = addrStrings(answers(d))
			}
			if r.item.Answers != nil {
				j.Recorded = addrStrings(r.recorded)
			}
		} else {
			for _, m := range x.Nearest {
				jr := jsonEvalRuleOf(m.Rule)
				jr.Reasons = m.Reasons
				j.Nearest = append(j.Nearest, jr)
			}
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}
