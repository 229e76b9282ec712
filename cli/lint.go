package cli

import (
	"github.com/spf13/cobra"

	"github.com/capspec/capspec/diag"
)

func (a *app) lintCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "lint [FILE|-]...",
		Short: "Report problems in flags (exit 1 on findings at or above --fail-on)",
		Example: `  capspec lint --allow-outbound=tcp://example.com:80
  capspec lint policy.flags --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			set, err := a.load(args)
			if err != nil {
				return err
			}
			ds := set.diagnostics()
			switch format {
			case "json":
				err = diag.WriteJSON(a.env.Stdout, ds, nil)
			default:
				pal, perr := a.palette(a.env.Stdout)
				if perr != nil {
					return perr
				}
				err = diag.WriteText(a.env.Stdout, ds, set.files, pal)
			}
			if err != nil {
				return err
			}
			if diag.HasErrors(ds) {
				return exit(ExitFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}
