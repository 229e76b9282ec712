package grammar

import (
	"errors"
	"reflect"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// A flag's tree depends on the classes of its tokens alone: every choice
// of the grammar is made on classes (syntax.go), never on a token's text.
// Flags of one shape — "--allow-outbound=tcp://example.com:443" and
// "--allow-outbound=udp://db.internal:5432" are both FlagName "=" Name
// "://" Name ":" Number — have the same tree but for the text of their
// tokens. So participle parses each shape once, with each token standing
// for its index in the flag; the tree (a shape) is kept and shared, and
// the checks read each token of the tree from the flag being checked
// (checker.tok). A shape that does not parse keeps where participle
// stopped. What is kept is bounded (maxShapes shapes of at most
// maxShapeTokens tokens); any other flag is parsed by participle alone.
// The shapes are a cache of a pure function: no result depends on them
// (TestShapesAgree parses every test flag both ways).

// shape is the parse of one sequence of token classes.
type shape struct {
	// flag is the tree, whose tokens hold their index in the flag
	// (Pos.Offset) and their class, but no text; nil when the flag does
	// not parse.
	flag *flag
	// fail is the index of the token participle could not take
	// (len(tokens) for the end) when flag is nil.
	fail int
}

const (
	maxShapes      = 4096
	maxShapeTokens = 64
)

// shapeCache holds the shapes seen, by their classes.
type shapeCache struct {
	mu     sync.RWMutex
	shapes map[string]*shape
}

var shapes = &shapeCache{shapes: map[string]*shape{}}

// parse returns the shape of the tokens; key is their classes, one byte
// each (shapeKey).
func (sc *shapeCache) parse(toks []lexer.Token, key []byte) *shape {
	if len(toks) > maxShapeTokens {
		return parseShape(toks)
	}
	sc.mu.RLock()
	s, ok := sc.shapes[string(key)]
	sc.mu.RUnlock()
	if ok {
		return s
	}
	s = parseShape(toks)
	sc.mu.Lock()
	if len(sc.shapes) < maxShapes {
		sc.shapes[string(key)] = s
	}
	sc.mu.Unlock()
	return s
}

// shapeKey writes the classes of the tokens to buf, one byte each.
func shapeKey(toks []lexer.Token, buf []byte) []byte {
	for _, t := range toks {
		buf = append(buf, byte(-t.Type))
	}
	return buf
}

// parseShape runs participle over the tokens, each standing for its index.
func parseShape(toks []lexer.Token) *shape {
	pl, err := lexer.Upgrade(&indexLexer{toks: toks})
	if err != nil {
		return &shape{fail: 0}
	}
	f, err := flagParser.ParseFromLexer(pl)
	if err != nil {
		return &shape{fail: failIndex(err, len(toks))}
	}
	forgetText(reflect.ValueOf(f))
	return &shape{flag: f}
}

// failIndex returns the index of the token a participle error is about.
func failIndex(err error, n int) int {
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		if ute.Unexpected.EOF() {
			return n
		}
		return min(ute.Unexpected.Pos.Offset, n)
	}
	var perr participle.Error
	if errors.As(err, &perr) {
		return min(max(perr.Position().Offset, 0), n)
	}
	return 0
}

// indexLexer gives participle the tokens of a flag, each token's offset
// replaced by its index.
type indexLexer struct {
	toks []lexer.Token
	i    int
}

func (l *indexLexer) Next() (lexer.Token, error) {
	if l.i == len(l.toks) {
		return lexer.EOFToken(lexer.Position{Offset: l.i}), nil
	}
	t := l.toks[l.i]
	t.Pos = lexer.Position{Offset: l.i}
	l.i++
	return t, nil
}

var tokenType = reflect.TypeOf(lexer.Token{})

// forgetText clears the text of every token of a tree, so that a shape
// keeps no flag's text and a check that read a token without
// checker.tok would find nothing.
func forgetText(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			forgetText(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			forgetText(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == tokenType {
			v.FieldByName("Value").SetString("")
			return
		}
		for i := 0; i < v.NumField(); i++ {
			forgetText(v.Field(i))
		}
	}
}
