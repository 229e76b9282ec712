package cli

import (
	"github.com/spf13/cobra"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/explain"
)

// explainOptions are the flags of capspec explain.
type explainOptions struct {
	format string
	table  bool
}

func (a *app) explainCommand() *cobra.Command {
	var o explainOptions
	cmd := &cobra.Command{
		Use:   "explain [FILE|-]...",
		Short: "Say in plain words what a policy allows, implies and risks",
		Long: `explain gives an account of each policy: a sentence for every rule, what the
rules allow in effect (DNS lookups, outbound connections, inbound listeners;
lookups that outbound rules imply are marked with the rule implying them),
what is denied, and the risks (the warning-level findings of capspec lint).

Each input is one policy with an account of its own; every command of a shell
script (--shell) is one policy.

--table prints the effective grants one a line instead. --format json prints
the same content as data (see docs/explain.md).

The exit status is 0; it is 2 for usage errors, unreadable input, and a policy
with errors, whose diagnostics go to standard error.`,
		Example: `  capspec explain --allow-outbound=tcp://example.com:80
  capspec explain policy.flags
  capspec explain --table policy.flags
  capspec explain --format json policy.flags`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runExplain(o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.BoolVar(&o.table, "table", false, "print the effective grants one a line (text only)")
	return cmd
}

func (a *app) runExplain(o explainOptions, args []string) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	if o.table && o.format != "text" {
		return usageErrorf("--table is a text format; it cannot be combined with --format %s", o.format)
	}
	set, err := a.load(args)
	if err != nil {
		return err
	}
	var accounts []*explain.Account
	var errs []diag.Diagnostic
	for _, it := range set.items {
		// The set's syntax trees are not needed after: each is handed over,
		// so that explain can free what it no longer needs.
		p, parsed := it.policy, it.diags
		it.policy, it.diags = nil, nil
		acct, ds := explain.Parsed(it.input, p, parsed)
		if acct == nil {
			errs = diag.Gather(errs, ds)
			continue
		}
		accounts = append(accounts, acct)
	}
	out := a.env.Stdout
	switch {
	case o.format == "json":
		err = explain.WriteJSON(out, accounts)
	default:
		pal, perr := a.palette(out)
		if perr != nil {
			return perr
		}
		if len(accounts) > 0 {
			if o.table {
				err = explain.WriteTable(out, accounts, pal)
			} else {
				err = explain.WriteText(out, accounts, pal)
			}
		}
	}
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		diag.Sort(errs)
		pal, err := a.palette(a.env.Stderr)
		if err != nil {
			return err
		}
		if err := diag.WriteText(a.env.Stderr, errs, set.files, pal); err != nil {
			return err
		}
		return exit(ExitUsage)
	}
	return nil
}
