// Package grammar parses capspec flags into the syntax tree of package
// ast, and requests into the tree of Request. It is the only package that
// knows participle: the grammars (syntax.go, request.go) define both
// languages, and the checks of this package turn a flag's tree into an
// ast.Rule or into positioned diagnostics (CS001–CS012) with suggestions.
// docs/grammar.md shows the grammars as EBNF and how a flag flows through.
package grammar

import (
	"fmt"
	"runtime"
	"sync"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/suggest"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/source"
)

// Parse parses every flag of an input into a policy. Rules with errors are
// left out of the policy; their diagnostics say why. Rule.Index is the
// flag's position in the input, so it stays stable when a flag is invalid.
// Large inputs are parsed on all CPUs; the result does not depend on it.
// Parse is safe for concurrent use.
func Parse(in *source.Input) (*ast.Policy, []diag.Diagnostic) {
	return parse(in, parseWorkers(len(in.Flags)))
}

// parse parses an input on that many goroutines (at most one per flag;
// fewer than two: on this one). Tests ask for several whatever the CPUs.
func parse(in *source.Input, workers int) (*ast.Policy, []diag.Diagnostic) {
	rules := make([]*ast.Rule, len(in.Flags))
	// Each run of flags a goroutine parses keeps its diagnostics in a
	// store of its own, compactly (diag.Store): a file of a hundred
	// thousand words that are not flags has as many errors, and they are
	// made whole once, in order, into one slice.
	stores := make([]*diag.Store, max(1, workers))
	for k := range stores {
		stores[k] = diag.NewStore(in.Files)
	}
	parseEach(len(in.Flags), workers, func(c *checker, part, i int) {
		var ds []diag.Diagnostic
		rules[i], ds = c.parseFlag(in.Flags[i].Text, in.Flags[i].Loc)
		stores[part].AddAll(ds)
	})
	p := &ast.Policy{Name: in.Name, Rules: make([]*ast.Rule, 0, len(rules))}
	for i, r := range rules {
		if r != nil {
			r.Index = i
			p.Rules = append(p.Rules, r)
		}
	}
	n := 0
	for _, st := range stores {
		n += st.Len()
	}
	var ds []diag.Diagnostic
	if n > 0 {
		ds = make([]diag.Diagnostic, 0, n)
	}
	for _, st := range stores {
		ds = st.AppendTo(ds)
	}
	return p, ds
}

// parsedFlag is one flag parsed: its rule (nil with errors) and diagnostics.
type parsedFlag struct {
	rule  *ast.Rule
	diags []diag.Diagnostic
}

// parallelParseMin is the number of flags per worker below which parsing
// on more CPUs is not worth starting goroutines.
const parallelParseMin = 256

// parseWorkers is the number of goroutines that parse n flags: one per
// CPU, with at least parallelParseMin flags each.
func parseWorkers(n int) int { return min(runtime.GOMAXPROCS(0), n/parallelParseMin) }

// parseEach calls parse(c, part, i) for every i in [0, n), with a checker
// of the pool, on that many goroutines (fewer than two: on this one), each
// taking a run of consecutive i: the run numbered part (from 0, in order,
// fewer than max(1, workers)), on one goroutine. It is the one parallel
// loop of the package: Parse and Cache.Parse both parse through it.
func parseEach(n, workers int, parse func(c *checker, part, i int)) {
	parseRange := func(part, lo, hi int) {
		c := checkers.Get().(*checker)
		defer checkers.Put(c)
		for i := lo; i < hi; i++ {
			parse(c, part, i)
		}
	}
	if workers = min(workers, n); workers > 1 {
		var wg sync.WaitGroup
		chunk := (n + workers - 1) / workers
		for lo := 0; lo < n; lo += chunk {
			wg.Go(func() { parseRange(lo/chunk, lo, min(lo+chunk, n)) })
		}
		wg.Wait()
	} else {
		parseRange(0, 0, n)
	}
}

// ParseFlag parses one flag, "--allow-X=SPEC" or "--allow-X SPEC". loc
// locates the text in its origin; nil means the text is its own origin.
// The rule is nil when the flag has errors.
func ParseFlag(text string, loc diag.Locator) (*ast.Rule, []diag.Diagnostic) {
	c := checkers.Get().(*checker)
	defer checkers.Put(c)
	return c.parseFlag(text, loc)
}

// flagNames are the three flag names, for suggestions.
var flagNames = ast.FlagNames()

// checkers keeps checkers, whose buffers are reused from flag to flag.
var checkers = sync.Pool{New: func() any { return new(checker) }}

// checker turns one flag's text into a rule, collecting problems.
type checker struct {
	text     string
	kind     ast.Kind
	lx       lexerflagImpl // the lexer (flagLexer)
	toks     []lexer.Token // the flag's tokens (a buffer kept from flag to flag)
	key      []byte        // their classes (shapeKey)
	problems []problem     // the first diag.MaxPerFlag problems
	// more counts the problems after the first diag.MaxPerFlag, reported
	// as one omission: a flag of a million NUL bytes costs linear time
	// and a dozen diagnostics.
	more omission
	// fresh parses without the shapes (TestShapesAgree).
	fresh bool
	// The folds of long port lists (shapes.go): where a token of the shape
	// is in toks (nil: at its own index), the lists folded, and buffers.
	orig    []int
	folds   []foldedList
	folded  []lexer.Token
	origBuf []int
	// nodes holds the nodes of the rule being checked, conn those of a
	// connection rule (outbound, inbound; nil for resolve); usedItems
	// counts the port items of conn taken.
	nodes     *ruleNodes
	conn      *connNodes
	usedItems int
}

// ruleNodes are the nodes every rule has, allocated together so that a
// rule costs one allocation, not one per node (resolve rules: 288 bytes).
// Rarer nodes (a family, a host or port mapping, a scheme on a resolve
// rule) are allocated alone.
type ruleNodes struct {
	rule ast.Rule
	flag ast.FlagName
	host ast.Host
}

// connNodes are the nodes of a connection rule (outbound, inbound),
// allocated together (416 bytes): a port list of more items, and a port
// mapping, allocate the others alone.
type connNodes struct {
	ruleNodes
	scheme ast.Scheme
	ports  ast.PortList
	items  [1]*ast.PortItem // the items of a one-item port list
	item   [1]ast.PortItem
}

// newNodes allocates the nodes of a rule of kind k.
func (c *checker) newNodes(k ast.Kind) {
	c.conn, c.usedItems = nil, 0
	if k == ast.Resolve {
		c.nodes = new(ruleNodes)
		return
	}
	c.conn = new(connNodes)
	c.nodes = &c.conn.ruleNodes
}

// schemeNode returns the scheme node of the rule being checked.
func (c *checker) schemeNode() *ast.Scheme {
	if c.conn != nil {
		return &c.conn.scheme
	}
	return new(ast.Scheme)
}

// portsNode returns the port list node of the rule being checked.
func (c *checker) portsNode() *ast.PortList {
	if c.conn != nil {
		return &c.conn.ports
	}
	return new(ast.PortList)
}

// itemList returns an empty list of room for n port items.
func (c *checker) itemList(n int) []*ast.PortItem {
	if c.conn != nil && n <= len(c.conn.items) {
		return c.conn.items[:0:n]
	}
	return make([]*ast.PortItem, 0, n)
}

// newPortItem returns a zero port item of the rule being checked.
func (c *checker) newPortItem() *ast.PortItem {
	if c.conn != nil && c.usedItems < len(c.conn.item) {
		c.usedItems++
		return &c.conn.item[c.usedItems-1]
	}
	return new(ast.PortItem)
}

// omission tallies the problems of a flag past diag.MaxPerFlag.
type omission struct {
	tally      diag.Tally // N and IDs
	start, end int
}

// problem is a diagnostic in the coordinates of the flag's text.
type problem struct {
	id         string
	start, end int
	summary    string
	fixes      []fix
}

type fix struct {
	message    string
	start, end int
	text       string
}

// parseFlag parses one flag with the checker's buffers.
func (c *checker) parseFlag(text string, loc diag.Locator) (*ast.Rule, []diag.Diagnostic) {
	c.text, c.kind, c.problems, c.more = text, 0, c.problems[:0], omission{}
	r := c.flag()
	if len(c.problems) > 0 {
		r = nil
		if loc == nil {
			loc = diag.NewFile("", text)
		}
	} else {
		r.Loc = loc
	}
	ds := c.diagnostics(loc)
	c.text, c.orig, c.nodes, c.conn = "", nil, nil, nil
	clear(c.toks)
	clear(c.folded)
	return r, ds
}

func (c *checker) report(id string, start, end int, summary string, fixes ...fix) {
	start = max(0, min(start, len(c.text)))
	end = max(start, min(end, len(c.text)))
	if c.omitted(id, start, end) {
		return
	}
	c.problems = append(c.problems, problem{id: id, start: start, end: end, summary: summary, fixes: fixes})
}

// omitted counts a problem and returns true when the flag already has
// diag.MaxPerFlag problems, so that a caller in a loop need not format a
// summary no one will see.
func (c *checker) omitted(id string, start, end int) bool {
	if len(c.problems) < diag.MaxPerFlag {
		return false
	}
	m := &c.more
	if m.tally.N == 0 {
		m.start = start
	}
	m.tally.N++
	m.tally.AddID(id)
	m.end = max(m.end, end)
	return true
}

// replace is a fix that replaces [start, end) with text.
func replace(message string, start, end int, text string) fix {
	return fix{message: message, start: start, end: end, text: text}
}

func (c *checker) diagnostics(loc diag.Locator) []diag.Diagnostic {
	if len(c.problems) == 0 {
		return nil
	}
	ds := make([]diag.Diagnostic, 0, len(c.problems))
	for _, p := range c.problems {
		d := diag.Diagnostic{ID: p.id, Severity: diag.Error, Summary: p.summary, Range: loc.Range(p.start, p.end)}
		for _, f := range p.fixes {
			d.Fixes = append(d.Fixes, diag.Fix{Message: f.message, Edits: []diag.TextEdit{{Range: loc.Range(f.start, f.end), NewText: f.text}}})
		}
		ds = append(ds, d)
	}
	if m := c.more; m.tally.N > 0 {
		ds = append(ds, diag.Omission(m.tally.N, m.tally.IDs, diag.Error, loc.Range(m.start, m.end)))
	}
	return ds
}

// tok returns the flag's token that a token of a shape stands for.
func (c *checker) tok(t lexer.Token) lexer.Token {
	if c.orig != nil {
		return c.toks[c.orig[t.Pos.Offset]]
	}
	return c.toks[t.Pos.Offset]
}

// span returns the span of the flag's token that t stands for.
func (c *checker) span(t lexer.Token) ast.Span {
	t = c.tok(t)
	return ast.Span{Start: t.Pos.Offset, End: t.Pos.Offset + len(t.Value)}
}

func (c *checker) slice(s ast.Span) string { return c.text[s.Start:s.End] }

// flag checks the whole flag.
func (c *checker) flag() *ast.Rule {
	if !c.visible() {
		return nil
	}
	var stop int
	c.toks, stop = lexFlag(c.flagLexer(c.text), c.toks[:0])
	if stop >= 0 {
		c.lexError(stop)
		return nil
	}
	if len(c.toks) == 0 || !isFlagName(c.toks[0].Type) {
		// No flag name starts here; participle would stop at the first
		// token (a file of garbage words costs no parse per word).
		c.notAFlag()
		return nil
	}
	var s *shape
	if c.fresh {
		c.orig = nil
		s = parseShape(c.toks)
	} else {
		toks := c.fold()
		c.key = shapeKey(toks, c.key[:0])
		s = shapes.parse(toks, c.key)
	}
	if s.flag == nil {
		c.recover(c.shapeIndex(s.fail))
		return nil
	}
	return c.rule(s.flag)
}

// lexError reports where the lexer stopped.
func (c *checker) lexError(at int) {
	if len(c.toks) == maxFlagTokens {
		c.report("CS001", at, len(c.text), fmt.Sprintf("this flag has more than %d parts (words, numbers and symbols), where a flag has a dozen or so; capspec stops reading it here (write a long list of ports as ranges)", maxFlagTokens))
		return
	}
	r, size := runeAt(c.text, at)
	c.report("CS001", at, at+size, fmt.Sprintf("unexpected character %q", r))
}

// rule checks a flag's tree and makes its rule.
func (c *checker) rule(f *flag) *ast.Rule {
	nameTok := c.tok(f.Name.Token)
	name := c.span(f.Name.Token)
	kind, ok := ast.KindOfFlag(nameTok.Value)
	if !ok {
		c.unknownFlag(nameTok.Value, name.Start, name.End)
		return nil
	}
	c.kind = kind
	c.newNodes(kind)
	r := &c.nodes.rule
	*r = ast.Rule{Span: ast.Span{Start: 0, End: len(c.text)}, Text: c.text, Flag: &c.nodes.flag}
	*r.Flag = ast.FlagName{Span: name, Kind: kind}
	if f.Sep != nil && c.tok(f.Sep.Token).Type == tSpace {
		r.Flag.Form = ast.TwoWords
	}
	v := f.Value
	if v == nil || v.Scheme == nil && v.Host == nil && v.HostMap == nil && v.Ports == nil && len(v.Families) == 0 {
		c.report("CS001", name.Start, len(c.text), fmt.Sprintf("%s has no value; write %s", nameTok.Value, example(kind)))
		return nil
	}
	c.value(r, v)
	return r
}

// example returns a sample flag of a kind for messages.
func example(k ast.Kind) string {
	switch k {
	case ast.Resolve:
		return "--allow-resolve=example.com"
	case ast.Outbound:
		return "--allow-outbound=tcp://example.com:443"
	}
	return "--allow-inbound=tcp://localhost:8080"
}

// visible reports invisible characters (CS012, literal.Invisible) and
// invalid UTF-8 (CS001), in the order of the text. Past diag.MaxPerFlag
// problems they are counted, not formatted: a flag of a million NUL bytes
// costs linear time and a dozen diagnostics.
func (c *checker) visible() bool {
	ok := true
	for i, r := range c.text {
		if r >= ' ' && r < utf8.RuneSelf && r != 0x7f {
			continue
		}
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(c.text[i:]); size == 1 {
				if !c.omitted("CS001", i, i+1) {
					c.report("CS001", i, i+1, fmt.Sprintf("invalid UTF-8 byte 0x%02X", c.text[i]))
				}
				ok = false
				continue
			}
		}
		if literal.Invisible(r) {
			if !c.omitted("CS012", i, i+utf8.RuneLen(r)) {
				p := literal.InvisibleProblem(i, r)
				c.report(p.ID, p.Start, p.End, p.Message,
					replace("delete the invisible character", p.Start, p.End, ""))
			}
			ok = false
		}
	}
	return ok
}

// unknownFlag reports a word that is no flag name, suggesting the closest
// one when there is one.
func (c *checker) unknownFlag(word string, start, end int) {
	if best := suggest.Closest(word, 3, flagNames...); best != "" && word != "" {
		c.report("CS001", start, end, fmt.Sprintf("unknown flag %s; did you mean %s?", word, best),
			replace("use "+best, start, end, best))
		return
	}
	c.report("CS001", start, end, fmt.Sprintf("unknown flag %s; capspec knows --allow-resolve, --allow-outbound and --allow-inbound", word))
}

// value checks the value of a flag and fills in the rule.
func (c *checker) value(r *ast.Rule, v *value) {
	valueStart := r.Flag.End + 1
	if n, fixText := schemeTypo(c.text[valueStart:]); n > 0 {
		c.report("CS001", valueStart, valueStart+n, fmt.Sprintf("malformed protocol %q; write %s", c.text[valueStart:valueStart+n], fixText),
			replace("write "+fixText, valueStart, valueStart+n, fixText))
		return
	}
	if v.Scheme != nil {
		c.scheme(r, v.Scheme)
	} else if c.kind != ast.Resolve {
		c.report("CS001", valueStart, valueStart, fmt.Sprintf("missing protocol: %s values start with tcp:// or udp://", r.Flag.Kind.FlagName()))
	}
	if c.bareIPv6(v) {
		return
	}
	var hostEnd int
	switch {
	case v.Host == nil:
		at := valueStart
		if v.Scheme != nil {
			at = c.span(v.Scheme.Sep).End
		}
		c.report("CS001", at, at, fmt.Sprintf("missing host; write %s", example(c.kind)))
		return
	case v.Host.Ellipsis != nil:
		r.Ellipsis = &ast.Ellipsis{Span: c.span(*v.Host.Ellipsis)}
		hostEnd = r.Ellipsis.End
		if c.kind == ast.Resolve {
			c.report("CS001", r.Ellipsis.Start, r.Ellipsis.End, "'...' stands for any host and port of an outbound or inbound rule; --allow-resolve takes a name pattern such as *")
		}
		if v.HostMap != nil || v.Ports != nil {
			end := r.Ellipsis.End
			if v.Ports != nil {
				end = c.portsEnd(v.Ports)
			}
			c.report("CS001", r.Ellipsis.End, max(end, r.Ellipsis.End+1), "'...' already stands for any host and any port; nothing may follow it but a family modifier")
		}
	default:
		r.Host = c.host(v.Host)
		hostEnd = c.hostSpan(v.Host).End
	}
	if v.HostMap != nil {
		r.HostMap = c.hostMapping(r, v.HostMap)
		hostEnd = c.hostMappingEnd(v.HostMap)
	}
	if r.Ellipsis == nil {
		c.ports(r, v, hostEnd)
	}
	c.families(r, v.Families)
	c.crossChecks(r)
}

// scheme checks the protocol before "://".
func (c *checker) scheme(r *ast.Rule, s *scheme) {
	sep := c.span(s.Sep)
	if s.Protocol == nil {
		c.report("CS001", sep.Start, sep.End, "missing protocol before '://'; write tcp:// or udp://")
		return
	}
	sp := c.span(*s.Protocol)
	raw := c.slice(sp)
	span := ast.Span{Start: sp.Start, End: sep.End}
	var proto ast.Protocol
	switch {
	case equalFold(raw, "tcp"):
		proto = ast.TCP
	case equalFold(raw, "udp"):
		proto = ast.UDP
	default:
		if best := suggest.Closest(raw, 1, "tcp", "udp"); best != "" {
			c.report("CS001", sp.Start, sp.End, fmt.Sprintf("unknown protocol %q; did you mean %s?", raw, best),
				replace("use "+best, sp.Start, sp.End, best))
		} else {
			c.report("CS001", sp.Start, sp.End, fmt.Sprintf("unknown protocol %q; the protocol is tcp or udp", raw))
		}
		return
	}
	if c.kind == ast.Resolve {
		c.report("CS001", span.Start, span.End, fmt.Sprintf("--allow-resolve takes a name pattern, not %s; write the name alone", c.slice(span)),
			replace("remove "+c.slice(span), span.Start, span.End, ""))
		return
	}
	r.Scheme = c.schemeNode()
	*r.Scheme = ast.Scheme{Span: span, Protocol: proto, Raw: raw}
}

// equalFold reports whether s is the lowercase ASCII word w in any case.
func equalFold(s, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// families checks the family modifiers.
func (c *checker) families(r *ast.Rule, fams []*family) {
	for _, f := range fams {
		t := c.tok(f.Token)
		sp := c.span(f.Token)
		var fam ast.Family
		switch t.Type {
		case tIPv4Only:
			fam = ast.IPv4Only
		case tIPv6Only:
			fam = ast.IPv6Only
		default:
			if s := suggestFamily(t.Value); s != "" {
				c.report("CS001", sp.Start, sp.End, fmt.Sprintf("unknown family modifier %q; did you mean %s?", t.Value, s),
					replace("write "+s, sp.Start, sp.End, s))
			} else {
				c.report("CS001", sp.Start, sp.End, fmt.Sprintf("unknown family modifier %q; write #ipv4-only or #ipv6-only", t.Value))
			}
			continue
		}
		if r.Family != nil {
			msg := "two family modifiers; a rule has at most one"
			if r.Family.Family != fam {
				msg = "#ipv4-only and #ipv6-only together allow nothing; keep one, or drop both to allow either family"
			}
			c.report("CS010", sp.Start, sp.End, msg, replace("remove "+t.Value, sp.Start, sp.End, ""))
			continue
		}
		r.Family = new(ast.FamilyMod)
		*r.Family = ast.FamilyMod{Span: sp, Family: fam, Raw: t.Value}
	}
}
