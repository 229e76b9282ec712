package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/inplace"
	"github.com/capspec/capspec/internal/version"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/report"
	"github.com/capspec/capspec/source"
)

// lintOptions are the flags of capspec lint.
type lintOptions struct {
	format  string
	failOn  string
	disable []string
	fix     bool
	write   bool
	within  []string // maximum policies (CS401)
}

// maxFixPasses bounds how often --fix applies fixes and lints again: a
// fix can make another one possible (a respelled rule becomes a duplicate).
const maxFixPasses = 8

func (a *app) lintCommand() *cobra.Command {
	var o lintOptions
	cmd := &cobra.Command{
		Use:   "lint [FILE|-]...",
		Short: "Report problems in flags (exit 1 on findings at or above --fail-on)",
		Long: `lint checks flags against every rule of capspec (see capspec rules) and prints
the findings as text, JSON, SARIF 2.1.0 or GitHub Actions workflow commands.

A comment "# capspec:ignore ID[,ID...] reason" on the line above a flag, or at
the end of its line, silences those rules for that flag. --disable silences
rules for the run.

The exit status is 1 when any finding is at or above --fail-on (error by
default), 0 otherwise, and 2 for usage errors and unreadable input.

--fix applies the first suggested fix of every finding (those that do not
overlap) and prints the fixed flags; with -w it rewrites the files instead.
The remaining findings go to standard error, and decide the exit status.`,
		Example: `  capspec lint --allow-outbound=tcp://example.com:80
  capspec lint policy.flags --format sarif > capspec.sarif
  capspec lint policy.flags --format github --fail-on warning
  capspec lint policy.flags --disable CS206,CS306
  capspec lint --fix -w policy.flags`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runLint(o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text, json, sarif or github")
	f.StringVar(&o.failOn, "fail-on", "error", "lowest severity that makes the exit status 1: error, warning or info")
	f.StringSliceVar(&o.disable, "disable", nil, "rule IDs not to report, comma-separated (repeatable)")
	f.BoolVar(&o.fix, "fix", false, "apply suggested fixes and print the fixed flags")
	f.BoolVarP(&o.write, "write", "w", false, "with --fix, rewrite files in place instead of printing them")
	f.StringArrayVar(&o.within, "within", nil, "a flags file of the widest policy accepted: report every rule that allows more (CS401; repeatable, merged)")
	return cmd
}

func (a *app) runLint(o lintOptions, args []string) error {
	if err := checkFormat(o.format, "text", "json", "sarif", "github"); err != nil {
		return err
	}
	failOn, err := diag.ParseSeverity(o.failOn)
	if err != nil {
		return usageErrorf("--fail-on must be error, warning or info, not %q", o.failOn)
	}
	opts := lint.Options{}
	for _, id := range o.disable {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		r, ok := lint.Lookup(id)
		if !ok {
			return usageErrorf("--disable: unknown rule %q (see capspec rules)", id)
		}
		opts.Disable = append(opts.Disable, r.ID)
	}
	if opts.Within, err = a.loadMaximum(o.within, args); err != nil {
		return err
	}
	if o.write {
		o.fix = true
		for _, p := range args {
			if p == "-" {
				return usageErrorf("-w cannot rewrite standard input")
			}
		}
	}
	set, err := a.load(args)
	if err != nil {
		return err
	}
	out := a.env.Stdout
	if o.fix {
		set, err = a.fixAll(set, opts, o.write)
		if err != nil {
			return err
		}
		out = a.env.Stderr
	}
	ds := lintSet(set, opts, true)
	if err := a.writeFindings(out, o.format, ds, set.files); err != nil {
		return err
	}
	for _, d := range ds {
		if d.Severity.AtLeast(failOn) {
			return exit(ExitFailed)
		}
	}
	return nil
}

// lintSet lints every input of a set and returns the findings, sorted.
// With last, the set is linted for the last time and only its files are
// used after: each input's syntax tree is handed to lint.Lint and dropped
// from the set, so that it can be freed while the input is checked against
// a maximum (--within), and the input itself once it is linted.
func lintSet(set *inputSet, opts lint.Options, last bool) []diag.Diagnostic {
	var ds []diag.Diagnostic
	for i := range set.items {
		it := set.items[i]
		p := it.policy
		if last {
			it.policy, set.items[i] = nil, nil
		}
		ds = diag.Gather(ds, lint.Lint(it.input, p, it.diags, opts))
	}
	diag.Sort(ds)
	return ds
}

// writeFindings writes diagnostics in a format.
func (a *app) writeFindings(w io.Writer, format string, ds []diag.Diagnostic, files diag.FileSet) error {
	switch format {
	case "json":
		return diag.WriteJSON(w, ds, lint.Name)
	case "sarif":
		v := version.Get()
		tool := report.Tool{Name: "capspec", Version: v.Version, SemanticVersion: v.Semantic, InformationURI: "https://github.com/capspec/capspec"}
		return report.WriteSARIF(w, tool, lint.Rules(), ds, files)
	case "github":
		return report.WriteGitHub(w, ds)
	}
	pal, err := a.palette(w)
	if err != nil {
		return err
	}
	return diag.WriteText(w, ds, files, pal)
}

// fixAll applies fixes until none applies (at most maxFixPasses times),
// then writes the fixed files (write) or prints the fixed flags. It
// returns the inputs as fixed.
func (a *app) fixAll(set *inputSet, opts lint.Options, write bool) (*inputSet, error) {
	contents := map[string]string{}
	for name, f := range set.files {
		contents[name] = f.Content
	}
	changed := map[string]bool{}
	for pass := 0; pass < maxFixPasses; pass++ {
		edits, n := diag.SelectFixes(lintSet(set, opts, false))
		if n == 0 {
			break
		}
		for origin, es := range edits {
			fixed, err := diag.ApplyEdits(contents[origin], es)
			if err != nil {
				return nil, fmt.Errorf("applying fixes to %s: %w", origin, err)
			}
			if fixed != contents[origin] {
				contents[origin] = fixed
				changed[origin] = true
			}
		}
		next, err := a.reload(set, contents)
		if err != nil {
			return nil, err
		}
		set = next
	}
	return set, a.emitFixed(set, contents, changed, write)
}

// reload reads and parses the inputs of a set again from fixed contents.
func (a *app) reload(set *inputSet, contents map[string]string) (*inputSet, error) {
	next := &inputSet{files: diag.FileSet{}}
	reread := map[string]bool{} // a script is one source of several inputs
	for _, it := range set.items {
		var src source.Source
		switch it.input.Kind {
		case source.ArgsInput:
			argv := append([]string(nil), a.env.Args...)
			for _, f := range it.input.Files {
				if f.Kind == diag.OriginArg && f.Arg < len(argv) {
					argv[f.Arg] = contents[f.Name]
				}
			}
			src = source.Args{Argv: argv}
		default:
			if len(it.input.Files) != 1 {
				return nil, fmt.Errorf("cannot fix %s: it is read from %d origins", it.input.Name, len(it.input.Files))
			}
			f := it.input.Files[0]
			if reread[f.Name] {
				continue
			}
			reread[f.Name] = true
			stdin := f.Kind == diag.OriginStdin
			src = source.FlagsFile{Name: f.Name, Content: contents[f.Name], Stdin: stdin}
			if it.input.Kind == source.ScriptInput {
				src = source.Shell{Name: f.Name, Content: contents[f.Name], Stdin: stdin}
			}
		}
		ins, err := src.Read()
		if err != nil {
			return nil, &exitError{code: ExitUsage, err: err}
		}
		for _, in := range ins {
			next.files.Add(in.Files...)
			next.items = append(next.items, parseInput(in))
		}
	}
	return next, nil
}

// emitFixed writes fixed files in place (write) or prints them. The flags
// of the command line and of standard input are always printed, one flag a
// line for the command line.
func (a *app) emitFixed(set *inputSet, contents map[string]string, changed map[string]bool, write bool) error {
	type printed struct{ name, text string }
	var outs []printed
	var writes []fileWrite
	emitted := map[string]bool{}
	for _, it := range set.items {
		if it.input.Kind == source.ArgsInput {
			var b strings.Builder
			for _, f := range it.input.Flags {
				b.WriteString(f.Text)
				b.WriteByte('\n')
			}
			outs = append(outs, printed{"command line", b.String()})
			continue
		}
		for _, f := range it.input.Files {
			if emitted[f.Name] {
				continue
			}
			emitted[f.Name] = true
			if write && f.Kind == diag.OriginFile {
				if changed[f.Name] {
					writes = append(writes, fileWrite{f.Name, contents[f.Name]})
				}
				continue
			}
			outs = append(outs, printed{f.Name, contents[f.Name]})
		}
	}
	if err := rewriteFiles(writes); err != nil {
		return err
	}
	out := bufio.NewWriter(a.env.Stdout)
	for _, p := range outs {
		if len(outs) > 1 {
			fmt.Fprintf(out, "# %s\n", p.name)
		}
		out.WriteString(p.text)
		if p.text != "" && !strings.HasSuffix(p.text, "\n") {
			out.WriteByte('\n')
		}
	}
	return out.Flush()
}

// fileWrite is a file to rewrite with new content.
type fileWrite struct{ path, content string }

// rewriteFiles rewrites files in place, atomically, following symbolic
// links and keeping each file's mode and owner (package inplace): the one
// write path of fmt -w, fmt --shell -w and lint --fix -w. Every file is
// checked before any is written, so that a file that cannot be rewritten
// (read-only, unreadable, not a regular file) stops the command with
// status 2 before anything changes.
func rewriteFiles(ws []fileWrite) error {
	for _, w := range ws {
		if _, err := inplace.Check(w.path); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
	}
	for _, w := range ws {
		if err := inplace.Rewrite(w.path, []byte(w.content)); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
	}
	return nil
}
