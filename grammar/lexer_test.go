package grammar

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/internal/golden"
)

// TestLexerJSON checks that flaglexer.json, from which flaglexer_gen.go is
// generated (go generate, docs/grammar.md), is the definition in
// lexer.go; -update rewrites it.
func TestLexerJSON(t *testing.T) {
	for _, tc := range []struct {
		path  string
		rules any
	}{
		{"flaglexer.json", flagRules},
		{"requestlexer.json", requestRules},
	} {
		b, err := json.MarshalIndent(tc.rules, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, tc.path, string(b)+"\n")
	}
}

// corpusTexts returns every flag of the tests: the tables, the seed, the
// golden corpora and the fuzz corpus, and hostile shapes.
func corpusTexts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, tc := range validCases {
		out = append(out, tc.flag)
	}
	for _, tc := range errorCases {
		out = append(out, tc.flag)
	}
	for flag := range seedMeanings {
		out = append(out, flag)
	}
	out = append(out, typicalFlags...)
	out = append(out, fuzzCorpus(t, "testdata/fuzz/FuzzParse")...)
	for _, path := range goldenFlagsFiles(t) {
		out = append(out, linesOf(t, path)...)
	}
	out = append(out,
		"", "-", "--", "=", "...", "....", "->", "-->", "[", "]", "[[", "a\U0010FFFF", "\U0010FFFF",
		"--allow-outbound=tcp://a:80\xff", "--allow-inbound=tcp://eth0:1:80->8080,8081#ipv6-only",
		"--allow-outbound=tcp://x:1-,*,,3..4,0x,٣", "--allow-resolve=*.a.*-b.-c..d",
	)
	return out
}

// requestTexts returns every request line of the tests.
func requestTexts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, tc := range validRequests {
		out = append(out, tc.line)
	}
	for _, tc := range requestErrors {
		out = append(out, tc.line)
	}
	out = append(out, requestFileLines(t)...)
	out = append(out, fuzzCorpus(t, "testdata/fuzz/FuzzRequest")...)
	return append(out, "a\U0010FFFF", "#", "=>=>", "[[]]", "lookup\x00x")
}

// rawTokens lexes text with def, without classes, to the end or the
// first error.
func rawTokens(t *testing.T, def lexer.Definition, text string) ([]lexer.Token, string) {
	t.Helper()
	lx, err := def.(lexer.StringDefinition).LexString("", text)
	if err != nil {
		return nil, "error at start"
	}
	return lexAll(lx)
}

// lexAll reads a lexer to the end or the first error.
func lexAll(lx lexer.Lexer) ([]lexer.Token, string) {
	var toks []lexer.Token
	for {
		tok, err := lx.Next()
		if err != nil {
			return toks, "error"
		}
		toks = append(toks, tok)
		if tok.EOF() {
			return toks, ""
		}
	}
}

// TestGeneratedLexers checks that the generated lexers give the tokens of
// the regex lexers they are generated from: the same symbols, and on
// every test flag, the same tokens, offsets and errors.
func TestGeneratedLexers(t *testing.T) {
	for _, lx := range []struct {
		name       string
		gen, regex lexer.Definition
		texts      []string
	}{
		{"flag", flagLexer, flagLexerDef, corpusTexts(t)},
		{"request", requestLexer, requestLexerDef, requestTexts(t)},
	} {
		if diff := cmp.Diff(lx.regex.Symbols(), lx.gen.Symbols()); diff != "" {
			t.Errorf("%s: symbols differ (-regex +generated):\n%s", lx.name, diff)
		}
		for _, text := range lx.texts {
			want, werr := rawTokens(t, lx.regex, text)
			got, gerr := rawTokens(t, lx.gen, text)
			if diff := cmp.Diff(want, got); diff != "" || werr != gerr {
				t.Errorf("%s %q: tokens differ (-regex +generated), errors %q and %q:\n%s", lx.name, text, werr, gerr, diff)
			}
		}
	}
	// Request lines and flags each reuse one generated lexer.
	rl, c := &requestLexing{}, &checker{}
	for _, reused := range []struct {
		def   lexer.Definition
		texts []string
		lex   func(string) lexer.Lexer
	}{{requestLexerDef, requestTexts(t), rl.lexer}, {flagLexerDef, corpusTexts(t), c.flagLexer}} {
		for _, text := range reused.texts {
			want, werr := rawTokens(t, reused.def, text)
			got, gerr := lexAll(reused.lex(text))
			if diff := cmp.Diff(want, got); diff != "" || werr != gerr {
				t.Errorf("%q: tokens differ (-regex +reused generated), errors %q and %q:\n%s", text, werr, gerr, diff)
			}
		}
	}
}

// TestClasses checks that classify gives each run the first class of
// flagClasses whose pattern (the Classes state of flagRules) matches it
// whole, on every token of every test flag.
func TestClasses(t *testing.T) {
	patterns := map[string]*regexp.Regexp{}
	for _, r := range flagRules["Classes"] {
		patterns[r.Name] = regexp.MustCompile(`^(?:` + r.Pattern + `)$`)
	}
	names := map[lexer.TokenType]string{}
	for name, typ := range flagSymbols {
		names[typ] = name
	}
	seen := map[string]bool{}
	for _, text := range corpusTexts(t) {
		toks, _ := rawTokens(t, flagLexerDef, text)
		for _, tok := range toks {
			classes, ok := flagClasses[names[tok.Type]]
			if !ok {
				if got := classify(tok.Type, tok.Value); got != tok.Type {
					t.Errorf("%q: %s token %q has class %s", text, names[tok.Type], tok.Value, names[got])
				}
				continue
			}
			want := ""
			for _, class := range classes {
				if patterns[class].MatchString(tok.Value) {
					want = class
					break
				}
			}
			got := names[classify(tok.Type, tok.Value)]
			seen[got] = true
			if got != want {
				t.Errorf("%q: %s token %q: class %s, want %s", text, names[tok.Type], tok.Value, got, want)
			}
		}
	}
	for _, r := range flagRules["Classes"] {
		if !seen[r.Name] {
			t.Errorf("no test token of class %s", r.Name)
		}
	}
}

// TestShapesAgree checks that the tree a shape gives a flag is the tree
// participle gives it: every test flag is parsed without the shapes, and
// its rule and diagnostics compared.
func TestShapesAgree(t *testing.T) {
	for _, text := range append(corpusTexts(t), portListFlags()...) {
		r1, d1 := ParseFlag(text, nil)
		c := &checker{fresh: true}
		r2, d2 := c.parseFlag(text, nil)
		if diff := cmp.Diff(r1, r2, cmpRule, cmpopts.IgnoreFields(ast.Rule{}, "Loc")); diff != "" {
			t.Errorf("%q: rules differ (-shapes +participle):\n%s", text, diff)
		}
		if diff := cmp.Diff(d1, d2); diff != "" {
			t.Errorf("%q: diagnostics differ (-shapes +participle):\n%s", text, diff)
		}
	}
}

// portListFlags returns flags with port lists long enough to be folded
// (shapes.go), in every place a list or its parts can stand, and with
// mistakes before, inside and after them: runs of items, ranges, stray
// commas, dashes, stars, colons, arrows, families, blanks and words.
func portListFlags() []string {
	r := rand.New(rand.NewPCG(10, 11))
	prefixes := []string{
		"--allow-outbound=tcp://a:", "--allow-inbound=tcp://*:", "--allow-inbound=tcp://eth0:",
		"--allow-inbound=tcp://eth0:1:", "--allow-resolve=a:", "--allow-outbound=tcp://a:80->",
		"--allow-outbound=tcp://a->10.0.0.1:", "--allow-outbound=tcp:", "--allow-outbound=",
	}
	parts := []string{",", "-", "*", ":", "->", "#ipv4-only", "x", "1..2", " ", "0", "70000", "5-3"}
	item := func() string {
		if r.IntN(3) == 0 {
			lo := r.IntN(60000)
			return fmt.Sprintf("%d-%d", lo, lo+r.IntN(100))
		}
		return fmt.Sprint(1 + r.IntN(65535))
	}
	var out []string
	for range 3000 {
		var b strings.Builder
		b.WriteString(prefixes[r.IntN(len(prefixes))])
		for n := 1 + r.IntN(6); n > 0; n-- {
			if r.IntN(4) == 0 {
				b.WriteString(parts[r.IntN(len(parts))])
				continue
			}
			for k := 1 + r.IntN(8); k > 0; k-- {
				b.WriteString(item())
				if k > 1 {
					b.WriteByte(',')
				}
			}
		}
		out = append(out, b.String())
	}
	return out
}
