package grammar

import (
	"fmt"

	"github.com/alecthomas/participle/v2/lexer"
)

// target is a host as its tokens were read: "...", "[...]" or words, with
// an optional "/len".
type target struct {
	Ellipsis  *lexer.Token
	Bracketed *lexer.Token
	Parts     []lexer.Token // words and dashes
	Prefix    *prefix
}

// prefix is the "/len" of a CIDR.
type prefix struct {
	Slash lexer.Token
	Len   *lexer.Token
}

// splitTarget sorts the tokens of a host into a target, reporting tokens
// that cannot stand where they are. It returns nil for no tokens.
func (c *checker) splitTarget(toks []lexer.Token) (*target, bool) {
	if len(toks) == 0 {
		return nil, true
	}
	sym := flagLexer.Symbols()
	t := &target{}
	i := 0
	switch toks[0].Type {
	case sym["Ellipsis"]:
		t.Ellipsis = &toks[0]
		i = 1
	case sym["Bracketed"]:
		t.Bracketed = &toks[0]
		i = 1
	default:
		for i < len(toks) && (toks[i].Type == sym["Word"] || toks[i].Type == sym["Stray"]) {
			i++
		}
		t.Parts = toks[:i]
	}
	if i == 0 {
		c.unexpected(toks[0])
		return nil, false
	}
	if i < len(toks) && toks[i].Type == sym["Slash"] && t.Ellipsis == nil {
		t.Prefix = &prefix{Slash: toks[i]}
		i++
		if i < len(toks) && (toks[i].Type == sym["Word"] || toks[i].Type == sym["Stray"]) {
			t.Prefix.Len = &toks[i]
			i++
		}
	}
	if i < len(toks) {
		c.unexpected(toks[i])
		return nil, false
	}
	return t, true
}

// unexpected reports a token that cannot stand where it is.
func (c *checker) unexpected(t lexer.Token) {
	sp := tokSpan(t)
	c.report("CS001", sp.Start, sp.End, fmt.Sprintf("unexpected %q", t.Value))
}
