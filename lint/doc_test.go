package lint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capspec/capspec/internal/golden"
)

// rulesMarkdown renders the rule reference docs/rules.md from the registry.
func rulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# capspec rules\n\n")
	b.WriteString("<!-- Generated from the rule registry (package lint) by `go test ./lint -run TestRulesDoc -update`. Do not edit. -->\n\n")
	b.WriteString("Every diagnostic capspec reports has one of these IDs. `capspec rules` lists them and\n")
	b.WriteString("`capspec rules ID` prints one. Errors make a policy unusable as written; warnings are\n")
	b.WriteString("risks; infos are notes on style and redundancy. A `# capspec:ignore ID reason` comment\n")
	b.WriteString("on the line above a flag or at the end of its line silences an ID for that flag, and\n")
	b.WriteString("`capspec lint --disable ID` for a run (see [lint.md](lint.md)).\n\n")
	b.WriteString("| ID | name | severity | summary |\n|---|---|---|---|\n")
	for _, r := range Rules() {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, r.Anchor(), r.Name, r.Severity, mdCell(r.Doc.Summary))
	}
	for _, r := range Rules() {
		b.WriteString("\n" + r.Markdown())
	}
	return b.String()
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// TestRulesDoc keeps docs/rules.md in step with the registry.
func TestRulesDoc(t *testing.T) {
	const path = "../docs/rules.md"
	golden.Check(t, path, rulesMarkdown())
}
