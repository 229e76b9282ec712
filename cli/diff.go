package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/diff"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/report"
	"github.com/capspec/capspec/source"
)

// diffOptions are the flags of capspec diff.
type diffOptions struct {
	format   string
	shell    bool
	exitCode bool
}

func (a *app) diffCommand() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what NEW allows that OLD does not, and the reverse",
		Long: `diff compares two policies on what they mean, not on their text: implied
lookups, host mappings and port mappings included. It prints a line per
region that NEW allows and OLD does not ("+"), that OLD allows and NEW does
not ("-"), and per mapping whose target changed ("~"), each as a canonical
flag with the position of the rule that grants it; "except" lines say what
the other policy already allows inside a region. The last line sums up, or
says "no change in what is allowed".

OLD and NEW are flags files; "-" reads one of them from standard input (as
in git show main:policy.flags | capspec diff - policy.flags). With --shell
they are shell scripts, each script's commands taken together as one policy.
Listens are decided with an empty interface table, so the result does not
depend on the machine.

--format json, github (workflow commands: a warning per added region and
changed mapping) or markdown (a table for a pull request).

Exit status: 0; with --exit-code, 1 when NEW allows anything OLD does not or
a mapping changed; 2 for usage errors, unreadable input and a policy with
errors.`,
		Example: `  capspec diff old.flags new.flags
  git show main:policy.flags | capspec diff - policy.flags --exit-code
  capspec diff --shell old-run.sh run.sh --format markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runDiff(o, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text, json, github or markdown")
	f.BoolVar(&o.shell, "shell", false, "OLD and NEW are shell scripts")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit 1 when NEW allows anything new or a mapping changed")
	return cmd
}

func (a *app) runDiff(o diffOptions, oldPath, newPath string) error {
	if err := checkFormat(o.format, "text", "json", "github", "markdown"); err != nil {
		return err
	}
	if oldPath == "-" && newPath == "-" {
		return usageErrorf("standard input (-) can be read only once: give it for OLD or NEW")
	}
	oldP, oldSet, err := a.loadSide(oldPath, o.shell)
	if err != nil {
		return err
	}
	newP, newSet, err := a.loadSide(newPath, o.shell)
	if err != nil {
		return err
	}
	var ds []diag.Diagnostic
	files := diag.FileSet{}
	for _, s := range []*policySet{oldSet, newSet} {
		ds = append(ds, s.diags...)
		for n, f := range s.set.files {
			files[n] = f
		}
	}
	if diag.HasErrors(ds) {
		if err := a.writeDiags(ds, files); err != nil {
			return err
		}
		return exit(ExitUsage)
	}
	out := a.env.Stdout
	var wr diff.Writer
	switch o.format {
	case "github":
		wr = newGitHubDiffWriter(out)
	default:
		var pal *diag.Palette
		if o.format == "text" {
			if pal, err = a.palette(out); err != nil {
				return err
			}
		}
		if wr, err = diff.NewWriter(out, o.format, pal); err != nil {
			return err
		}
	}
	// Of the policies' flags only where they are written is needed now:
	// the syntax trees can go.
	oldP.ForgetSyntax()
	newP.ForgetSyntax()
	n, err := diff.Stream(oldP, newP, wr)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if err := wr.Close(n); err != nil {
		return err
	}
	if o.exitCode && (n.Added > 0 || n.Changed > 0) {
		return exit(ExitFailed)
	}
	return nil
}

// gitHubDiffWriter writes a comparison as GitHub workflow commands
// (report.WriteGitHub): a warning per added region and changed mapping,
// a notice per removed region, in the order of diff.Result.Diagnostics
// (the removed regions, which the comparison finds before the changes,
// are held as written text until the changes are written), then the
// summary as a notice.
type gitHubDiffWriter struct {
	out        io.Writer
	now, later ghBuffer // the commands to write out, the removed regions' held
}

// ghBuffer is text written by report.WriteGitHub through a buffered
// writer as large as its own (so that it is used as is, and its flush is
// a copy into text).
type ghBuffer struct {
	text bytes.Buffer
	b    *bufio.Writer
}

func (g *ghBuffer) write(d diag.Diagnostic) error {
	if g.b == nil {
		g.b = bufio.NewWriterSize(&g.text, 64<<10)
	}
	return report.WriteGitHub(g.b, []diag.Diagnostic{d})
}

func newGitHubDiffWriter(w io.Writer) *gitHubDiffWriter { return &gitHubDiffWriter{out: w} }

// Region writes an added region, or holds a removed one.
func (g *gitHubDiffWriter) Region(added bool, r *diff.Region) error {
	if !added {
		return g.later.write(diff.RegionDiagnostic(false, r))
	}
	return g.emit(diff.RegionDiagnostic(true, r))
}

func (g *gitHubDiffWriter) Change(ch *diff.Change) error { return g.emit(diff.ChangeDiagnostic(ch)) }

// emit writes a diagnostic, out when some 64 KiB are gathered.
func (g *gitHubDiffWriter) emit(d diag.Diagnostic) error {
	if err := g.now.write(d); err != nil {
		return err
	}
	if g.now.text.Len() < 64<<10 {
		return nil
	}
	_, err := g.now.text.WriteTo(g.out)
	return err
}

// Close writes what is left, the removed regions held, then the summary
// (which has no character a workflow command must escape).
func (g *gitHubDiffWriter) Close(n diff.Counts) error {
	fmt.Fprintf(&g.later.text, "::notice title=capspec diff::%s\n", n.Summary())
	for _, t := range []*bytes.Buffer{&g.now.text, &g.later.text} {
		if _, err := t.WriteTo(g.out); err != nil {
			return err
		}
	}
	return nil
}

// policySet is one policy read for a command that reads several: the
// inputs and the diagnostics of reading, parsing and compiling them.
type policySet struct {
	set   *inputSet
	diags []diag.Diagnostic
}

// loadSide reads one flags file (or "-"), or one shell script, as one
// compiled policy.
func (a *app) loadSide(path string, shell bool) (*policy.Policy, *policySet, error) {
	saved := a.shell
	defer func() { a.shell = saved }()
	var set *inputSet
	var err error
	if shell {
		a.shell = []string{path}
		set, err = a.load(nil)
	} else {
		a.shell = nil
		set, err = a.load([]string{path})
	}
	if err != nil {
		return nil, nil, err
	}
	p, ds := set.compile()
	return p, &policySet{set: set, diags: ds}, nil
}

// loadMaximum reads the maxima of lint --within (flags files, "-" for
// standard input unless an input is read from it) as one merged policy
// (diff.ReadMaximum), or returns nil for none. A maximum with errors is a
// usage error, after its diagnostics.
func (a *app) loadMaximum(paths, inputs []string) (*diff.Maximum, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	rd := &fileReader{app: a, stdinUsed: slices.Contains(inputs, "-") || slices.Contains(a.shell, "-")}
	files := make([]source.FlagsFile, 0, len(paths))
	for _, path := range paths {
		name, content, stdin, err := rd.read(path)
		if err != nil {
			return nil, err
		}
		files = append(files, source.FlagsFile{Name: name, Content: content, Stdin: stdin})
	}
	m, ds, fs, err := diff.ReadMaximum(files)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	if m == nil {
		if err := a.writeDiags(ds, fs); err != nil {
			return nil, err
		}
		return nil, &exitError{code: ExitUsage, err: fmt.Errorf("the maximum policy (--within) has errors")}
	}
	return m, nil
}
