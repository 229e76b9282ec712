package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/interop"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/policy"
)

// exportOptions are the flags of capspec export.
type exportOptions struct {
	to     string
	format string
	strict bool
}

func (a *app) exportCommand() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --to RUNTIME [FILE|-]...",
		Short: "Write the closest configuration a runtime accepts, and what it loses",
		Long: `export writes the network permissions of a runtime (spin, deno, wasmer, wamr or
wasmtime) closest to the policy — Spin: the allowed_outbound_hosts TOML line;
Deno: --allow-net; wasmer: --net; WAMR: --addr-pool and --allow-resolve;
wasmtime: its -S options — on standard output, and on standard error a
diagnostic for every difference, on the rule it comes from: a warning where
the runtime would allow more than the policy (CS501), an info where it
cannot allow what the policy allows (CS502), a warning where it cannot map
as the policy does (CS503). Each shows one request that differs. Connects
and sends to unspecified addresses (0.0.0.0/8, [::]), which capspec denies
whatever the rules say and every runtime allows when a name resolves to
one, are one CS501 warning for the whole export, on the first rule they
concern.

The policy comes from --allow-* flags, flags files and --shell scripts, as
for every command (taken together as one policy). --format json writes the
output and the differences as one object (docs/interop.md).

Exit status: 0; with --strict, 1 when the runtime would allow more than the
policy (CS501 or CS503; not for the unspecified addresses alone, which no
runtime configuration avoids); 2 for usage errors, unreadable input, and a
policy with errors.`,
		Example: `  capspec export --to deno policy.flags
  capspec export --to spin --allow-outbound=tcp://api.example.com:443
  capspec export --to wasmer --strict --format json policy.flags`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runExport(o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "the runtime: "+strings.Join(interop.Targets(), ", "))
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.BoolVar(&o.strict, "strict", false, "exit 1 when the runtime would allow more than the policy")
	return cmd
}

func (a *app) runExport(o exportOptions, args []string) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	if o.to == "" {
		return usageErrorf("--to is required: one of %s", strings.Join(interop.Targets(), ", "))
	}
	if err := checkFormat(strings.ToLower(o.to), interop.Targets()...); err != nil {
		return usageErrorf("--to must be %s, not %q", strings.Join(interop.Targets(), ", "), o.to)
	}
	set, err := a.load(args)
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
	e, err := interop.ExportPolicy(o.to, p)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if o.format == "json" {
		err = writeExportJSON(a.env.Stdout, e)
	} else {
		if e.Config.Text != "" {
			_, err = fmt.Fprintln(a.env.Stdout, e.Config.Text)
		}
		if err == nil {
			err = a.writeDiags(e.Diagnostics(), set.files)
		}
	}
	if err != nil {
		return err
	}
	if o.strict && e.Wider() {
		return exit(ExitFailed)
	}
	return nil
}

// jsonDifference is one difference in JSON (docs/interop.md): the
// diagnostic and what the difference is.
type jsonDifference struct {
	Kind    string `json:"kind"`
	Example string `json:"example"`
	Covers  string `json:"covers"`
	Rule    int    `json:"rule"`
	Entry   string `json:"entry,omitempty"`
	// Unspecified marks the one difference of connects and sends to
	// unspecified addresses, which capspec always denies.
	Unspecified bool `json:"unspecified,omitempty"`
	diag.JSONDiagnostic
}

func jsonDifferences(c *interop.Config, ds []interop.Difference) []jsonDifference {
	out := []jsonDifference{}
	for _, d := range ds {
		jd := jsonDifference{Kind: d.Kind.String(), Example: d.Example, Covers: d.Covers, Rule: d.Rule, Unspecified: d.Unspecified,
			JSONDiagnostic: diag.ToJSON(d.Diagnostic, lint.Name)}
		if d.Entry >= 0 && d.Entry < len(c.Entries) {
			jd.Entry = c.Entries[d.Entry].Text
		}
		out = append(out, jd)
	}
	return out
}

func writeExportJSON(w io.Writer, e *interop.Export) error {
	out := struct {
		Target      string           `json:"target"`
		Output      string           `json:"output"`
		Words       []string         `json:"words"`
		Wider       bool             `json:"wider"`
		Differences []jsonDifference `json:"differences"`
	}{Target: e.Config.Target, Output: e.Config.Text, Words: e.Config.Words, Wider: e.Wider(),
		Differences: jsonDifferences(e.Config, e.Differences)}
	if out.Words == nil {
		out.Words = []string{}
	}
	return writeIndentedJSON(w, out)
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
