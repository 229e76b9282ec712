package grammar

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/capspec/capspec/literal"
)

// The request language (SPEC §3.6, docs/eval.md): one request a line,
//
//	lookup NAME [ipv4|ipv6] [=> ADDR, ...]
//	connect tcp HOST:PORT [via NAME]
//	send    udp HOST:PORT [via NAME]
//	listen  tcp LOCAL:PORT
//	bind    udp LOCAL:PORT
//
// with a "#" comment at the start of a line or after a blank. Words are
// case-insensitive. The grammar reads the structure of a line; what a
// name or an address is (literal.Name, eval.ParseAddr) is for eval to say.

// requestRules is the lexer of request lines; requestlexer_gen.go is
// generated from it (see lexer.go).
var requestRules = lexer.Rules{
	"Root": {
		// A word: anything but blanks and the separators; '#' starts a
		// comment only at the start of a word.
		{Name: "Word", Pattern: `[^\s#:,\[\]=\x{10FFFF}][^\s:,\[\]=\x{10FFFF}]*`},
		{Name: "Space", Pattern: `[ \t]+`},
		{Name: "Colon", Pattern: `:`},
		{Name: "Comma", Pattern: `,`},
		{Name: "Answers", Pattern: `=>`},
		{Name: "Bracketed", Pattern: `\[[^\]\s]*\]`},
		{Name: "Unclosed", Pattern: `\[[^\]\s]*`},
		{Name: "Comment", Pattern: `#[^\n\x{10FFFF}]*`},
		{Name: "Invalid", Pattern: `[^\x{10FFFF}]`},
	},
}

// requestLexerDef is the regex lexer of requests: the definition, and the
// oracle the generated lexer is tested against.
var requestLexerDef = lexer.MustStateful(requestRules)

var (
	requestSymbols = requestLexerDef.Symbols()

	rWord      = requestSymbols["Word"]
	rSpace     = requestSymbols["Space"]
	rColon     = requestSymbols["Colon"]
	rComma     = requestSymbols["Comma"]
	rAnswers   = requestSymbols["Answers"]
	rBracketed = requestSymbols["Bracketed"]
	rUnclosed  = requestSymbols["Unclosed"]
	rComment   = requestSymbols["Comment"]
)

// The structs below are the grammar of a request line, one per production.

// RequestLine = <space>? (Request <space>?)? <comment>? .
type requestLine struct {
	Request *request `parser:"Space? (@@ Space?)? Comment?"`
}

// Request = Lookup | Connect | Listen .
type request struct {
	Lookup  *lookup  `parser:"  @@"`
	Connect *connect `parser:"| @@"`
	Listen  *listen  `parser:"| @@"`
}

// Lookup = "lookup" <space> Address (<space> Family)? (<space>? Answers)? .
type lookup struct {
	Op      lexer.Token   `parser:"@\"lookup\":Word Space"`
	Name    address       `parser:"@@"`
	Family  *lexer.Token  `parser:"(Space @(\"ipv4\":Word | \"ipv6\":Word))?"`
	Answers *answerRecord `parser:"(Space? @@)?"`
}

// Connect = ("connect" | "send") <space> Protocol <space> HostPort (<space> Via)? .
type connect struct {
	Op       lexer.Token `parser:"@(\"connect\":Word | \"send\":Word) Space"`
	Protocol lexer.Token `parser:"@(\"tcp\":Word | \"udp\":Word) Space"`
	HostPort hostPort    `parser:"@@"`
	Via      *via        `parser:"(Space @@)?"`
}

// Listen = ("listen" | "bind") <space> Protocol <space> HostPort .
type listen struct {
	Op       lexer.Token `parser:"@(\"listen\":Word | \"bind\":Word) Space"`
	Protocol lexer.Token `parser:"@(\"tcp\":Word | \"udp\":Word) Space"`
	HostPort hostPort    `parser:"@@"`
}

// orConnect returns the operation, protocol and HOST:PORT of a listen,
// or else of a connect.
func (l *listen) orConnect(c *connect) (op, proto lexer.Token, hp *hostPort) {
	if l != nil {
		return l.Op, l.Protocol, &l.HostPort
	}
	return c.Op, c.Protocol, &c.HostPort
}

// HostPort = Host ":" <word> .
type hostPort struct {
	Host  requestHost `parser:"@@"`
	Colon lexer.Token `parser:"@\":\":Colon"`
	Port  lexer.Token `parser:"@Word"`
}

// requestHost is an address in brackets, or a name, an IPv4 address, "*"
// or an interface, whose colons ("eth0:1") another colon follows.
//
//	RequestHost = <bracketed> | <word> (":" <word> (?= ":"))* .
type requestHost struct {
	Bracketed *lexer.Token  `parser:"  @Bracketed"`
	Parts     []lexer.Token `parser:"| @(Word (\":\":Colon Word (?= \":\":Colon))*)"`
}

// Via = "via" <space> <word> .
type via struct {
	Via  lexer.Token `parser:"@\"via\":Word Space"`
	Name lexer.Token `parser:"@Word"`
}

// answerRecord is the answers DNS gave to a lookup.
//
//	AnswerRecord = "=>" (<space> | "," | Address)* .
type answerRecord struct {
	Arrow   lexer.Token `parser:"@\"=>\":Answers"`
	Answers []*address  `parser:"(Space | \",\":Comma | @@)*"`
}

// address is a name or an IP address, IPv6 with or without brackets.
//
//	Address = <bracketed> | (<word> | ":")+ .
type address struct {
	Bracketed *lexer.Token  `parser:"  @Bracketed"`
	Parts     []lexer.Token `parser:"| @((Word | \":\":Colon)+)"`
}

// requestParser parses the tokens of one request line.
var requestParser = participle.MustBuild[requestLine](
	participle.Lexer(requestLexerDef),
	participle.CaseInsensitive("Word"),
	participle.UseLookahead(3),
)

// Request is a request line as the grammar reads it: each part, as
// written, with its byte range in the line. Parts a request does not
// have are zero.
type Request struct {
	// Op is the operation as written ("lookup", "CONNECT"...); OpWord is
	// it in lowercase: lookup, connect, send, listen or bind.
	Op     Part
	OpWord string
	// Protocol is "tcp" or "udp" as written; zero for a lookup.
	Protocol Part
	// Host is what a lookup names (a name, or an address with or without
	// brackets), the host of a connect or send, or the local side of a
	// listen or bind ("*", localhost, an interface, an address).
	Host Part
	// Port is the port as written, and PortNumber its value (0-65535).
	Port       Part
	PortNumber uint16
	// Family is a lookup's "ipv4" or "ipv6" as written.
	Family Part
	// Via is the name of "via NAME".
	Via Part
	// Arrow is the "=>" of a lookup recording its answers, and Answers
	// are the addresses recorded.
	Arrow   Part
	Answers []Part
	// Start and End are the bytes of the request in the line, without
	// comment and blanks.
	Start, End int
}

// Part is a piece of a request line: its text and bytes [Start, End).
type Part struct {
	Text       string
	Start, End int
}

// IsZero reports whether the part is absent.
func (p Part) IsZero() bool { return p.Text == "" && p.Start == 0 && p.End == 0 }

// RequestError is a request line that cannot be read, at bytes
// [Start, End) of the line.
type RequestError struct {
	Start, End int
	Message    string
}

func (e *RequestError) Error() string { return e.Message }

// ParseRequest reads one request line. It returns nil and no error for a
// line without a request (blank, or only a comment).
func ParseRequest(line string) (*Request, error) { return parseRequest(line, requestShapes) }

// parseRequest reads one request line, its tree taken from the cache of
// shapes (nil: parsed afresh).
func parseRequest(line string, cache *requestShapeCache) (*Request, error) {
	p := requestParse{text: line}
	rl := requestLexers.Get().(*requestLexing)
	defer rl.put()
	var stop int
	p.toks, stop = lexRequest(rl.lexer(line), rl.toks[:0])
	rl.toks = p.toks
	if stop >= 0 {
		r, _ := runeAt(line, stop)
		return nil, p.errorf(stop, stop+len(string(r)), "unexpected character %q", r)
	}
	tree := parseRequestTree(cache, p.toks)
	if tree == nil {
		return nil, p.recover()
	}
	if tree.Request == nil {
		return nil, nil
	}
	return p.request(tree.Request)
}

// As with flags (shapes.go), the tree of a request line depends on its
// tokens' classes alone, but for the keywords the grammar names (a Word
// is "lookup", "tcp", "via"... as strings.EqualFold says, or none): the
// tree's tokens stand for their index in the line, and the checks read
// each from the line being read (requestParse.part). So each shape is
// parsed once and its tree shared; a line's recovery reads its tokens,
// never participle's error. TestRequestShapesAgree reads every test line
// both ways.

// requestKeywords are the words the request grammar names.
var requestKeywords = []string{"lookup", "ipv4", "ipv6", "connect", "send", "tcp", "udp", "listen", "bind", "via"}

// requestShapeCache holds the trees of the request shapes seen, by their
// classes (nil: the shape does not parse).
type requestShapeCache = treeCache[*requestLine]

var requestShapes = newTreeCache[*requestLine]()

// parseRequestTree returns the tree of the tokens, each standing for its
// index, or nil when they do not parse. A nil cache parses afresh.
func parseRequestTree(sc *requestShapeCache, toks []lexer.Token) *requestLine {
	if sc == nil || len(toks) > maxShapeTokens {
		return parseRequestShape(toks)
	}
	var buf [maxShapeTokens]byte
	key := buf[:0]
	for _, t := range toks {
		c := byte(-t.Type)
		if t.Type == rWord {
			for i, kw := range requestKeywords {
				if strings.EqualFold(t.Value, kw) {
					c = 0x80 | byte(i)
					break
				}
			}
		}
		key = append(key, c)
	}
	return sc.get(key, func() *requestLine { return parseRequestShape(toks) })
}

// parseRequestShape runs participle over the tokens, each standing for
// its index; nil when they do not parse.
func parseRequestShape(toks []lexer.Token) *requestLine {
	pl, err := lexer.Upgrade(&indexLexer{toks: toks})
	if err != nil {
		return nil
	}
	tree, err := requestParser.ParseFromLexer(pl)
	if err != nil {
		return nil
	}
	forgetText(reflect.ValueOf(tree))
	return tree
}

// requestLexing is a request lexer and its token buffer, kept from line
// to line (requestLexers) as the checkers keep those of flags
// (checker.flagLexer): reading a line of a file of a million requests
// then allocates neither.
type requestLexing struct {
	lx   lexerrequestImpl
	toks []lexer.Token
}

// requestLexers keeps request lexers for reuse.
var requestLexers = sync.Pool{New: func() any { return new(requestLexing) }}

// lexer returns the generated request lexer (requestlexer_gen.go) reading
// text: the kept one, reset, which is what LexString would make but for
// the allocations. TestGeneratedLexers checks that a reset lexer reads as
// a new one.
func (rl *requestLexing) lexer(text string) lexer.Lexer {
	rl.lx = lexerrequestImpl{s: text, pos: lexer.Position{Line: 1, Column: 1}, states: append(rl.lx.states[:0], lexerrequestState{name: "Root"})}
	return &rl.lx
}

// put returns the lexer to the pool, holding no text of the line read.
func (rl *requestLexing) put() {
	clear(rl.toks)
	rl.toks = rl.toks[:0]
	rl.lx.s = ""
	requestLexers.Put(rl)
}

// lexRequest appends the tokens of a request line that lx reads to buf,
// and returns them with where lexing stopped early (-1 when it read all
// of the line).
func lexRequest(lx lexer.Lexer, buf []lexer.Token) ([]lexer.Token, int) {
	toks := buf
	for {
		t, err := lx.Next()
		if err != nil {
			return toks, lexStop(toks)
		}
		if t.EOF() {
			return toks, -1
		}
		toks = append(toks, t)
	}
}

// requestParse is one request line being read.
type requestParse struct {
	text string
	toks []lexer.Token
}

func (p *requestParse) errorf(start, end int, format string, args ...any) *RequestError {
	start = max(0, min(start, len(p.text)))
	end = max(start, min(end, len(p.text)))
	return &RequestError{Start: start, End: end, Message: fmt.Sprintf(format, args...)}
}

// part returns the part that tokens [i, j] of the line stand for (by index).
func (p *requestParse) part(first, last lexer.Token) Part {
	a, b := p.toks[first.Pos.Offset], p.toks[last.Pos.Offset]
	start, end := a.Pos.Offset, b.Pos.Offset+len(b.Value)
	return Part{Text: p.text[start:end], Start: start, End: end}
}

func (p *requestParse) one(t lexer.Token) Part { return p.part(t, t) }

func (p *requestParse) addressPart(a *address) Part {
	if a.Bracketed != nil {
		return p.one(*a.Bracketed)
	}
	return p.part(a.Parts[0], a.Parts[len(a.Parts)-1])
}

// request checks a request's tree and makes its Request.
func (p *requestParse) request(r *request) (*Request, error) {
	q := &Request{}
	switch {
	case r.Lookup != nil:
		l := r.Lookup
		q.Op, q.Host = p.one(l.Op), p.addressPart(&l.Name)
		q.OpWord = strings.ToLower(q.Op.Text)
		if l.Family != nil {
			q.Family = p.one(*l.Family)
		}
		if a := l.Answers; a != nil {
			q.Arrow = p.one(a.Arrow)
			for _, ad := range a.Answers {
				q.Answers = append(q.Answers, p.addressPart(ad))
			}
			if len(q.Answers) == 0 {
				return nil, p.errorf(q.Arrow.Start, len(strings.TrimRight(p.text[:p.requestEnd()], " \t")), "no answers after '=>'")
			}
		}
	default:
		op, proto, hp := r.Listen.orConnect(r.Connect)
		q.Op, q.Protocol = p.one(op), p.one(proto)
		q.OpWord = strings.ToLower(q.Op.Text)
		if err := p.protocol(q.OpWord, q.Protocol); err != nil {
			return nil, err
		}
		if err := p.hostPort(q, hp); err != nil {
			return nil, err
		}
		if r.Connect != nil && r.Connect.Via != nil {
			q.Via = p.one(r.Connect.Via.Name)
		}
	}
	q.Start = q.Op.Start
	q.End = len(strings.TrimRight(p.text[:p.requestEnd()], " \t"))
	return q, nil
}

// requestEnd returns where the comment of the line starts, or its end.
func (p *requestParse) requestEnd() int {
	for _, t := range p.toks {
		if t.Type == rComment {
			return t.Pos.Offset
		}
	}
	return len(p.text)
}

// protocols is the protocol of each operation but lookup, and the
// operation of the other protocol.
var protocols = map[string]struct{ proto, other string }{
	"connect": {"tcp", "send udp"},
	"send":    {"udp", "connect tcp"},
	"listen":  {"tcp", "bind udp"},
	"bind":    {"udp", "listen tcp"},
}

// protocol checks that the protocol word agrees with the operation.
func (p *requestParse) protocol(op string, w Part) error {
	want := protocols[op].proto
	got := strings.ToLower(w.Text)
	if got == want {
		return nil
	}
	if got == "tcp" || got == "udp" {
		return p.errorf(w.Start, w.End, "%s is %s; for %s write %s", op, strings.ToUpper(want), strings.ToUpper(got), protocols[op].other)
	}
	return p.errorf(w.Start, max(w.End, w.Start+1), "unknown protocol %q; write %s %s", w.Text, op, want)
}

// hostPort checks HOST:PORT (or LOCAL:PORT).
func (p *requestParse) hostPort(q *Request, hp *hostPort) error {
	h := hp.Host
	if h.Bracketed != nil {
		q.Host = p.one(*h.Bracketed)
	} else {
		q.Host = p.part(h.Parts[0], h.Parts[len(h.Parts)-1])
	}
	q.Port = p.one(hp.Port)
	if h.Bracketed == nil {
		if err := p.bareIPv6(q.OpWord, q.Host, q.Port); err != nil {
			return err
		}
	}
	n, err := p.port(q.Port)
	if err != nil {
		return err
	}
	q.PortNumber = n
	return nil
}

// bareIPv6 reports an IPv6 address without brackets in HOST:PORT; a
// local interface name may hold colons ("eth0:1").
func (p *requestParse) bareIPv6(op string, host, port Part) error {
	remote := op == "connect" || op == "send"
	if strings.Contains(host.Text, ":") && (remote || literal.Interface(host.Text) != nil) || isBareIPv6Text(host.Text) {
		return p.errorf(host.Start, port.End, "IPv6 address must be written in brackets: [%s]:%s", host.Text, port.Text)
	}
	return nil
}

// isBareIPv6Text reports whether s is an IPv6 address without brackets.
func isBareIPv6Text(s string) bool {
	a, err := netip.ParseAddr(strings.SplitN(s, "%", 2)[0])
	return err == nil && a.Is6()
}

// port reads a decimal port.
func (p *requestParse) port(w Part) (uint16, error) {
	s := w.Text
	if s == "*" {
		return 0, p.errorf(w.Start, w.End, "a request is for one port, not *")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > 65535 {
			return 0, p.errorf(w.Start, w.End, "port %q is not a number from 0 to 65535", s)
		}
		n = n*10 + int(s[i]-'0')
	}
	if n > 65535 {
		return 0, p.errorf(w.Start, w.End, "port %s is out of range (0-65535)", s)
	}
	return uint16(n), nil
}

// String writes the request back as one line of its parts, as written,
// joined by single blanks ("lookup NAME ipv4 => A, B"; "connect tcp
// HOST:PORT via NAME"); ParseRequest reads it back to the same parts.
func (r *Request) String() string {
	var b strings.Builder
	b.WriteString(r.Op.Text)
	if !r.Protocol.IsZero() {
		b.WriteString(" " + r.Protocol.Text + " " + r.Host.Text + ":" + r.Port.Text)
	} else {
		b.WriteString(" " + r.Host.Text)
	}
	if !r.Family.IsZero() {
		b.WriteString(" " + r.Family.Text)
	}
	if !r.Via.IsZero() {
		b.WriteString(" via " + r.Via.Text)
	}
	if len(r.Answers) > 0 {
		b.WriteString(" =>")
		for i, a := range r.Answers {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(" " + a.Text)
		}
	}
	return b.String()
}
