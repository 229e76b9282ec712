package grammar

import "strings"

// recover explains a request line the grammar does not take, word by
// word, in the order a reader reads it: the operation, its protocol, its
// HOST:PORT (or a lookup's name and family), then what follows.
func (p *requestParse) recover() error {
	ws, arrow := p.words()
	if len(ws) == 0 {
		if arrow != nil {
			return p.errorf(arrow.Start, arrow.End, "'=>' records the answers of a lookup; write lookup NAME => ADDRESS, ...")
		}
		return p.errorf(0, len(p.text), "this request cannot be read")
	}
	if err := p.badWord(ws); err != nil {
		return err
	}
	op := strings.ToLower(ws[0].Text)
	if op == "lookup" {
		return p.recoverLookup(ws, arrow)
	}
	pr, ok := protocols[op]
	if !ok {
		return p.errorf(ws[0].Start, ws[0].End, "unknown request %q; a request starts with lookup, connect, send, listen or bind", ws[0].Text)
	}
	if arrow != nil {
		return p.errorf(arrow.Start, arrow.End, "'=>' records the answers of a lookup; only a lookup line takes it")
	}
	if len(ws) < 2 {
		return p.errorf(ws[0].End, ws[0].End, "missing protocol: write %s %s HOST:PORT", op, pr.proto)
	}
	if err := p.protocol(op, ws[1]); err != nil {
		return err
	}
	if len(ws) < 3 {
		return p.errorf(ws[1].End, ws[1].End, "missing HOST:PORT after %s %s", op, pr.proto)
	}
	if err := p.recoverHostPort(op, ws[2]); err != nil {
		return err
	}
	rest := ws[3:]
	if len(rest) > 0 && strings.EqualFold(rest[0].Text, "via") && (op == "connect" || op == "send") {
		if len(rest) < 2 {
			return p.errorf(rest[0].Start, rest[0].End, "missing name after via")
		}
		rest = rest[2:]
	}
	if len(rest) > 0 {
		return p.errorf(rest[0].Start, rest[0].End, "unexpected %q after the request", rest[0].Text)
	}
	return p.errorf(0, len(p.text), "this request cannot be read")
}

// words returns the words of the line before its "=>" (runs of tokens
// between blanks, without the comment), and the "=>".
func (p *requestParse) words() ([]Part, *Part) {
	var ws []Part
	start := -1
	end := 0
	flush := func() {
		if start >= 0 {
			ws = append(ws, Part{Text: p.text[start:end], Start: start, End: end})
			start = -1
		}
	}
	for _, t := range p.toks {
		switch t.Type {
		case rSpace:
			flush()
		case rComment:
			flush()
			return ws, nil
		case rAnswers:
			flush()
			return ws, &Part{Text: t.Value, Start: t.Pos.Offset, End: t.Pos.Offset + len(t.Value)}
		default:
			if start < 0 {
				start = t.Pos.Offset
			}
			end = t.Pos.Offset + len(t.Value)
		}
	}
	flush()
	return ws, nil
}

// badWord reports a character no word may hold, or an unclosed bracket.
func (p *requestParse) badWord(ws []Part) error {
	for _, t := range p.toks {
		switch {
		case t.Type == rComment || t.Type == rAnswers:
			return nil
		case t.Type == rUnclosed:
			for _, w := range ws {
				if t.Pos.Offset >= w.Start && t.Pos.Offset < w.End {
					return p.errorf(w.Start, w.End, "missing ']' after the IPv6 address")
				}
			}
		case t.Type != rWord && t.Type != rSpace && t.Type != rColon && t.Type != rComma && t.Type != rBracketed:
			r, size := runeAt(p.text, t.Pos.Offset)
			return p.errorf(t.Pos.Offset, t.Pos.Offset+size, "unexpected character %q", r)
		}
	}
	return nil
}

// recoverLookup explains a lookup line.
func (p *requestParse) recoverLookup(ws []Part, arrow *Part) error {
	if len(ws) < 2 {
		return p.errorf(ws[0].End, ws[0].End, "missing name: write lookup NAME [ipv4|ipv6]")
	}
	rest := ws[2:]
	if len(rest) > 0 {
		switch strings.ToLower(rest[0].Text) {
		case "ipv4", "ipv6":
			rest = rest[1:]
		default:
			return p.errorf(rest[0].Start, rest[0].End, "unexpected %q; a lookup may end with ipv4 or ipv6", rest[0].Text)
		}
	}
	if len(rest) > 0 {
		return p.errorf(rest[0].Start, rest[0].End, "unexpected %q after the lookup", rest[0].Text)
	}
	if arrow != nil {
		return p.errorf(arrow.Start, len(strings.TrimRight(p.text[:p.requestEnd()], " \t")), "no answers after '=>'")
	}
	return p.errorf(ws[1].Start, ws[1].End, "%q is neither a name nor an address", ws[1].Text)
}

// recoverHostPort explains a HOST:PORT word.
func (p *requestParse) recoverHostPort(op string, w Part) error {
	s := w.Text
	var host Part
	portAt := 0
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end+1 >= len(s) || s[end+1] != ':' {
			return p.errorf(w.Start, w.End, "missing port: write %s:PORT", s[:end+1])
		}
		host, portAt = Part{Text: s[:end+1], Start: w.Start, End: w.Start + end + 1}, end+2
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return p.errorf(w.Start, w.End, "missing port: write %s:PORT", s)
		}
		host, portAt = Part{Text: s[:i], Start: w.Start, End: w.Start + i}, i+1
		port := Part{Text: s[portAt:], Start: w.Start + portAt, End: w.End}
		if err := p.bareIPv6(op, host, port); err != nil {
			return err
		}
	}
	port := Part{Text: s[portAt:], Start: w.Start + portAt, End: w.End}
	if port.Text == "" {
		return p.errorf(port.Start, max(port.End, port.Start+1), "missing port")
	}
	if _, err := p.port(port); err != nil {
		return err
	}
	if host.Text == "" {
		return p.errorf(host.Start, host.Start+1, "missing host before ':'")
	}
	return nil
}
