package grammar

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// flagLexer splits one flag into tokens. Rules are tried in order; the final
// catch-all turns any other character into an Invalid token, so that the
// parser, not the lexer, reports it with a position.
var flagLexer = lexer.MustSimple(flagLexerRules)

// flagLexerRules are the tokens, the most frequent first. A Word is a
// label-ish run (letters, digits, '_', '*', dots and the dots IDNA maps to
// '.', with dashes inside); a dash before '>' stays out of it, so that "->"
// is an Arrow.
var flagLexerRules = []lexer.SimpleRule{
	{Name: "Word", Pattern: `[\pL\pM\pN_*][\pL\pM\pN_*.\x{3002}\x{FF0E}\x{FF61}]*(?:-+[\pL\pM\pN_*.\x{3002}\x{FF0E}\x{FF61}]+)*`},
	{Name: "FlagName", Pattern: `--[A-Za-z0-9_][A-Za-z0-9_-]*`},
	{Name: "Eq", Pattern: `=`},
	{Name: "SchemeSep", Pattern: `://`},
	{Name: "PortList", Pattern: `:(?:[\pL\pN_.*,]|-[\pL\pN_.*,])*`},
	{Name: "Family", Pattern: `#[A-Za-z0-9_-]*`},
	{Name: "Ellipsis", Pattern: `\.\.\.`},
	{Name: "Arrow", Pattern: `->`},
	// A run that starts with a dash or a dot is a label-ish run the checks
	// report on (a leading '-' or an empty label); "->" and "..." come first.
	{Name: "Stray", Pattern: `[-.\x{3002}\x{FF0E}\x{FF61}]+(?:[\pL\pM\pN_*.\x{3002}\x{FF0E}\x{FF61}]+(?:-+[\pL\pM\pN_*.\x{3002}\x{FF0E}\x{FF61}]+)*)?`},
	{Name: "Bracketed", Pattern: `\[[^\]\s\[]*\]?`},
	{Name: "Slash", Pattern: `/`},
	{Name: "Space", Pattern: `\s+`},
	{Name: "Invalid", Pattern: `(?s).`},
}

// The structs below are the grammar. They accept more than the language
// (hosts and ports are runs of tokens) so that the checks in parse.go and ports.go can
// say precisely what is wrong; their names are what a user would call each
// part, since participle may mention them.

// Flag is "--allow-X=SPEC" or "--allow-X SPEC".
type Flag struct {
	Name lexer.Token  `parser:"@FlagName"`
	Sep  *lexer.Token `parser:"@(Eq | Space)?"`
	Spec
}

// Spec is the value of a flag: an optional scheme ("tcp://"), the host,
// its mapping, the ports and the family. Before "://" the lead is the
// scheme's name; without "://" it is the host. A host is "...", a
// bracketed IPv6 address or network, or a run of words (a name, a wildcard,
// an IPv4 address or network, an interface), with an optional "/len".
type Spec struct {
	Lead     []lexer.Token `parser:"@((Word | Bracketed | Ellipsis | Stray) (Word | Slash | Stray)*)?"`
	Sep      *lexer.Token  `parser:"@SchemeSep?"`
	Host     []lexer.Token `parser:"@((Word | Bracketed | Ellipsis | Stray) (Word | Slash | Stray)*)?"`
	HostMap  *Mapping      `parser:"@@?"`
	Ports    []*Ports      `parser:"@@*"`
	Families []lexer.Token `parser:"@(Family+)?"`
}

// Mapping is "->" and what a host or port is mapped to.
type Mapping struct {
	Arrow     lexer.Token   `parser:"@Arrow"`
	Bracketed *lexer.Token  `parser:"( @Bracketed"`
	Parts     []lexer.Token `parser:"| @((Word | Stray)+) )?"`
}

// Ports is ":" and a port list, with an optional port mapping.
type Ports struct {
	List lexer.Token `parser:"@PortList"`
	Map  *Mapping    `parser:"@@?"`
}

// flagParser parses one flag.
var flagParser = participle.MustBuild[Flag](
	participle.Lexer(flagLexer),
)
