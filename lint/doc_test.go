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
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID+"-"+r.Name), r.Name, r.Severity, mdCell(r.Doc.Summary))
	}
	for _, r := range Rules() {
		fmt.Fprintf(&b, "\n## %s %s\n\n", r.ID, r.Name)
		fmt.Fprintf(&b, "Severity: **%s**", r.Severity)
		if r.IsSecurity() {
			fmt.Fprintf(&b, " · security severity %.1f", r.SecuritySeverity)
		}
		switch {
		case r.ID >= "CS500" && r.ID < "CS600":
			b.WriteString(" · reported by `capspec export` and `capspec import` ([interop.md](interop.md))")
		case r.ID == exceedsMaximumRule.ID:
			b.WriteString(" · reported by `capspec lint --within MAX`; an example's `# maximum:` line is the maximum ([ci.md](ci.md))")
		case r.Run == nil:
			b.WriteString(" · reported while reading and parsing")
		}
		fmt.Fprintf(&b, "\n\n%s.\n\n%s\n\n", capitalize(r.Doc.Summary), strings.Join(strings.Fields(r.Doc.Rationale), " "))
		fmt.Fprintf(&b, "Reported:\n\n```shell\n%s```\n\nNot reported:\n\n```shell\n%s```\n", visible(r.Doc.Bad), visible(r.Doc.Good))
	}
	return b.String()
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// visible shows invisible characters of an example as \u escapes.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '\u200b' || r == '\u202e' || r == '\u200d' || r == '\ufeff' {
			fmt.Fprintf(&b, "\\u%04X", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestRulesDoc keeps docs/rules.md in step with the registry.
func TestRulesDoc(t *testing.T) {
	const path = "../docs/rules.md"
	golden.Check(t, path, rulesMarkdown())
}
