package grammar

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/capspec/capspec/internal/suggest"
	"github.com/capspec/capspec/literal"
)

// recover explains a flag the grammar does not take, in our own words,
// never participle's: fail is the index of the token where participle
// stopped (len(c.toks) for the end of the flag). The explanations are
// tried from the most specific (a misspelled scheme, an IPv6 address
// without brackets, an unclosed bracket, a mistake in the ports, a
// CIDR's prefix) to the most general (an unexpected token).
func (c *checker) recover(fail int) {
	pos, end := len(c.text), len(c.text)
	var tok lexer.Token
	eof := fail >= len(c.toks)
	if !eof {
		tok = c.toks[fail]
		pos, end = tok.Pos.Offset, tok.Pos.Offset+len(tok.Value)
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
	if pos == 0 || len(c.toks) == 0 || !isFlagName(c.toks[0].Type) {
		c.notAFlag()
		return
	}
	if n, fixText := schemeTypo(value); n > 0 {
		c.report("CS001", valueStart, valueStart+n, fmt.Sprintf("malformed protocol %q; write %s", value[:n], fixText),
			replace("write "+fixText, valueStart, valueStart+n, fixText))
		return
	}
	if c.recoverBareIPv6(value, valueStart) || c.recoverUnclosed() {
		return
	}
	if !eof && tok.Type != tSpace && tok.Type != tInvalid && c.afterFamily(pos) {
		c.report("CS001", pos, c.adjacentEnd(fail), fmt.Sprintf("unexpected %q after the family modifier; the modifier comes last", c.text[pos:c.adjacentEnd(fail)]))
		return
	}
	if c.recoverPorts(fail) || c.recoverHostMapping() || c.recoverPrefix() {
		return
	}
	switch {
	case eof:
		c.report("CS001", pos, pos, "the flag ends too early")
	case tok.Type == tSpace:
		if rest := c.text[end:]; strings.HasPrefix(rest, "#ipv4-only") || strings.HasPrefix(rest, "#ipv6-only") {
			c.report("CS001", pos, end, "whitespace before the family modifier; write it right after the ports",
				replace("remove the whitespace", pos, end, ""))
			return
		}
		c.report("CS001", pos, end, "whitespace is not allowed inside a flag value")
	case tok.Type == tInvalid:
		r, size := runeAt(c.text, pos)
		end = pos + size
		switch r {
		case '"', '\'', '`':
			c.report("CS001", pos, end, fmt.Sprintf("unexpected quote %c: quotes are not part of a flag (in a flags file, write the flag without them)", r))
		case '%':
			c.report("CS001", pos, end, "unexpected character '%': a host is a name, an IPv4 address or an IPv6 address in brackets (an IPv6 zone such as %eth0 is not allowed either)")
		default:
			c.report("CS001", pos, end, fmt.Sprintf("unexpected character %q", r))
		}
	case tok.Type == tEq:
		c.report("CS001", pos, end, "unexpected '='")
	case tok.Type == tArrow:
		c.report("CS009", pos, end, "unexpected '->': a mapping follows a name (name->ip) or the ports (80->8080), once")
	case tok.Type == tColon:
		c.report("CS001", pos, end, "unexpected ':' after the ports")
	default:
		c.report("CS001", pos, end, fmt.Sprintf("unexpected %q", tok.Value))
	}
}

func isFlagName(t lexer.TokenType) bool {
	return t == tResolveFlag || t == tOutboundFlag || t == tInboundFlag || t == tUnknownFlag
}

// adjacentEnd returns the end of the run of tokens from index i up to a
// blank or a family modifier.
func (c *checker) adjacentEnd(i int) int {
	end := c.toks[i].Pos.Offset + len(c.toks[i].Value)
	for j := i + 1; j < len(c.toks); j++ {
		switch c.toks[j].Type {
		case tSpace, tIPv4Only, tIPv6Only, tBadFamily:
			return end
		}
		end = c.toks[j].Pos.Offset + len(c.toks[j].Value)
	}
	return end
}

// recoverBareIPv6 reports an IPv6 address without brackets after "://".
func (c *checker) recoverBareIPv6(value string, valueStart int) bool {
	i := strings.Index(value, "://")
	if i < 0 {
		return false
	}
	hostStart := valueStart + i + 3
	hostEnd := len(c.text)
	if j := strings.IndexAny(c.text[hostStart:], "#>"); j >= 0 {
		hostEnd = hostStart + j
		if c.text[hostEnd] == '>' && hostEnd > hostStart && c.text[hostEnd-1] == '-' {
			hostEnd--
		}
	}
	fixed, ok := bareIPv6(c.text[hostStart:hostEnd])
	if !ok {
		return false
	}
	c.report("CS004", hostStart, hostEnd, fmt.Sprintf("IPv6 address must be written in brackets: %s", fixed),
		replace("put the address in brackets", hostStart, hostEnd, fixed))
	return true
}

// recoverUnclosed reports a '[' without its ']'.
func (c *checker) recoverUnclosed() bool {
	for _, t := range c.toks {
		if t.Type == tUnclosed {
			start, end := t.Pos.Offset, t.Pos.Offset+len(t.Value)
			c.report("CS001", start, end, "missing ']' after the IPv6 address", replace("close the bracket", end, end, "]"))
			return true
		}
	}
	return false
}

// inPorts reports whether token i comes after the colon of the ports.
func (c *checker) inPorts(i int) bool {
	for j := i - 1; j >= 0; j-- {
		if c.toks[j].Type == tColon {
			return true
		}
	}
	return false
}

// typeAt returns the class of token i, or EOF past the end.
func (c *checker) typeAt(i int) lexer.TokenType {
	if i < 0 || i >= len(c.toks) {
		return lexer.EOF
	}
	return c.toks[i].Type
}

// tokSpanAt returns the span of token i.
func (c *checker) tokSpanAt(i int) (int, int) {
	t := c.toks[i]
	return t.Pos.Offset, t.Pos.Offset + len(t.Value)
}

// recoverPorts explains a mistake in a port list or port mapping, at the
// token fail where the grammar stopped.
func (c *checker) recoverPorts(fail int) bool {
	if fail == 0 || !c.inPorts(fail) {
		return false
	}
	for i := range c.toks {
		if c.typeAt(i) == tBadPort && c.typeAt(i+1) != tColon {
			s, e := c.tokSpanAt(i)
			raw := c.text[s:e]
			if lo, hi, ok := strings.Cut(raw, ".."); ok && literal.IsDigits(lo) && literal.IsDigits(strings.TrimLeft(hi, ".")) {
				hi = strings.TrimLeft(hi, ".")
				c.report("CS001", s, e, fmt.Sprintf("%q is not a port range; write %s-%s", raw, lo, hi),
					replace("write "+lo+"-"+hi, s, e, lo+"-"+hi))
				return true
			}
			c.report("CS001", s, e, fmt.Sprintf("port %q is not a number", raw))
			return true
		}
	}
	cur, prev := c.typeAt(fail), c.typeAt(fail-1)
	switch {
	case cur == tComma && (prev == tComma || prev == tColon || prev == tArrow):
		at := fail
		if prev == tComma {
			at = fail - 1
		}
		s, e := c.tokSpanAt(at)
		c.report("CS001", s, e, "empty item in port list", replace("remove the extra comma", s, e, ""))
		return true
	case prev == tComma && (cur == lexer.EOF || cur == tSpace || cur == tIPv4Only || cur == tIPv6Only || cur == tBadFamily || cur == tArrow):
		s, e := c.tokSpanAt(fail - 1)
		c.report("CS001", s, e, "empty item in port list", replace("remove the extra comma", s, e, ""))
		return true
	case cur == tComma && prev == tStar, cur == tStar && prev == tComma:
		star := fail
		if prev == tStar {
			star = fail - 1
		}
		s, e := c.tokSpanAt(star)
		ls, le := c.listExtent(star)
		c.report("CS001", s, e, "'*' already means every port; it cannot be part of a list",
			replace("allow every port", ls, le, "*"))
		return true
	case cur == tDash && prev == tStar, cur == tStar && prev == tDash:
		star := fail
		if prev == tStar {
			star = fail - 1
		}
		s, e := c.tokSpanAt(star)
		c.report("CS001", s, e, "'*' cannot be part of a port range")
		return true
	case prev == tDash, cur == tDash:
		dash := fail
		if prev == tDash {
			dash = fail - 1
		}
		s, e := c.tokSpanAt(dash)
		itemStart := s
		for j := dash - 1; j >= 0 && c.typeAt(j) == tNumber; j-- {
			itemStart, _ = c.tokSpanAt(j)
		}
		itemEnd := e
		if c.typeAt(dash+1) == tNumber {
			_, itemEnd = c.tokSpanAt(dash + 1)
		}
		c.report("CS001", s, e, fmt.Sprintf("port range %q needs a port on each side of '-'", c.text[itemStart:itemEnd]))
		return true
	}
	return false
}

// listExtent returns the span of the port list token i is part of: the
// run of numbers, ranges, commas and stars around it.
func (c *checker) listExtent(i int) (int, int) {
	inList := func(t lexer.TokenType) bool {
		return t == tNumber || t == tComma || t == tStar || t == tDash || t == tBadPort
	}
	lo, hi := i, i
	for lo > 0 && inList(c.typeAt(lo-1)) {
		lo--
	}
	for hi+1 < len(c.toks) && inList(c.typeAt(hi+1)) {
		hi++
	}
	s, _ := c.tokSpanAt(lo)
	_, e := c.tokSpanAt(hi)
	return s, e
}

// recoverHostMapping explains a host mapping to something other than an
// IP address.
func (c *checker) recoverHostMapping() bool {
	for i, t := range c.toks {
		if t.Type == tColon {
			return false // the ports have begun; their arrow maps ports
		}
		if t.Type != tArrow {
			continue
		}
		switch c.typeAt(i + 1) {
		case tIPv4, tIPv6, lexer.EOF, tColon, tIPv4Only, tIPv6Only, tBadFamily, tSpace, tInvalid, tUnclosed:
			return false
		}
		s, e := c.tokSpanAt(i + 1)
		for j := i + 2; j < len(c.toks) && (c.typeAt(j) == tName || c.typeAt(j) == tNumber); j++ {
			_, e = c.tokSpanAt(j)
		}
		raw := c.text[s:e]
		if literal.LooksLikeIPv4(raw) {
			if _, p := literal.IPv4(raw); p != nil {
				c.literalProblem(s, *p)
				return true
			}
		}
		c.report("CS009", s, e, fmt.Sprintf("a host mapping maps a name to one IP address; %q is not an IP address", raw))
		return true
	}
	return false
}

// recoverPrefix explains a '/' of the host that is no IPv4 network: an
// IPv6 prefix outside its brackets, a missing or bad prefix length, or a
// network whose address is not an IPv4 address.
func (c *checker) recoverPrefix() bool {
	for i, t := range c.toks {
		if t.Type == tColon {
			return false
		}
		if t.Type != tSlash || i == 0 {
			continue
		}
		ss, se := c.tokSpanAt(i)
		prev := c.typeAt(i - 1)
		ps, _ := c.tokSpanAt(i - 1)
		lenEnd := se
		if n := c.typeAt(i + 1); n == tNumber || n == tName {
			_, lenEnd = c.tokSpanAt(i + 1)
		}
		switch prev {
		case tIPv6:
			bracket := c.text[ps:ss]
			inner := bracket[1 : len(bracket)-1]
			fixed := "[" + inner + c.text[ss:lenEnd] + "]"
			c.report("CS004", ps, lenEnd, fmt.Sprintf("write the prefix length inside the brackets: %s", fixed),
				replace("move the prefix length into the brackets", ps, lenEnd, fixed))
			return true
		case tIPv4, tName, tNumber:
			if prev != tIPv4 {
				if _, p := literal.IPv4(c.text[ps:ss]); p != nil {
					c.literalProblem(ps, *p)
					return true
				}
			}
			if lenEnd == se {
				c.report("CS004", ss, se, "missing prefix length after '/'")
				return true
			}
			_, ok := c.prefixLen(c.text[se:lenEnd], se, 32)
			return !ok
		}
	}
	return false
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
	if word != "" && suggest.Closest(word, 3, flagNames...) != "" {
		c.unknownFlag(word, 0, len(word))
		return
	}
	end := len(word)
	if end == 0 {
		end = min(1, len(c.text))
	}
	c.report("CS001", 0, end, fmt.Sprintf("expected a flag (--allow-resolve, --allow-outbound or --allow-inbound), found %q", word))
}
