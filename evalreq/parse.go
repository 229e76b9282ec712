// Package evalreq reads the requests of capspec eval (SPEC §3.6,
// docs/eval.md): request lines in text or JSON, and request files, into
// eval.Request values, with errors positioned in the line. Names go through
// the one name normalization of rules and requests (eval.NormalizeName,
// which is literal.Name); addresses through eval.ParseAddr.
//
// The text syntax is read by the request grammar (grammar.ParseRequest)
// behind parseText, the JSON one by parseJSON; both give the parts their
// meaning with the same functions.
package evalreq

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// Item is one request as read from a request line: the request, and for a
// lookup line "lookup NAME => ADDR, ADDR" the answers it records.
type Item struct {
	Request eval.Request
	// Answers are the recorded answers of a lookup ("=> a, b"); nil when
	// the line records none.
	Answers []netip.Addr
	// Text is the line as written, without comment or surrounding blanks.
	Text string
	// Range is where the line is in its origin.
	Range diag.Range
}

// SyntaxError is a request line that cannot be read, at bytes [Start, End)
// of the line.
type SyntaxError struct {
	Start, End int
	Message    string
	// ID is the diagnostic rule of the error: CS001 (syntax) unless the
	// error is about a literal (CS004 an IP literal, CS007 a name, CS012
	// an invisible character), as for rules.
	ID string
}

func (e *SyntaxError) Error() string { return e.Message }

// ParseRequest reads one request line:
//
//	lookup NAME [ipv4|ipv6] [=> ADDR, ...]
//	connect tcp HOST:PORT [via NAME]      HOST = ipv4 | [ipv6] | NAME
//	send    udp HOST:PORT [via NAME]
//	listen  tcp LOCAL:PORT                LOCAL = ipv4 | [ipv6] | ifname | localhost | *
//	bind    udp LOCAL:PORT
//
// or one JSON object (docs/eval.md). Names are normalized as in rules, and
// a name with an invisible character is an error; IPv4-mapped IPv6
// addresses are unmapped; legacy IPv4 spellings and zones are errors. A "#"
// at the start or after a blank starts a comment. Errors are *SyntaxError.
func ParseRequest(line string) (Item, error) {
	text := stripComment(line)
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	text = strings.TrimSpace(text)
	var it Item
	var err error
	if strings.HasPrefix(text, "{") {
		it, err = parseJSON(text)
		if se, ok := err.(*SyntaxError); ok {
			se.Start += lead
			se.End += lead
		}
	} else {
		it, err = parseText(line)
	}
	it.Text = text
	return it, err
}

// stripComment drops a "#" comment at the start of s or after a blank.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// word is a piece of a line and where it starts. An errors in it points
// into it, or, when whole is set (a JSON string with escapes, whose bytes
// are not the line's), at the whole of [whole.start, whole.end).
type word struct {
	text  string
	start int
	whole *span
}

// span is a byte range of a line.
type span struct{ start, end int }

func (w word) end() int { return w.start + len(w.text) }

func (w word) errorf(format string, args ...any) *SyntaxError {
	if w.whole != nil {
		return &SyntaxError{Start: w.whole.start, End: w.whole.end, Message: fmt.Sprintf(format, args...)}
	}
	return &SyntaxError{Start: w.start, End: w.end(), Message: fmt.Sprintf(format, args...)}
}

// fail turns an error about w's text into a syntax error, at the bytes a
// literal.Problem names when it names some.
func (w word) fail(err error) *SyntaxError {
	var p *literal.Problem
	if errors.As(err, &p) && w.whole == nil && p.End > p.Start && p.End <= len(w.text) {
		return &SyntaxError{Start: w.start + p.Start, End: w.start + p.End, Message: p.Message, ID: p.ID}
	}
	se := w.errorf("%s", err)
	if errors.As(err, &p) {
		se.ID = p.ID
	}
	return se
}

var opWords = map[string]eval.Op{"lookup": eval.Lookup, "connect": eval.Connect, "send": eval.Send, "listen": eval.Listen, "bind": eval.Bind}

// parseText reads a request line in the text syntax: the request grammar
// (grammar.ParseRequest, docs/grammar.md) reads its parts, with their
// bytes in the line, and they are given their meaning here.
func parseText(line string) (Item, error) {
	var it Item
	r, err := grammar.ParseRequest(line)
	if re, ok := err.(*grammar.RequestError); ok {
		return it, &SyntaxError{Start: re.Start, End: re.End, Message: re.Message}
	}
	if err != nil {
		return it, err
	}
	if r == nil {
		return it, &SyntaxError{Message: "empty request"}
	}
	at := func(p grammar.Part) word { return word{text: p.Text, start: p.Start} }
	q := eval.Request{Op: opWords[r.OpWord]}
	if q.Op == eval.Lookup {
		if err := lookupTarget(&q, at(r.Host)); err != nil {
			return it, err
		}
		if !r.Family.IsZero() {
			if err := family(&q, at(r.Family)); err != nil {
				return it, err
			}
		}
		it.Request = q
		if !r.Arrow.IsZero() {
			if q.Addr.IsValid() {
				return it, &SyntaxError{Start: r.Arrow.Start, End: r.End, Message: "a lookup of an IP literal sends no query; it has no answers to record"}
			}
			for _, p := range r.Answers {
				a, err := answer(at(p))
				if err != nil {
					return it, err
				}
				it.Answers = append(it.Answers, a)
			}
		}
		return it, nil
	}
	if err := setPort(&q, r.PortNumber, at(r.Port)); err != nil {
		return it, err
	}
	if err := host(&q, at(r.Host)); err != nil {
		return it, err
	}
	if !r.Via.IsZero() {
		if err := viaName(&q, at(r.Via)); err != nil {
			return it, err
		}
	}
	it.Request = q
	return it, nil
}

// checkProtocol checks the protocol word of a request.
func checkProtocol(op eval.Op, w word) error {
	want := op.Protocol().String()
	got := strings.ToLower(w.text)
	if got == want {
		return nil
	}
	if got == "tcp" || got == "udp" {
		other := map[eval.Op]string{eval.Connect: "send udp", eval.Send: "connect tcp", eval.Listen: "bind udp", eval.Bind: "listen tcp"}[op]
		return w.errorf("%s is %s; for %s write %s", op, strings.ToUpper(want), strings.ToUpper(got), other)
	}
	return w.errorf("unknown protocol %q; write %s %s", w.text, op, want)
}

// family reads the family word of a lookup.
func family(q *eval.Request, w word) error {
	switch strings.ToLower(w.text) {
	case "ipv4":
		q.Family = policy.IPv4
	case "ipv6":
		q.Family = policy.IPv6
	default:
		return w.errorf("unexpected %q; a lookup may end with ipv4 or ipv6", w.text)
	}
	return nil
}

// looksLikeAddr reports whether s is an attempt at an IP address rather
// than a name.
func looksLikeAddr(s string) bool {
	return strings.HasPrefix(s, "[") || strings.Contains(s, ":") || literal.LooksLikeIPv4(strings.TrimSuffix(s, "."))
}

// lookupTarget reads the name (or IP literal) of a lookup.
func lookupTarget(q *eval.Request, w word) error {
	if looksLikeAddr(w.text) {
		a, err := eval.ParseAddr(w.text)
		if err != nil {
			return w.fail(err)
		}
		q.Addr = a
		return nil
	}
	return name(&q.Name, w)
}

// name reads a DNS name.
func name(dst *string, w word) error {
	n, err := eval.NormalizeName(w.text)
	if err != nil {
		return w.fail(err)
	}
	*dst = n
	return nil
}

// answer reads one recorded answer of a lookup.
func answer(w word) (netip.Addr, error) {
	a, err := eval.ParseAddr(w.text)
	if err != nil {
		return a, w.fail(err)
	}
	return a, nil
}

// setPort sets the port of a request; port 0 is no destination.
func setPort(q *eval.Request, port uint16, w word) error {
	if port == 0 && (q.Op == eval.Connect || q.Op == eval.Send) {
		return w.errorf("port 0 is not a destination")
	}
	q.Port = port
	return nil
}

// host reads the host of a connect or send, or the local side of a listen
// or bind: an address (IPv6 in brackets), "*" (listen), localhost, an
// interface name (listen) or a DNS name (connect).
func host(q *eval.Request, w word) error {
	h := w.text
	if h == "" {
		return w.errorf("missing host before ':'")
	}
	listen := q.Op == eval.Listen || q.Op == eval.Bind
	switch {
	case h == "*":
		if !listen {
			return w.errorf("* is not a destination; give an address or a name")
		}
		q.Local = eval.LocalAny
	case strings.HasPrefix(h, "[") || literal.LooksLikeIPv4(strings.TrimSuffix(h, ".")):
		a, err := eval.ParseAddr(h)
		if err != nil {
			return w.fail(err)
		}
		q.Addr = a
	case isLocalhost(h):
		if listen {
			q.Local = eval.LocalLocalhost
		} else {
			q.Name = "localhost"
		}
	case listen:
		if p := literal.Interface(h); p != nil {
			return w.errorf("%s", p.Message)
		}
		q.Local, q.Name = eval.LocalInterface, h
	default:
		return name(&q.Name, w)
	}
	return nil
}

// isLocalhost reports whether h spells localhost in any way a name may
// (LOCALHOST., ｌｏｃａｌｈｏｓｔ).
func isLocalhost(h string) bool {
	if strings.EqualFold(strings.TrimSuffix(h, "."), "localhost") {
		return true
	}
	n, err := eval.NormalizeName(h)
	return err == nil && n == "localhost"
}

// viaName reads the NAME of "via NAME".
func viaName(q *eval.Request, w word) error {
	if q.Name != "" {
		return w.errorf("via names the name an address was resolved from; the host %s is already a name", q.Name)
	}
	if looksLikeAddr(w.text) {
		return w.errorf("via takes the name the address was resolved from, not an address")
	}
	return name(&q.Name, w)
}
