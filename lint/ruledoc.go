package lint

import (
	"fmt"
	"strings"
)

// DocsURL is the address of the rule reference, docs/rules.md, as published
// with the repository. Each rule has an anchor in it: see DocURL.
const DocsURL = "https://github.com/capspec/capspec/blob/main/docs/rules.md"

// Anchor returns the rule's anchor in the rule reference: the heading
// "CS204 listen-all-interfaces" as GitHub links it, "cs204-listen-all-interfaces".
func (r Rule) Anchor() string { return strings.ToLower(r.ID + "-" + r.Name) }

// DocURL returns the address of the rule's section in the rule reference,
// e.g. ".../docs/rules.md#cs204-listen-all-interfaces". Editors link
// diagnostics to it (capspec lsp's codeDescription).
func (r Rule) DocURL() string { return DocsURL + "#" + r.Anchor() }

// Markdown returns the rule's section of the rule reference (docs/rules.md):
// the heading, the severity, the summary and rationale, and the examples.
// capspec lsp shows it when hovering over a rule ID.
func (r Rule) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s %s\n\n", r.ID, r.Name)
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
	return b.String()
}

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
