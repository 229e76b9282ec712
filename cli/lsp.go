package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/internal/version"
	"github.com/capspec/capspec/lsp"
)

func (a *app) lspCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "lsp",
		Short: "Run the language server over standard input and output (for editors)",
		Long: `lsp speaks the Language Server Protocol 3.17 over standard input and output,
for flags files (language id capspec, extension .flags) and shell scripts
(language id shellscript, read as --shell reads them): diagnostics as you
type, each suggested fix as a quick fix, "capspec:ignore" and "fix all"
actions, formatting, hover with each rule's explanation and each rule ID's
doc, and completion. An editor starts it; see docs/editors.md.

Settings come from the client's initializationOptions and
workspace/didChangeConfiguration: {"capspec": {"minSeverity": "info",
"disable": ["CS206"], "within": ["max.flags"]}}.

The log goes to standard error. The exit status is 0 after the client's
shutdown and exit, and 1 when the client exits or closes the stream
without shutdown.`,
		Example: `  capspec lsp`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := lsp.Serve(context.Background(), a.env.Stdin, a.env.Stdout, lsp.Options{Log: a.env.Stderr, Version: version.Get().Version})
			if errors.Is(err, lsp.ErrExitWithoutShutdown) {
				return exit(ExitFailed)
			}
			return err
		},
	}
}
