package lint

import (
	"regexp"
	"strings"

	"github.com/capspec/capspec/diag"
)

var detachedFamilyRule = Rule{
	ID:               "CS211",
	Name:             "detached-family",
	Severity:         diag.Warning,
	SecuritySeverity: 5.0,
	Doc: Doc{
		Summary: "in a flags file or script, #ipv4-only/#ipv6-only after whitespace: it became a comment, not a modifier",
		Rationale: `In flags files and shell scripts "#" after whitespace starts a comment. A family
modifier separated from its flag by a blank is therefore a comment, and the
rule allows both families, more than its author meant. The fix removes the
blanks so that the modifier is part of the flag again.`,
		Bad:  "--allow-outbound=tcp://example.com:443 #ipv4-only\n",
		Good: "--allow-outbound=tcp://example.com:443#ipv4-only\n",
	},
	Run: runDetachedFamily,
}

var detachedFamilyRE = regexp.MustCompile(`^#(?i:ipv[46][-_]?only)\b`)

func runDetachedFamily(p *Pass) {
	var fl *flagLines
	for _, c := range p.Input.Comments {
		tok := detachedFamilyRE.FindString(c.Text)
		if tok == "" {
			continue
		}
		file := p.File(c.Range.Origin)
		if file == nil {
			continue
		}
		if fl == nil {
			fl = newFlagLines(p.Input)
		}
		// The flag that ends on the comment's line just before it.
		var flagIdx = -1
		for _, i := range fl.ending[lineKey{c.Range.Origin, c.Range.Start.Line}] {
			f := p.Input.Flags[i]
			if f.Range().End.Offset <= c.Range.Start.Offset && blankBetween(file.Content, f.Range().End.Offset, c.Range.Start.Offset) {
				flagIdx = i
			}
		}
		if flagIdx < 0 {
			continue
		}
		f := p.Input.Flags[flagIdx]
		cs := c.Range.Start.Offset
		rng := file.Range(cs, cs+len(tok))
		var fixes []diag.Fix
		if !strings.Contains(f.Text, "#") {
			edits := []diag.TextEdit{{Range: file.Range(f.Range().End.Offset, cs)}}
			rest := c.Text[len(tok):]
			if trimmed := strings.TrimLeft(rest, " \t"); trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				// Keep the words after the modifier a comment.
				at := cs + len(tok)
				edits = append(edits, diag.TextEdit{Range: file.Range(at, at+len(rest)-len(trimmed)), NewText: " # "})
			}
			fixes = append(fixes, diag.Fix{Message: "attach " + tok + " to the flag", Edits: edits})
		}
		p.Reportf(rng, fixes, "%s after a blank is a comment, not a family modifier: the rule allows both families", tok)
	}
}

// blankBetween reports whether src[s:e] holds only spaces and tabs.
func blankBetween(src string, s, e int) bool {
	if s >= e {
		return false
	}
	for i := s; i < e; i++ {
		if !isBlank(src[i]) {
			return false
		}
	}
	return true
}
