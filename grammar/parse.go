// Package grammar parses capspec flags into the syntax tree of package ast.
// It is the only package that knows participle: the grammar (syntax.go)
// finds the parts of a flag, and the checks in this package turn them into
// ast nodes or into positioned diagnostics (CS001–CS012) with suggestions.
package grammar

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/source"
)

// Parse parses every flag of an input into a policy. Rules with errors are
// left out of the policy; their diagnostics say why. Rule.Index is the
// flag's position in the input, so it stays stable when a flag is invalid.
// Large inputs are parsed on all CPUs; the result does not depend on it.
// Parse is safe for concurrent use.
func Parse(in *source.Input) (*ast.Policy, []diag.Diagnostic) {
	return parse(in, min(runtime.GOMAXPROCS(0), len(in.Flags)/parallelParseMin))
}

// parse parses an input on that many goroutines (at most one per flag;
// fewer than two: on this one). Tests ask for several whatever the CPUs.
func parse(in *source.Input, workers int) (*ast.Policy, []diag.Diagnostic) {
	type parsed struct {
		rule  *ast.Rule
		diags []diag.Diagnostic
	}
	out := make([]parsed, len(in.Flags))
	parseRange := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i].rule, out[i].diags = ParseFlag(in.Flags[i].Text, in.Flags[i].Loc)
		}
	}
	workers = min(workers, len(in.Flags))
	if workers > 1 {
		var wg sync.WaitGroup
		chunk := (len(in.Flags) + workers - 1) / workers
		for lo := 0; lo < len(in.Flags); lo += chunk {
			wg.Go(func() { parseRange(lo, min(lo+chunk, len(in.Flags))) })
		}
		wg.Wait()
	} else {
		parseRange(0, len(in.Flags))
	}
	p := &ast.Policy{Name: in.Name}
	var ds []diag.Diagnostic
	for i, o := range out {
		ds = append(ds, o.diags...)
		if o.rule != nil {
			o.rule.Index = i
			p.Rules = append(p.Rules, o.rule)
		}
	}
	return p, ds
}

// parallelParseMin is the number of flags per worker below which parsing
// on more CPUs is not worth starting goroutines.
const parallelParseMin = 256

// ParseFlag parses one flag, "--allow-X=SPEC" or "--allow-X SPEC". loc
// locates the text in its origin; nil means the text is its own origin.
// The rule is nil when the flag has errors.
func ParseFlag(text string, loc diag.Locator) (*ast.Rule, []diag.Diagnostic) {
	c := &checker{text: text}
	r := c.flag()
	if loc == nil {
		loc = diag.NewFile("", text)
	}
	if len(c.problems) > 0 {
		r = nil
	} else {
		r.Loc = loc
	}
	return r, c.diagnostics(loc)
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

// checker turns one flag's text into a rule, collecting problems.
type checker struct {
	text     string
	kind     ast.Kind
	problems []problem // the first diag.MaxPerFlag problems
	// more counts the problems after the first diag.MaxPerFlag, which are
	// reported as one omission: a flag of a million NUL bytes costs
	// linear time and constant memory.
	more struct {
		tally      diag.Tally // N and IDs
		start, end int
	}
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

func tokSpan(t lexer.Token) ast.Span {
	return ast.Span{Start: t.Pos.Offset, End: t.Pos.Offset + len(t.Value)}
}

// flag checks the whole flag.
func (c *checker) flag() *ast.Rule {
	if !c.visible() {
		return nil
	}
	if !strings.HasPrefix(c.text, "--") {
		// No flag name can start here; participle would say so at offset
		// 0 (a file of garbage words costs no parse per word).
		c.notAFlag()
		return nil
	}
	f, err := c.parse()
	if err != nil {
		c.syntaxError(err)
		return nil
	}
	if f == nil {
		return nil
	}
	name := tokSpan(f.Name)
	kind, ok := c.flagKind(f.Name)
	if !ok {
		return nil
	}
	c.kind = kind
	r := &ast.Rule{Span: ast.Span{Start: 0, End: len(c.text)}, Text: c.text,
		Flag: &ast.FlagName{Span: name, Kind: kind}}
	if f.Sep != nil && f.Sep.Type == flagLexer.Symbols()["Space"] {
		r.Flag.Form = ast.TwoWords
	}
	if len(f.Spec.Lead) == 0 && f.Spec.Sep == nil && len(f.Spec.Host) == 0 && len(f.Spec.Ports) == 0 && len(f.Spec.Families) == 0 && f.Spec.HostMap == nil {
		c.report("CS001", name.Start, len(c.text), fmt.Sprintf("%s has no value; write %s", f.Name.Value, example(kind)))
		return nil
	}
	c.spec(r, &f.Spec)
	return r
}

// maxFlagTokens bounds the tokens of one flag. A valid flag has a dozen or
// so (a port list is one); lexing and parsing cost a few microseconds and
// a few hundred bytes per token, so a flag of a million one-byte tokens
// ("[[[[…", "->->…") is not read past this many: one error says so.
const maxFlagTokens = 256

// errTooManyTokens ends lexing at the token after the first maxFlagTokens.
var errTooManyTokens = errors.New("too many tokens")

// cappedLexer stops a lexer with errTooManyTokens after maxFlagTokens
// tokens, remembering where the next one starts.
type cappedLexer struct {
	lexer.Lexer
	left int
	at   int // offset of the first token not read
}

func (l *cappedLexer) Next() (lexer.Token, error) {
	t, err := l.Lexer.Next()
	if err != nil || t.EOF() {
		return t, err
	}
	if l.left == 0 {
		l.at = t.Pos.Offset
		return t, errTooManyTokens
	}
	l.left--
	return t, nil
}

// parse runs the participle grammar over the flag's tokens. A flag of more
// than maxFlagTokens tokens is reported here; the result is then nil.
func (c *checker) parse() (*Flag, error) {
	lex, err := flagLexer.LexString("", c.text)
	if err != nil {
		return nil, err
	}
	capped := &cappedLexer{Lexer: lex, left: maxFlagTokens}
	tokens, err := lexer.Upgrade(capped)
	if errors.Is(err, errTooManyTokens) {
		c.report("CS001", capped.at, len(c.text), fmt.Sprintf("this flag has more than %d parts (words, numbers and symbols), where a flag has a dozen or so; capspec stops reading it here", maxFlagTokens))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return flagParser.ParseFromLexer(tokens)
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

// visible reports invisible characters (CS012) and invalid UTF-8 (CS001).
func (c *checker) visible() bool {
	ok := true
	for i, r := range c.text {
		if r >= ' ' && r < utf8.RuneSelf && r != 0x7f {
			continue
		}
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(c.text[i:]); size == 1 {
				if !c.omitted("CS001", i, i+1) { // a million bad bytes are not a million messages
					c.report("CS001", i, i+1, fmt.Sprintf("invalid UTF-8 byte 0x%02X", c.text[i]))
				}
				ok = false
				continue
			}
		}
		if literal.Invisible(r) {
			n := utf8.RuneLen(r)
			if !c.omitted("CS012", i, i+n) {
				c.report("CS012", i, i+n, fmt.Sprintf("invisible character %s in a flag: what you see is not what is checked", literal.InvisibleName(r)),
					replace("delete the invisible character", i, i+n, ""))
			}
			ok = false
		}
	}
	return ok
}

// flagKind reads the flag name.
func (c *checker) flagKind(t lexer.Token) (ast.Kind, bool) {
	for _, k := range ast.Kinds {
		if t.Value == k.FlagName() {
			return k, true
		}
	}
	s := tokSpan(t)
	names := make([]string, len(ast.Kinds))
	for i, k := range ast.Kinds {
		names[i] = k.FlagName()
	}
	if best := closest(t.Value, 3, names...); best != "" {
		c.report("CS001", s.Start, s.End, fmt.Sprintf("unknown flag %s; did you mean %s?", t.Value, best),
			replace("use "+best, s.Start, s.End, best))
	} else {
		c.report("CS001", s.Start, s.End, fmt.Sprintf("unknown flag %s; capspec knows --allow-resolve, --allow-outbound and --allow-inbound", t.Value))
	}
	return 0, false
}

// targetSpan returns the span of a target, with its prefix.
func targetSpan(t *target) ast.Span {
	var s ast.Span
	switch {
	case t.Ellipsis != nil:
		s = tokSpan(*t.Ellipsis)
	case t.Bracketed != nil:
		s = tokSpan(*t.Bracketed)
	default:
		s = ast.Span{Start: t.Parts[0].Pos.Offset, End: tokSpan(t.Parts[len(t.Parts)-1]).End}
	}
	if t.Prefix != nil {
		s.End = tokSpan(t.Prefix.Slash).End
		if t.Prefix.Len != nil {
			s.End = tokSpan(*t.Prefix.Len).End
		}
	}
	return s
}

func (c *checker) slice(s ast.Span) string { return c.text[s.Start:s.End] }

// spec checks the value of a flag and fills in the rule.
func (c *checker) spec(r *ast.Rule, s *Spec) {
	valueStart := r.Flag.End + 1
	if n, fixText := schemeTypo(c.text[valueStart:]); n > 0 {
		c.report("CS001", valueStart, valueStart+n, fmt.Sprintf("malformed protocol %q; write %s", c.text[valueStart:valueStart+n], fixText),
			replace("write "+fixText, valueStart, valueStart+n, fixText))
		return
	}
	lead, ok := c.splitTarget(s.Lead)
	if !ok {
		return
	}
	host := lead
	if s.Sep != nil {
		if host, ok = c.splitTarget(s.Host); !ok {
			return
		}
		c.scheme(r, s, lead)
	} else if len(s.Host) > 0 {
		c.unexpected(s.Host[0])
		return
	}
	if c.kind != ast.Resolve && r.Scheme == nil && s.Sep == nil {
		at := valueStart
		c.report("CS001", at, at, fmt.Sprintf("missing protocol: %s values start with tcp:// or udp://", r.Flag.Kind.FlagName()))
	}
	if c.bareIPv6(host, s) {
		return
	}
	var hostEnd int
	switch {
	case host == nil:
		at := valueStart
		if s.Sep != nil {
			at = tokSpan(*s.Sep).End
		}
		c.report("CS001", at, at, fmt.Sprintf("missing host; write %s", example(c.kind)))
		return
	case host.Ellipsis != nil:
		r.Ellipsis = &ast.Ellipsis{Span: tokSpan(*host.Ellipsis)}
		hostEnd = r.Ellipsis.End
		if c.kind == ast.Resolve {
			c.report("CS001", r.Ellipsis.Start, r.Ellipsis.End, "'...' stands for any host and port of an outbound or inbound rule; --allow-resolve takes a name pattern such as *")
		}
		if host.Prefix != nil || s.HostMap != nil || len(s.Ports) > 0 {
			end := r.Ellipsis.End
			if len(s.Ports) > 0 {
				end = tokSpan(s.Ports[len(s.Ports)-1].List).End
			}
			c.report("CS001", r.Ellipsis.End, max(end, r.Ellipsis.End+1), "'...' already stands for any host and any port; nothing may follow it but a family modifier")
		}
	default:
		r.Host = c.host(host)
		hostEnd = targetSpan(host).End
	}
	if s.HostMap != nil {
		r.HostMap = c.hostMapping(r, s.HostMap)
		hostEnd = c.mappingEnd(s.HostMap)
	}
	if r.Ellipsis == nil {
		c.ports(r, s, hostEnd)
	}
	c.families(r, s.Families)
	c.crossChecks(r)
}

// scheme checks the protocol before "://".
func (c *checker) scheme(r *ast.Rule, s *Spec, lead *target) {
	sep := tokSpan(*s.Sep)
	if lead == nil {
		c.report("CS001", sep.Start, sep.End, "missing protocol before '://'; write tcp:// or udp://")
		return
	}
	sp := targetSpan(lead)
	raw := c.slice(sp)
	span := ast.Span{Start: sp.Start, End: sep.End}
	var proto ast.Protocol
	switch strings.ToLower(raw) {
	case "tcp":
		proto = ast.TCP
	case "udp":
		proto = ast.UDP
	default:
		if best := closest(raw, 1, "tcp", "udp"); best != "" {
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
	r.Scheme = &ast.Scheme{Span: span, Protocol: proto, Raw: raw}
}

// bareIPv6 reports an IPv6 address written without brackets.
func (c *checker) bareIPv6(host *target, s *Spec) bool {
	if len(s.Ports) == 0 {
		return false
	}
	start := tokSpan(s.Ports[0].List).Start
	if host != nil {
		if host.Bracketed != nil || host.Ellipsis != nil || host.Prefix != nil {
			return false
		}
		start = targetSpan(host).Start
	}
	end := tokSpan(s.Ports[len(s.Ports)-1].List).End
	seg := c.text[start:end]
	if strings.Count(seg, ":") < 2 {
		return false
	}
	fixed, ok := bareIPv6(seg)
	if !ok {
		return false
	}
	c.report("CS004", start, end, fmt.Sprintf("IPv6 address must be written in brackets: %s", fixed),
		replace("put the address in brackets", start, end, fixed))
	return true
}

// host checks a host and classifies it.
func (c *checker) host(t *target) *ast.Host {
	sp := targetSpan(t)
	h := &ast.Host{Span: sp, Raw: c.slice(sp)}
	if t.Bracketed != nil {
		return c.ipv6Host(h, t)
	}
	partsEnd := tokSpan(t.Parts[len(t.Parts)-1]).End
	raw := c.text[sp.Start:partsEnd]
	if t.Prefix != nil {
		return c.ipv4CIDR(h, raw, t.Prefix)
	}
	if strings.Contains(raw, "*") {
		return c.wildcardHost(h, raw)
	}
	if literal.LooksLikeIPv4(raw) {
		a, p := literal.IPv4(raw)
		if p != nil {
			c.literalProblem(sp.Start, *p)
			return nil
		}
		h.Kind, h.Addr = ast.HostIPv4, a
		return h
	}
	if strings.EqualFold(strings.TrimSuffix(raw, "."), "localhost") {
		h.Kind, h.Name = ast.HostLocalhost, "localhost"
		return h
	}
	if c.kind == ast.Inbound {
		if p := literal.Interface(raw); p != nil {
			c.literalProblem(sp.Start, *p)
			return nil
		}
		h.Kind, h.Iface = ast.HostInterface, raw
		return h
	}
	name, probs := literal.Name(raw)
	if len(probs) > 0 {
		for _, p := range probs {
			c.literalProblem(sp.Start, p)
		}
		return nil
	}
	h.Kind, h.Name = ast.HostDomain, name
	return h
}

// literalProblem reports a problem of package literal found in text at base.
func (c *checker) literalProblem(base int, p literal.Problem) {
	var fixes []fix
	if p.Fix != "" {
		fixes = append(fixes, replace("write "+p.Fix, base, base+literalLen(c.text[base:], p), p.Fix))
	}
	c.report(p.ID, base+p.Start, base+max(p.End, p.Start+1), p.Message, fixes...)
}

// literalLen is the length of the literal a whole-literal fix replaces: up
// to the next delimiter of the flag.
func literalLen(rest string, p literal.Problem) int {
	if p.End > 0 && p.Start == 0 {
		return p.End
	}
	n := strings.IndexAny(rest, ":#")
	if n < 0 {
		n = len(rest)
	}
	return n
}

// wildcardHost checks a host containing "*".
func (c *checker) wildcardHost(h *ast.Host, raw string) *ast.Host {
	start := h.Start
	if raw == "*" {
		h.Kind = ast.HostAny
		return h
	}
	if c.kind == ast.Inbound {
		c.report("CS008", start, start+len(raw), fmt.Sprintf("inbound rules take *, localhost, an interface or an address, not the name pattern %q", raw))
		return nil
	}
	if strings.HasPrefix(raw, "*.") && !strings.Contains(raw[2:], "*") {
		rest := raw[2:]
		if literal.LooksLikeIPv4(rest) {
			c.report("CS008", start, start+len(raw), fmt.Sprintf("%q is not a name pattern: a wildcard stands for labels of a name, not parts of an IPv4 address; use a CIDR such as 10.0.0.0/8", raw))
			return nil
		}
		name, probs := literal.Name(rest)
		if len(probs) > 0 {
			for _, p := range probs {
				c.literalProblem(start+2, p)
			}
			return nil
		}
		h.Kind, h.Name = ast.HostWildcard, name
		return h
	}
	i := strings.IndexByte(raw, '*')
	if strings.HasPrefix(raw, "*.") {
		i = 2 + strings.IndexByte(raw[2:], '*')
	}
	msg := fmt.Sprintf("wildcard in %q: a wildcard is a lone * or a whole leading label (*.example.com)", raw)
	var fixes []fix
	switch {
	case i == 0 && len(raw) > 1 && raw[1] != '.' && raw[1] != '*' && !strings.Contains(raw[1:], "*"):
		fixes = append(fixes, replace("match the names below "+raw[1:], start, start+len(raw), "*."+strings.TrimLeft(raw[1:], ".")))
	}
	c.report("CS008", start+i, start+i+1, msg, fixes...)
	return nil
}

// ipv4CIDR checks "a.b.c.d/len".
func (c *checker) ipv4CIDR(h *ast.Host, addrText string, pre *prefix) *ast.Host {
	start := h.Start
	a, p := literal.IPv4(addrText)
	if p != nil {
		c.literalProblem(start, *p)
		return nil
	}
	bits, ok := c.prefixLen(pre, 32)
	if !ok {
		return nil
	}
	return c.network(h, a, bits, "", "")
}

// prefixLen reads the length of a CIDR, at most max.
func (c *checker) prefixLen(pre *prefix, limit int) (int, bool) {
	sl := tokSpan(pre.Slash)
	if pre.Len == nil {
		c.report("CS004", sl.Start, sl.End, "missing prefix length after '/'")
		return 0, false
	}
	sp := tokSpan(*pre.Len)
	return c.prefixLenText(pre.Len.Value, sp.Start, limit)
}

func (c *checker) prefixLenText(s string, at, limit int) (int, bool) {
	n, ok := smallNumber(s)
	if !ok || n > limit || len(s) > 1 && s[0] == '0' {
		c.report("CS004", at, at+len(s), fmt.Sprintf("prefix length %q is not a number from 0 to %d", s, limit))
		return 0, false
	}
	return n, true
}

// smallNumber reads a decimal number of at most 6 digits.
func smallNumber(s string) (int, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// ipv6Host checks a bracketed host: "[addr]" or "[addr/len]".
func (c *checker) ipv6Host(h *ast.Host, t *target) *ast.Host {
	tok := *t.Bracketed
	sp := tokSpan(tok)
	if !strings.HasSuffix(tok.Value, "]") {
		c.report("CS001", sp.Start, sp.End, "missing ']' after the IPv6 address", replace("close the bracket", sp.End, sp.End, "]"))
		return nil
	}
	inner := tok.Value[1 : len(tok.Value)-1]
	at := sp.Start + 1
	if t.Prefix != nil {
		full := c.slice(targetSpan(t))
		c.report("CS004", sp.Start, targetSpan(t).End, fmt.Sprintf("write the prefix length inside the brackets: [%s%s]", inner, strings.TrimPrefix(full, tok.Value)),
			replace("move the prefix length into the brackets", sp.Start, targetSpan(t).End, "["+inner+strings.TrimPrefix(full, tok.Value)+"]"))
		return nil
	}
	addrText, lenText, isCIDR := strings.Cut(inner, "/")
	a, p := literal.IPv6(addrText)
	if p != nil {
		if p.ID == "CS005" && isCIDR {
			// An IPv4-mapped network: the fix is the IPv4 network.
			if n, ok := smallNumber(lenText); ok && n >= 96 && n <= 128 {
				v4 := p.Fix + "/" + fmt.Sprint(n-96)
				c.report("CS005", sp.Start, sp.End, fmt.Sprintf("IPv4-mapped IPv6 network %s stands for the IPv4 network %s; write %s", tok.Value, v4, v4),
					replace("write "+v4, sp.Start, sp.End, v4))
				return nil
			}
		}
		var fixes []fix
		if p.Fix != "" {
			fixText := p.Fix
			if p.ID == "CS004" && strings.Contains(p.Message, "zone") {
				fixText = "[" + p.Fix + suffixIf(isCIDR, "/"+lenText) + "]"
			}
			fixes = append(fixes, replace("write "+fixText, sp.Start, sp.End, fixText))
		}
		c.report(p.ID, at+p.Start, at+max(p.End, p.Start+1), p.Message, fixes...)
		return nil
	}
	if !isCIDR {
		h.Kind, h.Addr = ast.HostIPv6, a
		return h
	}
	bits, ok := c.prefixLenText(lenText, at+len(addrText)+1, 128)
	if !ok {
		return nil
	}
	return c.network(h, a, bits, "[", "]")
}

func suffixIf(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}

// network makes a cidr host, reporting host bits below the mask (CS006).
func (c *checker) network(h *ast.Host, a netip.Addr, bits int, open, close string) *ast.Host {
	p := netip.PrefixFrom(a, bits)
	if m := p.Masked(); m != p {
		fixText := open + m.String() + close
		c.report("CS006", h.Start, h.End, fmt.Sprintf("%s has host bits set below the /%d mask; the network is %s", h.Raw, bits, fixText),
			replace("write the network address", h.Start, h.End, fixText))
		return nil
	}
	h.Kind, h.Prefix = ast.HostCIDR, p
	return h
}

// hostMapping checks "->IP" after a host.
func (c *checker) hostMapping(r *ast.Rule, m *Mapping) *ast.HostMapping {
	arrow := tokSpan(m.Arrow)
	end := c.mappingEnd(m)
	hm := &ast.HostMapping{Span: ast.Span{Start: arrow.Start, End: end}, Arrow: arrow, Raw: c.text[arrow.End:end]}
	switch {
	case c.kind == ast.Inbound:
		c.report("CS009", arrow.Start, end, "an inbound rule cannot map a host; map the port instead (tcp://*:80->8080)")
		return nil
	case r.Host == nil:
		if r.Ellipsis != nil {
			c.report("CS009", arrow.Start, end, "'...' cannot be mapped; a host mapping takes one exact name")
		}
		return nil
	case r.Host.Kind != ast.HostDomain:
		c.report("CS009", r.Host.Start, end, fmt.Sprintf("a host mapping maps one exact name to one IP address; %s %q cannot be mapped", hostKindWords(r.Host.Kind), r.Host.Raw))
		return nil
	case end == arrow.End:
		c.report("CS009", arrow.Start, arrow.End, "missing IP address after '->'")
		return nil
	}
	if m.Bracketed != nil {
		inner := strings.TrimSuffix(strings.TrimPrefix(m.Bracketed.Value, "["), "]")
		a, p := literal.IPv6(inner)
		if p != nil {
			var fixes []fix
			if p.Fix != "" {
				fixes = append(fixes, replace("write "+p.Fix, arrow.End, end, p.Fix))
			}
			c.report(p.ID, arrow.End, end, p.Message, fixes...)
			return nil
		}
		hm.Addr = a
		return hm
	}
	if !literal.LooksLikeIPv4(hm.Raw) {
		c.report("CS009", arrow.End, end, fmt.Sprintf("a host mapping maps a name to one IP address; %q is not an IP address", hm.Raw))
		return nil
	}
	a, p := literal.IPv4(hm.Raw)
	if p != nil {
		c.literalProblem(arrow.End, *p)
		return nil
	}
	hm.Addr = a
	return hm
}

func hostKindWords(k ast.HostKind) string {
	switch k {
	case ast.HostAny:
		return "the wildcard"
	case ast.HostWildcard:
		return "the name pattern"
	case ast.HostLocalhost:
		return "the name"
	case ast.HostInterface:
		return "the interface"
	case ast.HostIPv4, ast.HostIPv6:
		return "the address"
	case ast.HostCIDR:
		return "the network"
	}
	return "the name"
}

// mappingEnd returns the end of a mapping's target (or of its arrow).
func (c *checker) mappingEnd(m *Mapping) int {
	switch {
	case m.Bracketed != nil:
		return tokSpan(*m.Bracketed).End
	case len(m.Parts) > 0:
		return tokSpan(m.Parts[len(m.Parts)-1]).End
	}
	return tokSpan(m.Arrow).End
}

// families checks the family modifiers.
func (c *checker) families(r *ast.Rule, toks []lexer.Token) {
	for _, t := range toks {
		sp := tokSpan(t)
		var fam ast.Family
		switch t.Value {
		case "#ipv4-only":
			fam = ast.IPv4Only
		case "#ipv6-only":
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
		r.Family = &ast.FamilyMod{Span: sp, Family: fam, Raw: t.Value}
	}
}

// syntaxError turns a participle error into a CS001 diagnostic with our own
// words, never participle's.
func (c *checker) syntaxError(err error) {
	var perr participle.Error
	if !errors.As(err, &perr) {
		c.report("CS001", 0, len(c.text), "this flag cannot be read")
		return
	}
	pos := perr.Position().Offset
	var tok lexer.Token
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		tok = ute.Unexpected
		pos = tok.Pos.Offset
	}
	end := pos + max(len(tok.Value), 1)
	if tok.EOF() {
		end = pos
	}
	// Where does the value start? After the flag name and "=" or blank.
	valueStart := 0
	if strings.HasPrefix(c.text, "-") {
		valueStart = strings.IndexAny(c.text, "= \t")
		if valueStart < 0 {
			valueStart = len(c.text)
		} else {
			valueStart++
		}
	}
	value := c.text[valueStart:]
	if pos == 0 {
		c.notAFlag()
		return
	}
	if n, fixText := schemeTypo(value); n > 0 {
		c.report("CS001", valueStart, valueStart+n, fmt.Sprintf("malformed protocol %q; write %s", value[:n], fixText),
			replace("write "+fixText, valueStart, valueStart+n, fixText))
		return
	}
	if i := strings.Index(value, "://"); i >= 0 {
		hostStart := valueStart + i + 3
		hostEnd := len(c.text)
		if j := strings.IndexAny(c.text[hostStart:], "#>"); j >= 0 {
			hostEnd = hostStart + j
			if c.text[hostEnd] == '>' && hostEnd > hostStart && c.text[hostEnd-1] == '-' {
				hostEnd--
			}
		}
		if fixed, ok := bareIPv6(c.text[hostStart:hostEnd]); ok {
			c.report("CS004", hostStart, hostEnd, fmt.Sprintf("IPv6 address must be written in brackets: %s", fixed),
				replace("put the address in brackets", hostStart, hostEnd, fixed))
			return
		}
	}
	sym := flagLexer.Symbols()
	switch {
	case tok.EOF():
		c.report("CS001", pos, pos, "the flag ends too early")
	case tok.Type == sym["Space"]:
		if rest := c.text[end:]; strings.HasPrefix(rest, "#ipv4-only") || strings.HasPrefix(rest, "#ipv6-only") {
			c.report("CS001", pos, end, "whitespace before the family modifier; write it right after the ports",
				replace("remove the whitespace", pos, end, ""))
			return
		}
		c.report("CS001", pos, end, "whitespace is not allowed inside a flag value")
	case tok.Type == sym["Invalid"]:
		r, size := utf8.DecodeRuneInString(c.text[pos:])
		end = pos + size
		switch r {
		case '"', '\'', '`':
			c.report("CS001", pos, end, fmt.Sprintf("unexpected quote %c: quotes are not part of a flag (in a flags file, write the flag without them)", r))
		case '%':
			c.report("CS004", pos, end, "IPv6 zone is not allowed: rules name addresses, not links")
		case ',':
			if strings.Contains(c.text[:pos], "->") {
				c.report("CS009", pos, end, "a port mapping maps one port or one range, not a list")
			} else {
				c.report("CS001", pos, end, "unexpected ','")
			}
		default:
			c.report("CS001", pos, end, fmt.Sprintf("unexpected character %q", r))
		}
	case c.afterFamily(pos):
		c.report("CS001", pos, end, fmt.Sprintf("unexpected %q after the family modifier; the modifier comes last", tok.Value))
	case tok.Type == sym["Eq"]:
		c.report("CS001", pos, end, "unexpected '='")
	case tok.Type == sym["Arrow"]:
		c.report("CS009", pos, end, "unexpected '->': a mapping follows a name (name->ip) or the ports (80->8080), once")
	default:
		c.report("CS001", pos, end, fmt.Sprintf("unexpected %q", tok.Value))
	}
}

// afterFamily reports whether pos comes after a family modifier.
func (c *checker) afterFamily(pos int) bool {
	i := strings.LastIndexByte(c.text[:pos], '#')
	return i >= 0 && i > strings.LastIndexAny(c.text[:pos], " \t")
}

// notAFlag reports text that does not start with a flag name.
func (c *checker) notAFlag() {
	word, _, _ := strings.Cut(c.text, "=")
	word, _, _ = strings.Cut(word, " ")
	names := []string{"--allow-resolve", "--allow-outbound", "--allow-inbound"}
	if best := closest(word, 3, names...); best != "" && word != "" {
		c.report("CS001", 0, len(word), fmt.Sprintf("unknown flag %s; did you mean %s?", word, best),
			replace("use "+best, 0, len(word), best))
		return
	}
	end := len(word)
	if end == 0 {
		end = min(1, len(c.text))
	}
	c.report("CS001", 0, end, fmt.Sprintf("expected a flag (--allow-resolve, --allow-outbound or --allow-inbound), found %q", word))
}
