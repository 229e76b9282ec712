package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"
	"mvdan.cc/sh/v3/syntax"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/normalize"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// fmtOptions are the flags of capspec fmt.
type fmtOptions struct {
	write, diff, list, check, oneline bool
}

func (a *app) fmtCommand() *cobra.Command {
	var o fmtOptions
	cmd := &cobra.Command{
		Use:   "fmt [FILE|-]...",
		Short: "Print flags in canonical form (exit 1 with --check or -l when not canonical)",
		Long: `fmt rewrites flags into capspec's canonical form (SPEC §4): one spelling per
rule, ports sorted and merged, rules merged and the ones other rules already
grant dropped, in a fixed order. Formatting never changes what a policy
allows, and formatting canonical flags changes nothing.

Each file is formatted on its own; the --allow-* flags given to capspec form
one more policy. Comments travel with the flag they stand above or beside; a
merged rule keeps the comments of all its flags, and a dropped rule's
comments go to the rule that grants what it granted. A comment block at the
top of a file, followed by an empty line, stays at the top; so do comments
after the last flag at the bottom.

By default the canonical flags are printed, one a line. -w rewrites the
files instead (the --allow-* flags are still printed); -d prints a unified
diff, -l lists the inputs that are not canonical (a path, <stdin> or argv),
and --check prints nothing on standard output and names them on standard
error; with -w, the files are rewritten as well. --oneline prints each policy as one line
of shell words, quoted, to paste into a command.

With --shell SCRIPT, each command of the script is a policy formatted on its
own, and the script is the input: fmt prints (or -w rewrites, -d diffs) the
script with only its flag words changed, canonical and quoted where the
shell needs it; every other byte is kept, and flags whose values the shell
computes (CS013) are left as written. --oneline cannot be used with --shell.

A policy with errors is never formatted: the diagnostics go to standard
error, nothing is printed or written, and the exit status is 2. Otherwise it
is 1 with --check or -l when some input is not canonical, and 0.`,
		Example: `  capspec fmt policy.flags
  capspec fmt -w policy.flags
  capspec fmt --check -d policy.flags
  capspec fmt --oneline --allow-outbound tcp://Example.com:443,80
  capspec fmt -d --shell run.sh`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runFmt(o, args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.write, "write", "w", false, "rewrite files in place (atomically, keeping their mode)")
	f.BoolVarP(&o.diff, "diff", "d", false, "print a unified diff of the changes instead of the flags")
	f.BoolVarP(&o.list, "list", "l", false, "list the inputs that are not canonical; exit 1 if any")
	f.BoolVar(&o.check, "check", false, "print nothing on standard output; exit 1 if any input is not canonical")
	f.BoolVar(&o.oneline, "oneline", false, "print each policy as one line of shell-quoted flags")
	return cmd
}

// formatted is one input and its canonical form.
type formatted struct {
	name string // the input's name: a path, "<stdin>" or "argv"
	path string // the file to rewrite, or "" (standard input, command line)
	old  string // the input as it is
	new  string // the input in canonical form
	res  *normalize.Result
}

// canonical reports whether the input is already in canonical form.
func (f *formatted) canonical() bool { return f.old == f.new }

func (a *app) runFmt(o fmtOptions, args []string) error {
	if o.oneline && (o.write || o.diff || o.list || o.check) {
		return usageErrorf("--oneline prints flags; it cannot be used with -w, -d, -l or --check")
	}
	if o.oneline && len(a.shell) > 0 {
		return usageErrorf("--oneline cannot be used with --shell: a script is formatted in place")
	}
	if o.write {
		for _, p := range append(append([]string(nil), args...), a.shell...) {
			if p == "-" {
				return usageErrorf("-w cannot rewrite standard input")
			}
		}
	}
	set, err := a.load(args)
	if err != nil {
		return err
	}
	if errs := policyErrors(set); len(errs) > 0 {
		pal, err := a.palette(a.env.Stderr)
		if err != nil {
			return err
		}
		if err := diag.WriteText(a.env.Stderr, errs, set.files, pal); err != nil {
			return err
		}
		return &exitError{code: ExitUsage, err: fmt.Errorf("not formatted: %s", plural(len(errs), "error"))}
	}
	fs, err := formatAll(set)
	if err != nil {
		return err
	}
	notCanonical := false
	for _, f := range fs {
		notCanonical = notCanonical || !f.canonical()
	}
	if o.write {
		var ws []fileWrite
		for _, f := range fs {
			if f.path != "" && !f.canonical() {
				ws = append(ws, fileWrite{f.path, f.new})
			}
		}
		if err := rewriteFiles(ws); err != nil {
			return err
		}
	}
	var out strings.Builder
	switch {
	case o.list || o.diff || o.check:
		// Report what is not canonical; print no flags.
		for _, f := range fs {
			if f.canonical() {
				continue
			}
			if o.list {
				fmt.Fprintln(&out, f.name)
			}
			if o.diff {
				out.Write(diff.Diff(f.name+".orig", []byte(f.old), f.name, []byte(f.new)))
			}
			if o.check && !o.list && !o.diff {
				fmt.Fprintf(a.env.Stderr, "capspec: %s is not in canonical form\n", f.name)
			}
		}
	default:
		// Print the canonical flags of every input -w did not rewrite.
		var printed []*formatted
		for _, f := range fs {
			if !o.write || f.path == "" {
				printed = append(printed, f)
			}
		}
		for _, f := range printed {
			if len(printed) > 1 {
				fmt.Fprintf(&out, "# %s\n", f.name)
			}
			if !o.oneline {
				out.WriteString(f.new)
				continue
			}
			line, err := shellLine(f.res)
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			out.WriteString(line + "\n")
		}
	}
	if _, err := io.WriteString(a.env.Stdout, out.String()); err != nil {
		return err
	}
	if notCanonical && (o.check || o.list) {
		return exit(ExitFailed)
	}
	return nil
}

// formatAll formats every input of a set. Flags files, standard input and
// the command line are formatted one input each (rewrite); a script's
// commands are formatted each on its own and written back into the script
// together, so a script is one formatted input whatever its commands.
func formatAll(set *inputSet) ([]*formatted, error) {
	var fs []*formatted
	results := map[*loaded]*normalize.Result{}
	for _, it := range set.items {
		res := normalize.Format(it.policy, it.input)
		if set.isScript(it) {
			results[it] = res
			continue
		}
		fs = append(fs, rewrite(it, res))
	}
	fixed, err := rewriteScripts(set, func(it *loaded) ([]string, error) {
		return results[it].Flags(), nil
	})
	if err != nil {
		return nil, err
	}
	for _, sh := range set.scripts {
		f := &formatted{name: sh.Name, old: sh.Content, new: sh.Content}
		if s, ok := fixed[sh.Name]; ok {
			f.new = s
		}
		if !sh.Stdin {
			f.path = sh.Name
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// rewrite returns an input's text as it is and in canonical form. A flags
// file is its content and the canonical flags file (with its comments), to
// be rewritten unless it is standard input. Other inputs — the command
// line, and any kind of input fmt cannot write back — are their flags one
// a line, and the canonical flags one a line, printed only. This is the
// one place that knows how each kind of input is written back.
func rewrite(it *loaded, res *normalize.Result) *formatted {
	f := &formatted{name: it.input.Name, res: res}
	if fs := it.input.Files; it.input.Kind == source.FlagsInput && len(fs) == 1 {
		f.old, f.new = fs[0].Content, res.String()
		if fs[0].Kind == diag.OriginFile {
			f.path = fs[0].Name
		}
		return f
	}
	var b strings.Builder
	for _, fl := range it.input.Flags {
		b.WriteString(fl.Text + "\n")
	}
	f.old, f.new = b.String(), lines(res.Flags())
	return f
}

// policyErrors returns the errors of every input — those of reading and
// parsing, and the mapping conflicts of the compiled policy (CS101) —
// sorted. Suppression comments do not apply: a policy with errors cannot
// be formatted without changing what it means.
func policyErrors(set *inputSet) []diag.Diagnostic {
	// Counted first, then gathered into one slice of the right size: an
	// input may have a hundred thousand.
	var all [][]diag.Diagnostic
	n := 0
	for _, it := range set.items {
		_, conflicts := policy.Compile(it.policy)
		for _, ds := range [][]diag.Diagnostic{it.diags, conflicts} {
			all = append(all, ds)
			for _, d := range ds {
				if d.Severity == diag.Error {
					n++
				}
			}
		}
	}
	errs := make([]diag.Diagnostic, 0, n)
	for _, ds := range all {
		for _, d := range ds {
			if d.Severity == diag.Error {
				errs = append(errs, d)
			}
		}
	}
	diag.Sort(errs)
	return errs
}

// shellLine writes canonical flags as one line of shell words: each
// "--allow-X=" followed by its value, quoted when the shell would
// otherwise change it ("*", "#", "[", ">" and the like).
func shellLine(res *normalize.Result) (string, error) {
	words := make([]string, len(res.Rules))
	for i, r := range res.Rules {
		q, err := shellQuote(r.Spec())
		if err != nil {
			return "", fmt.Errorf("cannot quote %s: %w", r.String(), err)
		}
		words[i] = r.Kind.FlagName() + "=" + q
	}
	return strings.Join(words, " "), nil
}

// shellQuote quotes a flag's value for a POSIX shell, leaving it as it is
// when no quoting is needed.
func shellQuote(s string) (string, error) { return syntax.Quote(s, syntax.LangPOSIX) }

// lines joins strings as lines.
func lines(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return strings.Join(ss, "\n") + "\n"
}
