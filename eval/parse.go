package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// Item is one request as read from a request line: the request, and for a
// lookup line "lookup NAME => ADDR, ADDR" the answers it records.
type Item struct {
	Request Request
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
// or one JSON object (docs/eval.md). The text form is read by the request
// grammar (grammar.ParseRequest, docs/grammar.md); here its parts are given
// their meaning. Names are normalized as in rules; IPv4-mapped IPv6
// addresses are unmapped; legacy IPv4 spellings and zones are errors. A
// "#" at the start or after a blank starts a comment.
func ParseRequest(line string) (Item, error) {
	text := stripComment(line)
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "{") {
		it, err := parseJSONRequest(text)
		if se, ok := err.(*SyntaxError); ok {
			se.Start += lead
			se.End += lead
		}
		it.Text = text
		return it, err
	}
	it, err := parseTextRequest(line)
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

// partError is an error about a part of a request line.
func partError(p grammar.Part, format string, args ...any) *SyntaxError {
	return &SyntaxError{Start: p.Start, End: max(p.End, p.Start+1), Message: fmt.Sprintf(format, args...)}
}

var opWords = map[string]Op{"lookup": Lookup, "connect": Connect, "send": Send, "listen": Listen, "bind": Bind}

// parseTextRequest reads a request line in the text syntax: the grammar
// reads its parts, and they are given their meaning here.
func parseTextRequest(line string) (Item, error) {
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
	q := Request{Op: opWords[r.OpWord]}
	if q.Op == Lookup {
		if err := lookupTarget(&q, r.Host); err != nil {
			return it, err
		}
		switch strings.ToLower(r.Family.Text) {
		case "ipv4":
			q.Family = policy.IPv4
		case "ipv6":
			q.Family = policy.IPv6
		}
		it.Request = q
		if !r.Arrow.IsZero() {
			if q.Addr.IsValid() {
				return it, &SyntaxError{Start: r.Arrow.Start, End: r.End, Message: "a lookup of an IP literal sends no query; it has no answers to record"}
			}
			for _, p := range r.Answers {
				a, err := ParseAddr(p.Text)
				if err != nil {
					return it, partError(p, "%s", err)
				}
				it.Answers = append(it.Answers, a)
			}
		}
		return it, nil
	}
	if r.PortNumber == 0 && (q.Op == Connect || q.Op == Send) {
		return it, partError(r.Port, "port 0 is not a destination")
	}
	q.Port = r.PortNumber
	if err := hostPart(&q, r.Host); err != nil {
		return it, err
	}
	if !r.Via.IsZero() {
		if err := viaName(&q, r.Via); err != nil {
			return it, err
		}
	}
	it.Request = q
	return it, nil
}

// looksLikeAddr reports whether s is an attempt at an IP address rather
// than a name.
func looksLikeAddr(s string) bool {
	return strings.HasPrefix(s, "[") || strings.Contains(s, ":") || literal.LooksLikeIPv4(strings.TrimSuffix(s, "."))
}

// lookupTarget reads the name (or IP literal) of a lookup.
func lookupTarget(q *Request, p grammar.Part) error {
	if looksLikeAddr(p.Text) {
		a, err := ParseAddr(p.Text)
		if err != nil {
			return partError(p, "%s", err)
		}
		q.Addr = a
		return nil
	}
	n, err := NormalizeName(p.Text)
	if err != nil {
		return partError(p, "%s", err)
	}
	q.Name = n
	return nil
}

// hostPart reads the HOST of HOST:PORT (or the LOCAL of LOCAL:PORT).
func hostPart(q *Request, p grammar.Part) error {
	host := p.Text
	listen := q.Op == Listen || q.Op == Bind
	switch {
	case host == "*":
		if !listen {
			return partError(p, "* is not a destination; give an address or a name")
		}
		q.Local = LocalAny
	case strings.HasPrefix(host, "[") || literal.LooksLikeIPv4(strings.TrimSuffix(host, ".")):
		a, err := ParseAddr(host)
		if err != nil {
			return partError(p, "%s", err)
		}
		q.Addr = a
	case strings.EqualFold(strings.TrimSuffix(host, "."), "localhost"):
		if listen {
			q.Local = LocalLocalhost
		} else {
			q.Name = "localhost"
		}
	case listen:
		if prob := literal.Interface(host); prob != nil {
			return partError(p, "%s", prob.Message)
		}
		q.Local, q.Name = LocalInterface, host
	default:
		n, err := NormalizeName(host)
		if err != nil {
			return partError(p, "%s", err)
		}
		q.Name = n
	}
	return nil
}

// viaName reads the NAME of "via NAME".
func viaName(q *Request, p grammar.Part) error {
	if q.Name != "" {
		return partError(p, "via names the name an address was resolved from; the host %s is already a name", q.Name)
	}
	if looksLikeAddr(p.Text) {
		return partError(p, "via takes the name the address was resolved from, not an address")
	}
	n, err := NormalizeName(p.Text)
	if err != nil {
		return partError(p, "%s", err)
	}
	q.Name = n
	return nil
}

// jsonRequest is a request as a JSON object (docs/eval.md).
type jsonRequest struct {
	Op       string   `json:"op"`
	Protocol string   `json:"protocol"`
	Name     string   `json:"name"`
	Host     string   `json:"host"`
	Local    string   `json:"local"`
	Port     *int     `json:"port"`
	Via      string   `json:"via"`
	Family   string   `json:"family"`
	Answers  []string `json:"answers"`
}

// parseJSONRequest reads a JSON request by writing it as a request line.
func parseJSONRequest(text string) (Item, error) {
	whole := func(format string, args ...any) error {
		return &SyntaxError{Start: 0, End: len(text), Message: fmt.Sprintf(format, args...)}
	}
	var j jsonRequest
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Item{}, whole("bad JSON request: %v", err)
	}
	op, ok := opWords[strings.ToLower(j.Op)]
	if !ok {
		return Item{}, whole("JSON request: op %q must be lookup, connect, send, listen or bind", j.Op)
	}
	var line strings.Builder
	line.WriteString(op.String())
	if op == Lookup {
		name := cmpOr(j.Name, j.Host)
		if name == "" {
			return Item{}, whole("JSON lookup: missing name")
		}
		line.WriteString(" " + name)
		if j.Family != "" {
			line.WriteString(" " + j.Family)
		}
		if len(j.Answers) > 0 {
			line.WriteString(" => " + strings.Join(j.Answers, ", "))
		}
	} else {
		proto := cmpOr(j.Protocol, op.Protocol().String())
		host := cmpOr(j.Host, j.Local, j.Name)
		if host == "" || j.Port == nil {
			return Item{}, whole("JSON %s: missing host or port", op)
		}
		if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
			if _, err := netip.ParseAddr(host); err == nil {
				host = "[" + host + "]"
			}
		}
		line.WriteString(" " + proto + " " + host + ":" + strconv.Itoa(*j.Port))
		if j.Via != "" {
			line.WriteString(" via " + j.Via)
		}
	}
	it, err := parseTextRequest(line.String())
	if se, ok := err.(*SyntaxError); ok {
		return it, whole("JSON request (%s): %s", line.String(), se.Message)
	}
	return it, err
}

func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ReadRequests reads a request file: one request per line (text or JSON),
// with blank lines and "#" comments. Lines that cannot be read are
// diagnostics (CS001, error) with their ranges; the others are items.
func ReadRequests(name, content string) ([]Item, []diag.Diagnostic) {
	f := diag.NewFile(name, content)
	var items []Item
	var ds []diag.Diagnostic
	start := 0
	for start <= len(content) {
		end := strings.IndexByte(content[start:], '\n')
		if end < 0 {
			end = len(content)
		} else {
			end += start
		}
		line := strings.TrimSuffix(content[start:end], "\r")
		if strings.TrimSpace(stripComment(line)) != "" {
			it, err := ParseRequest(line)
			lead := len(line) - len(strings.TrimLeft(line, " \t"))
			if err != nil {
				ds = append(ds, requestDiag(f, start, err))
			} else {
				it.Range = f.Range(start+lead, start+lead+len(it.Text))
				items = append(items, it)
			}
		}
		if end == len(content) {
			break
		}
		start = end + 1
	}
	return items, ds
}

// requestDiag turns a request error at line offset base into a diagnostic.
func requestDiag(f *diag.File, base int, err error) diag.Diagnostic {
	d := diag.Diagnostic{ID: "CS001", Severity: diag.Error, Summary: err.Error(), Range: f.Range(base, base)}
	if se, ok := err.(*SyntaxError); ok {
		d.Range = f.Range(base+se.Start, base+se.End)
	}
	return d
}

// RequestDiagnostic locates an error of ParseRequest(text) in an origin
// called name (for example "argv[3]").
func RequestDiagnostic(name, text string, err error) diag.Diagnostic {
	return requestDiag(diag.NewFile(name, text), 0, err)
}
