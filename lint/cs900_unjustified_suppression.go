package lint

import (
	"regexp"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

var unjustifiedSuppressionRule = Rule{
	ID:       "CS900",
	Name:     "unjustified-suppression",
	Severity: diag.Warning,
	Doc: Doc{
		Summary: "a capspec:ignore comment without a rule ID or without a reason",
		Rationale: `A comment "# capspec:ignore ID[,ID...] reason" on the line above a flag (or
in the block of comment lines just above it), or at the end of the flag's line,
silences those rule IDs for that flag. The reason is required: it tells the next
reader why the finding does not apply. A suppression without a reason still
silences its IDs, and is reported; one without an ID, or with an ID that is no
rule, silences nothing for that ID and is reported.`,
		Bad: `# capspec:ignore CS204
--allow-inbound=tcp://*:8080
`,
		Good: `# capspec:ignore CS204 the load balancer in front reaches us on every interface
--allow-inbound=tcp://*:8080
`,
	},
	Run: runUnjustifiedSuppression,
}

// directive is a "# capspec:ignore" comment.
type directive struct {
	comment *source.Comment
	start   int      // byte offset of its "#" in the comment's text
	ids     []string // the known rule IDs it names, upper case
	unknown []string // IDs it names that are no rule
	reason  string
}

var (
	directiveRE = regexp.MustCompile(`#[ \t]*capspec:ignore(?:[ \t]+|$)`)
	idListRE    = regexp.MustCompile(`^[A-Za-z]{2}[0-9]+(?:[ \t]*,[ \t]*[A-Za-z]{2}[0-9]+)*,?`)
)

// directives returns the suppression comments of an input; known tells
// rule IDs from others.
func directives(in *source.Input, known func(id string) bool) []directive {
	var out []directive
	for _, c := range in.Comments {
		if !strings.Contains(c.Text, "capspec:ignore") {
			continue
		}
		loc := directiveRE.FindStringIndex(c.Text)
		if loc == nil {
			continue
		}
		d := directive{comment: c, start: loc[0]}
		rest := strings.TrimSpace(c.Text[loc[1]:])
		if m := idListRE.FindString(rest); m != "" {
			for _, id := range strings.Split(m, ",") {
				id = strings.ToUpper(strings.TrimSpace(id))
				if id == "" {
					continue
				}
				if known(id) {
					d.ids = append(d.ids, id)
				} else {
					d.unknown = append(d.unknown, id)
				}
			}
			rest = strings.TrimSpace(rest[len(m):])
		}
		d.reason = rest
		out = append(out, d)
	}
	return out
}

func runUnjustifiedSuppression(p *Pass) {
	for _, d := range directives(p.Input, p.shared.known) {
		c := d.comment
		rng := c.Range
		if f := p.File(c.Range.Origin); f != nil {
			rng = f.Range(c.Range.Start.Offset+d.start, c.Range.End.Offset)
		}
		switch {
		case len(d.ids) == 0 && len(d.unknown) == 0 && d.reason == "":
			p.Reportf(rng, nil, "capspec:ignore names no rule ID and gives no reason")
		case len(d.ids) == 0 && len(d.unknown) == 0:
			p.Reportf(rng, nil, "capspec:ignore names no rule ID; write # capspec:ignore CS204 reason")
		case d.reason == "":
			p.Reportf(rng, nil, "capspec:ignore %s gives no reason; say why the finding does not apply", strings.Join(append(d.ids, d.unknown...), ","))
		}
		for _, id := range d.unknown {
			p.Reportf(rng, nil, "capspec:ignore names %s, which is no rule (see capspec rules)", id)
		}
	}
}
