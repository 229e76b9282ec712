package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/interop"
	"github.com/capspec/capspec/lint"
)

// importOptions are the flags of capspec import.
type importOptions struct {
	from   string
	format string
}

func (a *app) importCommand() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import --from RUNTIME (FILE|- | -- WORD...)",
		Short: "Say a runtime's network permissions as canonical capspec flags",
		Long: `import reads a runtime's network permissions and writes them as canonical
capspec flags on standard output: a Spin manifest (spin.toml, or - for
standard input) with --from spin, one block of flags per component; the
command-line words of deno, wasmer or wamr after --, as a user would write
them (--allow-net=..., --deny-net=..., --net=..., --addr-pool=...,
--allow-resolve=...; other words are ignored).

On standard error, positioned in the source, is what capspec cannot say
exactly, each with a request that differs: a warning where the flags allow
more than the runtime (CS504), an info where the runtime allows what the
flags cannot say (CS505), an info for entries capspec cannot read (CS506).
Entries the runtime itself rejects are errors (CS507). Connects and sends to
unspecified addresses (0.0.0.0/8, [::]), which the runtime allows when a
name resolves to one and capspec denies whatever the rules say, are one
CS505 info for the whole import, on the first entry they concern; capspec
is stricter there by design, so that info alone does not make the import
inexact. --format json writes everything as one object (docs/interop.md).

Exit status: 0 when the flags say exactly what the runtime allows (apart
from the unspecified addresses); 1 when something could not be said
exactly; 2 for usage errors, unreadable input and configurations the
runtime rejects.`,
		Example: `  capspec import --from spin spin.toml
  capspec import --from deno -- --allow-net='*.example.com:443' --deny-net=10.0.0.0/8
  capspec import --from wamr -- --addr-pool=10.0.0.0/8 --allow-resolve=example.com`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runImport(o, cmd, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "the runtime: "+strings.Join(interop.ImportTargets(), ", "))
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

func (a *app) runImport(o importOptions, cmd *cobra.Command, args []string) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	from := strings.ToLower(o.from)
	if checkFormat(from, interop.ImportTargets()...) != nil {
		return usageErrorf("--from must be %s, not %q", strings.Join(interop.ImportTargets(), ", "), o.from)
	}
	var src interop.Source
	if from == "spin" {
		if len(args) != 1 {
			return usageErrorf("--from spin reads one manifest: give FILE or - for standard input")
		}
		name, content := args[0], ""
		if name == "-" {
			b, err := io.ReadAll(a.env.Stdin)
			if err != nil {
				return &exitError{code: ExitUsage, err: fmt.Errorf("reading standard input: %w", err)}
			}
			name, content = "<stdin>", string(b)
			a.inputRead(len(b))
		} else {
			b, err := os.ReadFile(name)
			if err != nil {
				return &exitError{code: ExitUsage, err: fmt.Errorf("cannot read %s: %w", name, unwrapPathError(err))}
			}
			content = string(b)
			a.inputRead(len(b))
		}
		src = interop.Source{Name: name, Content: content}
	} else {
		if cmd.ArgsLenAtDash() < 0 && len(args) > 0 || cmd.ArgsLenAtDash() > 0 {
			return usageErrorf("give %s's words after --: capspec import --from %s -- WORD...", from, from)
		}
		if len(args) == 0 {
			return usageErrorf("no words to read: capspec import --from %s -- WORD...", from)
		}
		src.Words = a.argWords(args)
	}
	files := diag.FileSet{}
	files.Add(src.Files()...)
	imports, problems, err := interop.ImportConfig(from, src)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	var ds []diag.Diagnostic
	ds = append(ds, problems...)
	exact := len(problems) == 0
	for _, im := range imports {
		ds = append(ds, im.Diagnostics()...)
		exact = exact && im.Exact()
	}
	if o.format == "json" {
		err = writeImportJSON(a.env.Stdout, from, imports, problems)
	} else {
		err = writeImportText(a.env.Stdout, imports)
		if err == nil {
			err = a.writeDiags(ds, files)
		}
	}
	if err != nil {
		return err
	}
	switch {
	case diag.HasErrors(problems):
		return exit(ExitUsage)
	case !exact:
		return exit(ExitFailed)
	}
	return nil
}

// argWords returns the words after "--" with their argv[N] origins.
func (a *app) argWords(args []string) []interop.Word {
	at := 1
	for at < len(a.env.Args) && a.env.Args[at] != "--" {
		at++
	}
	at++
	var out []interop.Word
	for _, w := range args {
		for at < len(a.env.Args) && a.env.Args[at] != w {
			at++
		}
		out = append(out, interop.Word{Text: w, Origin: fmt.Sprintf("argv[%d]", at)})
		at++
	}
	return out
}

func writeImportText(w io.Writer, imports []*interop.Import) error {
	var b strings.Builder
	for i, im := range imports {
		if len(imports) > 1 {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "# component %s\n", im.Component)
		}
		for _, f := range im.Flags {
			b.WriteString(f + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeImportJSON(w io.Writer, from string, imports []*interop.Import, problems []diag.Diagnostic) error {
	type jsonImport struct {
		Component   string           `json:"component,omitempty"`
		Flags       []string         `json:"flags"`
		Exact       bool             `json:"exact"`
		Differences []jsonDifference `json:"differences"`
	}
	out := struct {
		From        string                `json:"from"`
		Imports     []jsonImport          `json:"imports"`
		Diagnostics []diag.JSONDiagnostic `json:"diagnostics"`
	}{From: from, Imports: []jsonImport{}, Diagnostics: []diag.JSONDiagnostic{}}
	for _, im := range imports {
		ji := jsonImport{Component: im.Component, Flags: im.Flags, Exact: im.Exact(), Differences: jsonDifferences(im.Config, im.Differences)}
		if ji.Flags == nil {
			ji.Flags = []string{}
		}
		out.Imports = append(out.Imports, ji)
	}
	for _, d := range problems {
		out.Diagnostics = append(out.Diagnostics, diag.ToJSON(d, lint.Name))
	}
	return writeIndentedJSON(w, out)
}
