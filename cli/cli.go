// Package cli is capspec's command line: one file per command, sharing the
// inputs, color and output helpers of this file. Run executes one command
// line against explicit streams, so tests run it in-process.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/suggest"
	"github.com/capspec/capspec/internal/version"
	"github.com/capspec/capspec/source"
)

// Env is what one run of capspec sees of the world.
type Env struct {
	Args   []string // the command line, program name at index 0
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// IsTerminal reports whether a stream is a terminal (for --color=auto).
	IsTerminal func(w io.Writer) bool
	// Signals, when set, delivers the signals capspec proxy acts on
	// (SIGINT, SIGTERM, SIGHUP) instead of the process's own.
	Signals <-chan os.Signal
	// MemoryBudget, for a run that is the whole process (Main), lets a
	// one-shot command set the Go runtime's soft memory limit from the
	// size of its inputs (see memoryBudget). It is process-wide, so a
	// caller running commands in a process of its own leaves it false.
	MemoryBudget bool
}

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailed  = 1 // findings, denials, or not canonical
	ExitUsage   = 2 // usage errors, unreadable input, a policy with errors
	exitNoError = -1
)

// exitError ends a command with a status, after its output is written.
type exitError struct {
	code int
	err  error // printed to stderr when not nil
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// exit returns an error that ends the command with status code and no message.
func exit(code int) error { return &exitError{code: code} }

// usageErrorf ends the command with status 2 and a message.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// Main runs capspec with the process's arguments and streams.
func Main() int {
	return Run(Env{
		Args: os.Args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, IsTerminal: isTerminal, MemoryBudget: true,
	})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// app is the state of one run: the environment and the global flags.
type app struct {
	env      Env
	allow    map[string]*[]string // --allow-resolve, --allow-outbound, --allow-inbound
	shell    []string             // --shell scripts
	colorArg string

	inputBytes  int64 // the bytes of input read so far (inputRead)
	longRunning bool  // the command serves until stopped (proxy, lsp, playground): no memory budget
	budgetSet   bool  // inputRead set the memory limit
}

// Run executes one capspec command line and returns its exit status.
func Run(env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.IsTerminal == nil {
		env.IsTerminal = func(io.Writer) bool { return false }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	a := &app{env: env, allow: map[string]*[]string{}}
	root := a.rootCommand()
	args, err := a.policyArgs(root)
	if err != nil {
		fmt.Fprintf(env.Stderr, "capspec: %v\n", err)
		return ExitUsage
	}
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err = root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(env.Stderr, "capspec: %v\n", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors (unknown flag, bad argument count) are usage errors.
	fmt.Fprintf(env.Stderr, "capspec: %v\n", err)
	fmt.Fprintf(env.Stderr, "Run 'capspec --help' for usage.\n")
	return ExitUsage
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "capspec",
		Short: "Check, explain, format and evaluate WebAssembly network-permission flags",
		Long: `capspec reads the --allow-resolve, --allow-outbound and --allow-inbound flags that
WebAssembly runtimes take, from its own command line, from flags files, or from
shell scripts, and checks, explains, formats and evaluates them.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints the build's version (module version, else the
		// VCS revision), the one internal/version gives SARIF too.
		Version: version.Get().Version,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			switch cmd.Name() {
			case "proxy", "lsp", "playground":
				a.longRunning = true
			}
		},
	}
	root.SetVersionTemplate("capspec {{.Version}}\n")
	for _, kind := range ast.Kinds {
		a.allow[kind.String()] = new([]string)
	}
	root.PersistentFlags().StringVar(&a.colorArg, "color", "auto", "color output: auto, always or never")
	root.AddCommand(a.commands()...)
	return root
}

// policyAnnotation marks the commands that take a policy (--allow-*,
// --shell, flags files).
const policyAnnotation = "capspec-policy"

// takesPolicy gives a command the flags of a policy: the three --allow-*
// flags and --shell.
func (a *app) takesPolicy(cmd *cobra.Command) *cobra.Command {
	f := cmd.Flags()
	for _, kind := range ast.Kinds {
		f.StringArrayVar(a.allow[kind.String()], kind.FlagName()[2:], nil, "a "+kind.FlagName()+" flag to read (repeatable; never split on commas)")
	}
	f.StringArrayVar(&a.shell, "shell", nil, "a shell script whose commands' --allow-* flags to read (repeatable; - for standard input)")
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[policyAnnotation] = "yes"
	return cmd
}

// policyArgs returns the arguments for the command-line parser. A command
// that takes a policy reads misspelled --allow-* flags (--allow-outboud=...)
// as flags, so that they are reported with the name meant (CS001, at
// argv[N]:col) rather than refused by the parser: they are left out of
// what the parser sees. A command that takes no policy refuses policy
// flags as a usage error.
func (a *app) policyArgs(root *cobra.Command) ([]string, error) {
	args := a.env.Args
	if len(args) > 0 {
		args = args[1:]
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		return args, nil
	}
	if cmd.Annotations[policyAnnotation] == "" {
		for _, arg := range args {
			if arg == "--" {
				break
			}
			name, _, _ := strings.Cut(arg, "=")
			if source.NearFlagName(arg) || name == "--shell" && cmd.Flags().Lookup("shell") == nil {
				return nil, fmt.Errorf("capspec %s takes no policy: %s is not one of its flags (see capspec %s --help)", cmd.Name(), name, cmd.Name())
			}
		}
		return args, nil
	}
	skip := map[int]bool{}
	for _, i := range (source.Args{Argv: a.env.Args}).Misspelled() {
		skip[i] = true
		// A misspelled flag is a policy flag given: count it with the
		// flags of the kind it most likely means.
		name, _, _ := strings.Cut(a.env.Args[i], "=")
		if strings.HasPrefix(name, "-") {
			kind := "outbound"
			if best := suggest.Closest(name, 3, ast.FlagNames()...); best != "" {
				kind = strings.TrimPrefix(best, "--allow-")
			}
			*a.allow[kind] = append(*a.allow[kind], a.env.Args[i])
		}
	}
	var out []string
	for i, arg := range args {
		if !skip[i+1] {
			out = append(out, arg)
		}
	}
	return out, nil
}

// commands returns every subcommand; each is defined in its own file.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.takesPolicy(a.parseCommand()),
		a.takesPolicy(a.lintCommand()),
		a.takesPolicy(a.fmtCommand()),
		a.rulesCommand(),
		a.takesPolicy(a.explainCommand()),
		a.takesPolicy(a.evalCommand()),
		a.takesPolicy(a.exportCommand()),
		a.importCommand(),
		a.lspCommand(),
		a.playgroundCommand(),
		a.takesPolicy(a.proxyCommand()),
		a.diffCommand(),
	}
}

// colorEnabled decides whether output to w is colored: --color, then
// NO_COLOR, then FORCE_COLOR, then whether w is a terminal.
func (a *app) colorEnabled(w io.Writer) (bool, error) {
	switch a.colorArg {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
	default:
		return false, usageErrorf("--color must be auto, always or never, not %q", a.colorArg)
	}
	if a.env.Getenv("NO_COLOR") != "" {
		return false, nil
	}
	if v := a.env.Getenv("FORCE_COLOR"); v != "" && v != "0" && v != "false" {
		return true, nil
	}
	return a.env.IsTerminal(w), nil
}

// palette returns the colors for output to w.
func (a *app) palette(w io.Writer) (*diag.Palette, error) {
	on, err := a.colorEnabled(w)
	if err != nil {
		return nil, err
	}
	return diag.NewPalette(on), nil
}

// checkFormat returns a usage error unless format is one of allowed.
func checkFormat(format string, allowed ...string) error {
	for _, f := range allowed {
		if format == f {
			return nil
		}
	}
	return usageErrorf("--format must be %s, not %q", strings.Join(allowed, ", "), format)
}
