package grammar

import (
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/capspec/capspec/literal"
)

// The lexers are generated from their definitions (flagRules here,
// requestRules in request.go) by participle's lexer generator, whose
// command "participle" must be on PATH (docs/grammar.md says where it
// comes from). To regenerate after changing a definition:
//
//	go test ./grammar -run TestLexerJSON -update   # writes flaglexer.json, requestlexer.json
//	go generate ./grammar                          # writes flaglexer_gen.go, requestlexer_gen.go
//
//go:generate sh -c "command -v participle >/dev/null || { echo 'go generate: the participle command is not on PATH; docs/grammar.md says where to get it' >&2; exit 1; }"
//go:generate sh -c "{ echo '// Regenerate: go generate ./grammar (see lexer.go and docs/grammar.md).'; echo; participle gen lexer --name flag grammar flaglexer.json | sed 's|DO NOT EDIT.$|&\\n|'; } > flaglexer_gen.go && gofmt -w flaglexer_gen.go"
//go:generate sh -c "{ echo '// Regenerate: go generate ./grammar (see lexer.go and docs/grammar.md).'; echo; participle gen lexer --name request grammar requestlexer.json | sed 's|DO NOT EDIT.$|&\\n|'; } > requestlexer_gen.go && gofmt -w requestlexer_gen.go"

// The lexer of flags has two states. In Root it reads the flag name, the
// scheme and the host as maximal runs; the first ':' after the host enters
// Ports, where numbers, '-', ',' and '*' are tokens of their own. A run is
// then given its class (classify): the grammar is written over classes,
// never over runs, so that a name such as "3com.com" or "ｅｘａｍｐｌｅ.com"
// is one token, decided whole by literal.Name, while "127.0.0.1" is an
// IPv4 token and "80" a Number.
//
// flagRules is the definition; flaglexer_gen.go is generated from it
// (participle gen lexer, see docs/grammar.md) and must give the same tokens
// (TestGeneratedLexers). The rules state Classes is never entered: it names
// the classes and defines each by a pattern its whole text matches, in
// order.
var flagRules = lexer.Rules{
	"Root": {
		// A label-ish run of word characters and full stops, with dashes
		// inside ("->" stays out).
		{Name: "Word", Pattern: `[` + wordChars + `][` + wordChars + dots + `]*(?:-+[` + wordChars + dots + `]+)*`},
		{Name: "FlagName", Pattern: `--[A-Za-z0-9_][A-Za-z0-9_-]*`},
		{Name: "Eq", Pattern: `=`},
		{Name: "SchemeSep", Pattern: `://`},
		{Name: "Colon", Pattern: `:`, Action: lexer.Push("Ports")},
		{Name: "Family", Pattern: `#[A-Za-z0-9_-]*`},
		{Name: "Ellipsis", Pattern: `\.\.\.`},
		{Name: "Arrow", Pattern: `->`},
		// A run that starts with a dash or a full stop: a name the checks
		// report on (a leading '-' or an empty label).
		{Name: "Stray", Pattern: `[-` + dots + `]+(?:[` + wordChars + dots + `]+(?:-+[` + wordChars + dots + `]+)*)?`},
		{Name: "Bracketed", Pattern: `\[[^\]\s\[]*\]`},
		{Name: "Unclosed", Pattern: `\[[^\]\s\[]*`},
		{Name: "Slash", Pattern: `/`},
		{Name: "Space", Pattern: `\s+`},
		// Any other character, so that the parser reports it with its
		// position (U+10FFFF, never a character of a flag, ends lexing).
		{Name: "Invalid", Pattern: `[^\x{10FFFF}]`},
	},
	"Ports": {
		{Name: "PortWord", Pattern: `[.` + wordChars[1:] + `]+`},
		{Name: "Comma", Pattern: `,`},
		{Name: "Arrow", Pattern: `->`},
		{Name: "Dash", Pattern: `-`},
		{Name: "Star", Pattern: `\*`},
		{Name: "Colon", Pattern: `:`},
		{Name: "Family", Pattern: `#[A-Za-z0-9_-]*`},
		{Name: "Space", Pattern: `\s+`},
		{Name: "Invalid", Pattern: `[^\x{10FFFF}]`},
	},
	"Classes": {
		// Classes of a FlagName run.
		{Name: "ResolveFlag", Pattern: `--allow-resolve`},
		{Name: "OutboundFlag", Pattern: `--allow-outbound`},
		{Name: "InboundFlag", Pattern: `--allow-inbound`},
		{Name: "UnknownFlag", Pattern: `--[A-Za-z0-9_][A-Za-z0-9_-]*`},
		// Classes of a Word or Stray run.
		{Name: "IPv4", Pattern: `[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`},
		{Name: "Number", Pattern: `[0-9]+`},
		{Name: "Any", Pattern: `\*`},
		{Name: "Wildcard", Pattern: `\*\.[^*]+`},
		{Name: "Localhost", Pattern: `[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]\.?`},
		{Name: "Name", Pattern: `[^\x{10FFFF}]+`},
		// Classes of a Bracketed run.
		{Name: "IPv6CIDR", Pattern: `\[[^/]*/[^\]]*\]`},
		{Name: "IPv6", Pattern: `\[[^\]]*\]`},
		// Classes of a Family run.
		{Name: "IPv4Only", Pattern: `#ipv4-only`},
		{Name: "IPv6Only", Pattern: `#ipv6-only`},
		{Name: "BadFamily", Pattern: `#[A-Za-z0-9_-]*`},
		// Classes of a PortWord run (Number, above, or BadPort).
		{Name: "BadPort", Pattern: `[^\x{10FFFF}]+`},
	},
}

// The characters of runs. A word character is an ASCII letter or digit,
// '_', '*', or any character beyond ASCII but the blanks, the general
// punctuation (dashes, quotes, invisible characters), the full stops, and
// the fullwidth and small forms of ASCII punctuation (which stand for the
// syntax of a flag: '：' is no ':' and no part of a name). Which runs are
// names is for literal.Name to say. The set is a few ranges, so that the
// generated lexer tests a character in a few comparisons.
const (
	wordChars = `*0-9A-Z_a-z` +
		`\x{A1}-\x{167F}\x{1681}-\x{1FFF}\x{2070}-\x{2FFF}\x{3004}-\x{FE0F}\x{FE20}-\x{FE2F}` +
		`\x{FE70}-\x{FEFF}\x{FF10}-\x{FF19}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{FF66}-\x{FFEF}\x{10000}-\x{10FFFE}`
	// dots are the full stops IDNA maps to '.'.
	dots = `.\x{3002}\x{FF0E}\x{FF61}`
)

// flagClasses lists, for each run that has classes, its classes in the
// order they are tried.
var flagClasses = map[string][]string{
	"FlagName":  {"ResolveFlag", "OutboundFlag", "InboundFlag", "UnknownFlag"},
	"Word":      {"IPv4", "Number", "Any", "Wildcard", "Localhost", "Name"},
	"Stray":     {"Name"},
	"Bracketed": {"IPv6CIDR", "IPv6"},
	"Family":    {"IPv4Only", "IPv6Only", "BadFamily"},
	"PortWord":  {"Number", "BadPort"},
}

// flagLexerDef is the regex lexer of flags: the definition, and the
// oracle the generated lexer is tested against.
var flagLexerDef = lexer.MustStateful(flagRules)

// The token types of the flag lexer. The generated lexer numbers them as
// the definition does (TestGeneratedLexers checks it).
var (
	flagSymbols = flagLexerDef.Symbols()

	tWord      = flagSymbols["Word"]
	tFlagName  = flagSymbols["FlagName"]
	tEq        = flagSymbols["Eq"]
	tSchemeSep = flagSymbols["SchemeSep"]
	tColon     = flagSymbols["Colon"]
	tFamily    = flagSymbols["Family"]
	tEllipsis  = flagSymbols["Ellipsis"]
	tArrow     = flagSymbols["Arrow"]
	tStray     = flagSymbols["Stray"]
	tBracketed = flagSymbols["Bracketed"]
	tUnclosed  = flagSymbols["Unclosed"]
	tSlash     = flagSymbols["Slash"]
	tSpace     = flagSymbols["Space"]
	tInvalid   = flagSymbols["Invalid"]
	tPortWord  = flagSymbols["PortWord"]
	tComma     = flagSymbols["Comma"]
	tDash      = flagSymbols["Dash"]
	tStar      = flagSymbols["Star"]
	tIPv4      = flagSymbols["IPv4"]
	tNumber    = flagSymbols["Number"]
	tAny       = flagSymbols["Any"]
	tWildcard  = flagSymbols["Wildcard"]
	tLocalhost = flagSymbols["Localhost"]
	tName      = flagSymbols["Name"]
	tIPv6CIDR  = flagSymbols["IPv6CIDR"]
	tIPv6      = flagSymbols["IPv6"]
	tIPv4Only  = flagSymbols["IPv4Only"]
	tIPv6Only  = flagSymbols["IPv6Only"]
	tBadFamily = flagSymbols["BadFamily"]
	tBadPort   = flagSymbols["BadPort"]

	tResolveFlag  = flagSymbols["ResolveFlag"]
	tOutboundFlag = flagSymbols["OutboundFlag"]
	tInboundFlag  = flagSymbols["InboundFlag"]
	tUnknownFlag  = flagSymbols["UnknownFlag"]
)

// maxFlagTokens bounds the tokens of one flag that are kept: a flag has a
// dozen or so, and one of more than this many is refused as a whole. Each
// port of a list is a token (and each comma), so the cap must be far above
// any list a person writes: it refuses only lists of more than about 32,000
// single ports (which ranges say in a few tokens). A flag that long is not
// a shape the cache keeps, so participle reads it token by token (about a
// kilobyte and a few microseconds each); the cap keeps one flag under
// about 100 MB, and the time of an input stays linear in its size.
const maxFlagTokens = 1 << 16

// lexFlag appends the tokens the lexer reads (without EOF) to buf and
// classifies them. It returns the tokens and the offset of the text where
// lexing stopped early (-1 when it read all of it): a character no rule
// takes, or more than maxFlagTokens tokens.
func lexFlag(lx lexer.Lexer, buf []lexer.Token) ([]lexer.Token, int) {
	for {
		t, err := lx.Next()
		if err != nil {
			return buf, lexStop(buf)
		}
		if t.EOF() {
			return buf, -1
		}
		if len(buf) == maxFlagTokens {
			return buf, t.Pos.Offset
		}
		t.Type = classify(t.Type, t.Value)
		buf = append(buf, t)
	}
}

// flagLexer returns the generated lexer of flags (flaglexer_gen.go) reading
// text: the checker's own, reset, which is what LexString would make but
// for the allocations (two or three a flag). TestGeneratedLexers checks
// that a reset lexer reads as a new one.
func (c *checker) flagLexer(text string) lexer.Lexer {
	c.lx = lexerflagImpl{s: text, pos: lexer.Position{Line: 1, Column: 1}, states: append(c.lx.states[:0], lexerflagState{name: "Root"})}
	return &c.lx
}

// lexStop returns the offset after the last token read.
func lexStop(toks []lexer.Token) int {
	if len(toks) == 0 {
		return 0
	}
	t := toks[len(toks)-1]
	return t.Pos.Offset + len(t.Value)
}

// classify returns the class of a run, as flagClasses and the Classes
// state define it (TestClasses checks that they agree); other tokens keep
// their type.
func classify(typ lexer.TokenType, s string) lexer.TokenType {
	switch typ {
	case tFlagName:
		switch s {
		case "--allow-resolve":
			return tResolveFlag
		case "--allow-outbound":
			return tOutboundFlag
		case "--allow-inbound":
			return tInboundFlag
		}
		return tUnknownFlag
	case tWord:
		switch {
		case isIPv4Shape(s):
			return tIPv4
		case literal.IsDigits(s):
			return tNumber
		case s == "*":
			return tAny
		case len(s) > 2 && s[0] == '*' && s[1] == '.' && !containsByte(s[2:], '*'):
			return tWildcard
		case isLocalhost(s):
			return tLocalhost
		}
		return tName
	case tStray:
		return tName
	case tBracketed:
		if containsByte(s, '/') {
			return tIPv6CIDR
		}
		return tIPv6
	case tFamily:
		switch s {
		case "#ipv4-only":
			return tIPv4Only
		case "#ipv6-only":
			return tIPv6Only
		}
		return tBadFamily
	case tPortWord:
		if literal.IsDigits(s) {
			return tNumber
		}
		return tBadPort
	}
	return typ
}

// isIPv4Shape reports whether s is four runs of ASCII digits joined by '.'.
func isIPv4Shape(s string) bool {
	dots, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && digits > 0:
			dots, digits = dots+1, 0
		default:
			return false
		}
	}
	return dots == 3 && digits > 0
}

func isLocalhost(s string) bool {
	const word = "localhost"
	if len(s) == len(word)+1 && s[len(word)] == '.' {
		s = s[:len(word)]
	}
	if len(s) != len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if c := s[i] | 0x20; c != word[i] {
			return false
		}
	}
	return true
}

func containsByte(s string, b byte) bool { return indexByte(s, b) >= 0 }

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// runeAt returns the rune at offset i of s and its size.
func runeAt(s string, i int) (rune, int) { return utf8.DecodeRuneInString(s[i:]) }
