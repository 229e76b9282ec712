package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/capspec/capspec/diag"
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
// or one JSON object (docs/eval.md). Names are normalized as in rules;
// IPv4-mapped IPv6 addresses are unmapped; legacy IPv4 spellings and zones
// are errors. A "#" at the start or after a blank starts a comment.
func ParseRequest(line string) (Item, error) {
	text := stripComment(line)
	lead := len(text) - len(strings.TrimLeft(text, " \t"))
	text = strings.TrimSpace(text)
	var it Item
	var err error
	if strings.HasPrefix(text, "{") {
		it, err = parseJSONRequest(text)
	} else {
		it, err = parseTextRequest(text)
	}
	if se, ok := err.(*SyntaxError); ok {
		se.Start += lead
		se.End += lead
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

// word is a blank-separated word of a line and where it starts.
type word struct {
	text  string
	start int
}

func (w word) end() int { return w.start + len(w.text) }

func (w word) errorf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Start: w.start, End: max(w.end(), w.start+1), Message: fmt.Sprintf(format, args...)}
}

func splitWords(s string, base int) []word {
	var ws []word
	start := -1
	for i := 0; i <= len(s); i++ {
		blank := i == len(s) || s[i] == ' ' || s[i] == '\t'
		if blank && start >= 0 {
			ws = append(ws, word{s[start:i], base + start})
			start = -1
		} else if !blank && start < 0 {
			start = i
		}
	}
	return ws
}

var opWords = map[string]Op{"lookup": Lookup, "connect": Connect, "send": Send, "listen": Listen, "bind": Bind}

func parseTextRequest(text string) (Item, error) {
	var it Item
	head, answers, recorded := strings.Cut(text, "=>")
	ws := splitWords(head, 0)
	if len(ws) == 0 {
		return it, &SyntaxError{Message: "empty request"}
	}
	op, ok := opWords[strings.ToLower(ws[0].text)]
	if !ok {
		return it, ws[0].errorf("unknown request %q; a request starts with lookup, connect, send, listen or bind", ws[0].text)
	}
	q := Request{Op: op}
	if op == Lookup {
		if len(ws) < 2 {
			return it, &SyntaxError{Start: ws[0].end(), End: ws[0].end(), Message: "missing name: write lookup NAME [ipv4|ipv6]"}
		}
		if err := lookupTarget(&q, ws[1]); err != nil {
			return it, err
		}
		rest := ws[2:]
		if len(rest) > 0 {
			switch strings.ToLower(rest[0].text) {
			case "ipv4":
				q.Family = policy.IPv4
			case "ipv6":
				q.Family = policy.IPv6
			default:
				return it, rest[0].errorf("unexpected %q; a lookup may end with ipv4 or ipv6", rest[0].text)
			}
			rest = rest[1:]
		}
		if len(rest) > 0 {
			return it, rest[0].errorf("unexpected %q after the lookup", rest[0].text)
		}
		it.Request = q
		if recorded {
			if q.Addr.IsValid() {
				return it, &SyntaxError{Start: len(head), End: len(text), Message: "a lookup of an IP literal sends no query; it has no answers to record"}
			}
			as, err := parseAnswers(answers, len(head)+2)
			if err != nil {
				return it, err
			}
			it.Answers = as
		}
		return it, nil
	}
	if recorded {
		return it, &SyntaxError{Start: len(head), End: len(head) + 2, Message: "'=>' records the answers of a lookup; only a lookup line takes it"}
	}
	if len(ws) < 2 {
		return it, &SyntaxError{Start: ws[0].end(), End: ws[0].end(), Message: fmt.Sprintf("missing protocol: write %s %s HOST:PORT", op, op.Protocol())}
	}
	if err := checkProtocol(op, ws[1]); err != nil {
		return it, err
	}
	if len(ws) < 3 {
		return it, &SyntaxError{Start: ws[1].end(), End: ws[1].end(), Message: fmt.Sprintf("missing HOST:PORT after %s %s", op, op.Protocol())}
	}
	if err := hostPort(&q, ws[2]); err != nil {
		return it, err
	}
	rest := ws[3:]
	if len(rest) > 0 && strings.EqualFold(rest[0].text, "via") && (op == Connect || op == Send) {
		if len(rest) < 2 {
			return it, rest[0].errorf("missing name after via")
		}
		if err := viaName(&q, rest[1]); err != nil {
			return it, err
		}
		rest = rest[2:]
	}
	if len(rest) > 0 {
		return it, rest[0].errorf("unexpected %q after the request", rest[0].text)
	}
	it.Request = q
	return it, nil
}

// checkProtocol checks the protocol word of a request.
func checkProtocol(op Op, w word) error {
	want := op.Protocol().String()
	got := strings.ToLower(w.text)
	if got == want {
		return nil
	}
	if got == "tcp" || got == "udp" {
		other := map[Op]string{Connect: "send udp", Send: "connect tcp", Listen: "bind udp", Bind: "listen tcp"}[op]
		return w.errorf("%s is %s; for %s write %s", op, strings.ToUpper(want), strings.ToUpper(got), other)
	}
	return w.errorf("unknown protocol %q; write %s %s", w.text, op, want)
}

// lookupTarget reads the name (or IP literal) of a lookup.
func lookupTarget(q *Request, w word) error {
	s := w.text
	if strings.HasPrefix(s, "[") || strings.Contains(s, ":") || literal.LooksLikeIPv4(strings.TrimSuffix(s, ".")) {
		a, err := ParseAddr(s)
		if err != nil {
			return w.errorf("%s", err)
		}
		q.Addr = a
		return nil
	}
	n, err := NormalizeName(s)
	if err != nil {
		return w.errorf("%s", err)
	}
	q.Name = n
	return nil
}

// hostPort reads HOST:PORT (or LOCAL:PORT).
func hostPort(q *Request, w word) error {
	s := w.text
	var host string
	var portAt int
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return w.errorf("missing ']' after the IPv6 address")
		}
		if end+1 >= len(s) || s[end+1] != ':' {
			return w.errorf("missing port: write %s:PORT", s[:end+1])
		}
		host, portAt = s[:end+1], end+2
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return w.errorf("missing port: write %s:PORT", s)
		}
		host, portAt = s[:i], i+1
		if strings.Contains(host, ":") && (q.Op == Connect || q.Op == Send || !isIfaceLike(host)) || isBareIPv6(host) {
			return w.errorf("IPv6 address must be written in brackets: [%s]:%s", host, s[portAt:])
		}
	}
	pw := word{s[portAt:], w.start + portAt}
	port, err := parsePort(pw)
	if err != nil {
		return err
	}
	if port == 0 && (q.Op == Connect || q.Op == Send) {
		return pw.errorf("port 0 is not a destination")
	}
	q.Port = port
	hw := word{host, w.start}
	if host == "" {
		return hw.errorf("missing host before ':'")
	}
	listen := q.Op == Listen || q.Op == Bind
	switch {
	case host == "*":
		if !listen {
			return hw.errorf("* is not a destination; give an address or a name")
		}
		q.Local = LocalAny
	case strings.HasPrefix(host, "["):
		a, err := ParseAddr(host)
		if err != nil {
			return hw.errorf("%s", err)
		}
		q.Addr = a
	case literal.LooksLikeIPv4(strings.TrimSuffix(host, ".")):
		a, err := ParseAddr(host)
		if err != nil {
			return hw.errorf("%s", err)
		}
		q.Addr = a
	case strings.EqualFold(strings.TrimSuffix(host, "."), "localhost"):
		if listen {
			q.Local = LocalLocalhost
		} else {
			q.Name = "localhost"
		}
	case listen:
		if p := literal.Interface(host); p != nil {
			return hw.errorf("%s", p.Message)
		}
		q.Local, q.Name = LocalInterface, host
	default:
		n, err := NormalizeName(host)
		if err != nil {
			return hw.errorf("%s", err)
		}
		q.Name = n
	}
	return nil
}

// isBareIPv6 reports whether s is an IPv6 address without brackets.
func isBareIPv6(s string) bool {
	a, err := netip.ParseAddr(strings.SplitN(s, "%", 2)[0])
	return err == nil && a.Is6()
}

// isIfaceLike reports whether s could be an interface name with colons
// (eth0:1), not an IPv6 address.
func isIfaceLike(s string) bool { return literal.Interface(s) == nil }

// parsePort reads a decimal port.
func parsePort(w word) (uint16, error) {
	s := w.text
	if s == "" {
		return 0, w.errorf("missing port")
	}
	if s == "*" {
		return 0, w.errorf("a request is for one port, not *")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > policy.MaxPort {
			return 0, w.errorf("port %q is not a number from 0 to 65535", s)
		}
		n = n*10 + int(s[i]-'0')
	}
	if n > policy.MaxPort {
		return 0, w.errorf("port %s is out of range (0-65535)", s)
	}
	return uint16(n), nil
}

// viaName reads the NAME of "via NAME".
func viaName(q *Request, w word) error {
	if q.Name != "" {
		return w.errorf("via names the name an address was resolved from; the host %s is already a name", q.Name)
	}
	s := w.text
	if strings.HasPrefix(s, "[") || strings.Contains(s, ":") || literal.LooksLikeIPv4(strings.TrimSuffix(s, ".")) {
		return w.errorf("via takes the name the address was resolved from, not an address")
	}
	n, err := NormalizeName(s)
	if err != nil {
		return w.errorf("%s", err)
	}
	q.Name = n
	return nil
}

// parseAnswers reads "ADDR, ADDR ..." recorded after "=>".
func parseAnswers(s string, base int) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, w := range splitWords(strings.ReplaceAll(s, ",", " "), base) {
		a, err := ParseAddr(w.text)
		if err != nil {
			return nil, w.errorf("%s", err)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, &SyntaxError{Start: base, End: base + len(s), Message: "no answers after '=>'"}
	}
	return out, nil
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
