package grammar

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEBNF checks that docs/grammar.md shows the grammars as the parsers
// print them: the block after "<!-- ebnf:flag" is flagParser.String(),
// the one after "<!-- ebnf:request" requestParser.String().
func TestEBNF(t *testing.T) {
	b, err := os.ReadFile("../docs/grammar.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, tc := range []struct{ marker, printed string }{
		{"<!-- ebnf:flag", flagParser.String()},
		{"<!-- ebnf:request", requestParser.String()},
	} {
		_, after, ok := strings.Cut(doc, tc.marker)
		if !ok {
			t.Errorf("docs/grammar.md has no %s block", tc.marker)
			continue
		}
		_, block, ok := strings.Cut(after, "```ebnf\n")
		block, _, ok2 := strings.Cut(block, "\n```")
		if !ok || !ok2 {
			t.Errorf("docs/grammar.md: no ```ebnf block after %s", tc.marker)
			continue
		}
		if block != tc.printed {
			t.Errorf("docs/grammar.md %s block differs from what the parser prints; paste this:\n%s", tc.marker, tc.printed)
		}
	}
}

// TestGrammarUsesClasses checks what makes the shapes sound (shapes.go):
// every quoted terminal of the flag grammar is a class whose runs have
// that text only, so that no choice depends on a token's text.
func TestGrammarUsesClasses(t *testing.T) {
	fixed := map[string]string{
		"--allow-resolve": "ResolveFlag", "--allow-outbound": "OutboundFlag", "--allow-inbound": "InboundFlag",
		"=": "Eq", "://": "SchemeSep", ":": "Colon", "->": "Arrow", "/": "Slash", "...": "Ellipsis",
		",": "Comma", "-": "Dash", "*": "Star", "#ipv4-only": "IPv4Only", "#ipv6-only": "IPv6Only",
	}
	patterns := map[string]string{}
	for _, rules := range flagRules {
		for _, r := range rules {
			patterns[r.Name] = r.Pattern
		}
	}
	ebnf := flagParser.String()
	for _, m := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(ebnf, -1) {
		class, ok := fixed[m[1]]
		if !ok {
			t.Errorf("the flag grammar matches the text %q: a choice on text breaks the shapes", m[1])
			continue
		}
		if p := strings.ReplaceAll(patterns[class], `\`, ""); p != m[1] {
			t.Errorf("terminal %q is class %s, whose pattern %q may match other text", m[1], class, patterns[class])
		}
	}
}
