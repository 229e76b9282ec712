package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/lint"
)

func (a *app) rulesCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules [ID|NAME]",
		Short: "List the diagnostic rules, or print one rule's full doc",
		Long: `rules lists every diagnostic rule capspec reports: its ID, name, severity and
summary. Given a rule ID (CS203) or name (public-suffix-wildcard), it prints the
rule's full doc with an example that is reported and one that is not.`,
		Example: `  capspec rules
  capspec rules CS203
  capspec rules --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			rules := lint.Rules()
			if len(args) == 1 {
				r, ok := lint.Lookup(args[0])
				if !ok {
					return usageErrorf("unknown rule %q; capspec rules lists them", args[0])
				}
				rules = []lint.Rule{r}
				if format == "text" {
					return writeRuleDoc(a.env.Stdout, r)
				}
			}
			if format == "json" {
				return writeRulesJSON(a.env.Stdout, rules)
			}
			return writeRuleList(a.env.Stdout, rules)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// writeRuleList writes one line per rule: ID, name, severity, summary.
func writeRuleList(w io.Writer, rules []lint.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Severity, r.Doc.Summary)
	}
	return tw.Flush()
}

// writeRuleDoc writes a rule's full doc.
func writeRuleDoc(w io.Writer, r lint.Rule) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s)\n\n%s\n\n%s\n", r.ID, r.Name, r.Severity, r.Doc.Summary, r.Doc.Rationale)
	if r.IsSecurity() {
		fmt.Fprintf(&b, "\nSecurity severity: %.1f\n", r.SecuritySeverity)
	}
	fmt.Fprintf(&b, "\nReported:\n\n%s\nNot reported:\n\n%s", indent(r.Doc.Bad), indent(r.Doc.Good))
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s string) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n")+"\n", "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	return b.String()
}

// jsonRuleDoc is the JSON form of a rule's doc (see docs/lint.md).
type jsonRuleDoc struct {
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Severity         string  `json:"severity"`
	SecuritySeverity float64 `json:"security_severity,omitempty"`
	Summary          string  `json:"summary"`
	Rationale        string  `json:"rationale"`
	Bad              string  `json:"bad_example"`
	Good             string  `json:"good_example"`
}

func writeRulesJSON(w io.Writer, rules []lint.Rule) error {
	out := struct {
		Rules []jsonRuleDoc `json:"rules"`
	}{Rules: []jsonRuleDoc{}}
	for _, r := range rules {
		out.Rules = append(out.Rules, jsonRuleDoc{r.ID, r.Name, r.Severity.String(), r.SecuritySeverity, r.Doc.Summary, r.Doc.Rationale, r.Doc.Bad, r.Doc.Good})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
