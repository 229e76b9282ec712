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
//
// Long port lists are folded before their shape is looked up (fold): a
// list of three or more items ("80,443,8443", "1-5,7,9-11") stands for its
// first and last item alone. Every item between is taken by the list's
// loop ("," PortItem)*, whatever surrounds the list, since a comma is a
// token of port lists only (lexer.go), so the tree of the folded flag is
// the tree of the whole flag without them; portItems gives the checks every
// item back. A flag of 30,000 ports has the shape of a flag of two, and
// flags of forty ports each share a few shapes.

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

// treeCache holds the trees of the shapes seen (of flags or of request
// lines), by their classes; it is safe for concurrent use.
type treeCache[T any] struct {
	mu    sync.RWMutex
	trees map[string]T
}

func newTreeCache[T any]() *treeCache[T] { return &treeCache[T]{trees: map[string]T{}} }

// get returns the tree of the shape whose classes are key, parsing it
// (parse) when it is not kept yet; at most maxShapes are kept.
func (c *treeCache[T]) get(key []byte, parse func() T) T {
	c.mu.RLock()
	t, ok := c.trees[string(key)]
	c.mu.RUnlock()
	if ok {
		return t
	}
	t = parse()
	c.mu.Lock()
	if len(c.trees) < maxShapes {
		c.trees[string(key)] = t
	}
	c.mu.Unlock()
	return t
}

// shapeCache holds the shapes of flags seen, by their classes.
type shapeCache struct{ trees *treeCache[*shape] }

var shapes = shapeCache{newTreeCache[*shape]()}

// parse returns the shape of the tokens; key is their classes, one byte
// each (shapeKey).
func (sc shapeCache) parse(toks []lexer.Token, key []byte) *shape {
	if len(toks) > maxShapeTokens {
		return parseShape(toks)
	}
	return sc.trees.get(key, func() *shape { return parseShape(toks) })
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

// foldedList is a list of port items folded to its first and last item.
type foldedList struct {
	// at is the index the list's first token has among the tokens the
	// shape was parsed from.
	at int
	// start and end are the list's tokens in the flag, [start, end).
	start, end int
}

// fold returns the tokens whose shape is the flag's: c.toks with each list
// of three or more port items folded to its first and last item. When it
// folds, c.orig maps the index of each token returned to its index in
// c.toks, and c.folds lists the lists folded; when it does not, the
// tokens are c.toks and c.orig is nil.
func (c *checker) fold() []lexer.Token {
	c.orig, c.folds = nil, c.folds[:0]
	toks := c.toks
	if countType(toks, tComma) < 2 {
		return toks
	}
	out, orig := c.folded[:0], c.origBuf[:0]
	for i := 0; i < len(toks); {
		n, last, end := portRun(toks, i)
		if n < 3 {
			// Not a long list: keep its tokens (at least one), and go on
			// after them.
			for j := i; j < max(end, i+1); j++ {
				out, orig = append(out, toks[j]), append(orig, j)
			}
			i = max(end, i+1)
			continue
		}
		c.folds = append(c.folds, foldedList{at: len(out), start: i, end: end})
		firstEnd := i + itemLen(toks, i)
		for j := i; j <= firstEnd; j++ { // the first item and its comma
			out, orig = append(out, toks[j]), append(orig, j)
		}
		for j := last; j < end; j++ {
			out, orig = append(out, toks[j]), append(orig, j)
		}
		i = end
	}
	c.folded, c.origBuf = out, orig
	if len(c.folds) == 0 {
		return toks
	}
	c.orig = orig
	return out
}

// portRun reads the port items joined by commas at toks[i:], each a
// Number or Number "-" Number: it returns how many, where the last one
// starts, and where the run ends (i and 0 items when none starts at i).
func portRun(toks []lexer.Token, i int) (n, last, end int) {
	end = i
	for {
		w := itemLen(toks, end)
		if w == 0 {
			return n, last, end
		}
		n, last, end = n+1, end, end+w
		if end+1 >= len(toks) || toks[end].Type != tComma || itemLen(toks, end+1) == 0 {
			return n, last, end
		}
		end++ // the comma
	}
}

// itemLen returns the number of tokens of the port item at toks[i]
// (Number, or Number "-" Number, as PortItem reads it), 0 when none starts there.
func itemLen(toks []lexer.Token, i int) int {
	switch {
	case i >= len(toks) || toks[i].Type != tNumber:
		return 0
	case i+2 < len(toks) && toks[i+1].Type == tDash && toks[i+2].Type == tNumber:
		return 3
	}
	return 1
}

func countType(toks []lexer.Token, typ lexer.TokenType) int {
	n := 0
	for _, t := range toks {
		if t.Type == typ {
			n++
		}
	}
	return n
}

// shapeIndex returns the index in c.toks of the token at index i of the
// tokens the shape was parsed from (len(c.toks) for their end).
func (c *checker) shapeIndex(i int) int {
	switch {
	case c.orig == nil:
		return i
	case i >= len(c.orig):
		return len(c.toks)
	}
	return c.orig[i]
}

// portItems returns the items of a port list of the tree, those a fold
// left out too.
func (c *checker) portItems(l *portList) []*portItem {
	if c.orig == nil || len(l.Items) != 2 {
		return l.Items
	}
	at := l.Items[0].Lo.Pos.Offset
	for _, f := range c.folds {
		if f.at == at {
			return c.unfold(f)
		}
	}
	return l.Items
}

// unfold makes the items of a folded list. Each token of an item stands,
// as the tokens of a shape do, for an index, which c.orig maps to the
// token of the flag: the indices after those of the shape.
func (c *checker) unfold(f foldedList) []*portItem {
	stand := func(i int) lexer.Token {
		c.orig = append(c.orig, i)
		return lexer.Token{Type: c.toks[i].Type, Pos: lexer.Position{Offset: len(c.orig) - 1}}
	}
	n := (f.end - f.start + 1) / 2 // at most
	items := make([]portItem, 0, n)
	for i := f.start; i < f.end; i++ { // i++: the comma
		it := portItem{Lo: stand(i)}
		if w := itemLen(c.toks, i); w == 3 {
			hi := stand(i + 2)
			it.Hi = &hi
			i += 2
		}
		i++
		items = append(items, it)
	}
	ptrs := make([]*portItem, len(items))
	for i := range items {
		ptrs[i] = &items[i]
	}
	return ptrs
}
