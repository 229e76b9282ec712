package grammar

import (
	"reflect"
	"strings"
	"testing"
)

// requestSummary describes the parts of a request for tables.
func requestSummary(r *Request) string {
	if r == nil {
		return "none"
	}
	parts := []string{r.OpWord}
	add := func(name string, p Part) {
		if !p.IsZero() {
			parts = append(parts, name+"="+p.Text)
		}
	}
	add("proto", r.Protocol)
	add("host", r.Host)
	add("port", r.Port)
	add("family", r.Family)
	add("via", r.Via)
	for _, a := range r.Answers {
		add("answer", a)
	}
	return strings.Join(parts, " ")
}

// validRequests are request lines that the grammar reads, with their parts.
var validRequests = []struct{ line, want string }{
	{"lookup example.com", "lookup host=example.com"},
	{"LOOKUP Example.COM. IPv6", "lookup host=Example.COM. family=IPv6"},
	{"lookup ::1", "lookup host=::1"},
	{"lookup 2001:db8::1 ipv6", "lookup host=2001:db8::1 family=ipv6"},
	{"lookup [::ffff:10.0.0.1]", "lookup host=[::ffff:10.0.0.1]"},
	{"lookup ｌｏｃａｌｈｏｓｔ。", "lookup host=ｌｏｃａｌｈｏｓｔ。"},
	{"lookup lookup", "lookup host=lookup"},
	{"lookup via ipv4", "lookup host=via family=ipv4"},
	{"lookup example.com => 93.184.216.34, 2606:2800::1", "lookup host=example.com answer=93.184.216.34 answer=2606:2800::1"},
	{"lookup example.com ipv4 =>93.184.216.34 [2606:2800::1]", "lookup host=example.com family=ipv4 answer=93.184.216.34 answer=[2606:2800::1]"},
	{"lookup example.com=>1.2.3.4,5.6.7.8 # two", "lookup host=example.com answer=1.2.3.4 answer=5.6.7.8"},
	{"connect tcp example.com:80", "connect proto=tcp host=example.com port=80"},
	{"Connect TCP [2001:DB8::1]:443 via Example.com", "connect proto=TCP host=[2001:DB8::1] port=443 via=Example.com"},
	{"connect tcp [::ffff:10.0.0.1]:80", "connect proto=tcp host=[::ffff:10.0.0.1] port=80"},
	{"send udp 8.8.8.8:53 # dns", "send proto=udp host=8.8.8.8 port=53"},
	{"  send\tudp 8.8.8.8:053  ", "send proto=udp host=8.8.8.8 port=053"},
	{"connect tcp 127.1:80", "connect proto=tcp host=127.1 port=80"},
	{"connect tcp *:80", "connect proto=tcp host=* port=80"},
	{"connect tcp example.com:0", "connect proto=tcp host=example.com port=0"},
	{"listen tcp *:0", "listen proto=tcp host=* port=0"},
	{"listen tcp eth0:1:80", "listen proto=tcp host=eth0:1 port=80"},
	{"listen tcp eth0:1:2:80", "listen proto=tcp host=eth0:1:2 port=80"},
	{"bind udp LOCALHOST:53", "bind proto=udp host=LOCALHOST port=53"},
	{"listen tcp [::]:80", "listen proto=tcp host=[::] port=80"},
	{"listen tcp [fe80::1%eth0]:80", "listen proto=tcp host=[fe80::1%eth0] port=80"},
	{"", "none"},
	{"   ", "none"},
	{"# a comment", "none"},
	{"  # a comment", "none"},
}

// TestRequestValid checks the parts the grammar finds in request lines,
// and that printing a request and reading it again gives the same parts.
func TestRequestValid(t *testing.T) {
	for _, tc := range validRequests {
		r, err := ParseRequest(tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if got := requestSummary(r); got != tc.want {
			t.Errorf("%q\n got  %s\n want %s", tc.line, got, tc.want)
		}
		if r == nil {
			continue
		}
		checkRequestParts(t, tc.line, r)
		again, err := ParseRequest(r.String())
		if err != nil || requestSummary(again) != requestSummary(r) {
			t.Errorf("%q printed as %q reads as %s (%v)", tc.line, r.String(), requestSummary(again), err)
		}
	}
}

// checkRequestParts checks that every part of a request is its bytes of
// the line.
func checkRequestParts(t *testing.T, line string, r *Request) {
	t.Helper()
	parts := append([]Part{r.Op, r.Protocol, r.Host, r.Port, r.Family, r.Via, r.Arrow}, r.Answers...)
	for _, p := range parts {
		if p.IsZero() {
			continue
		}
		if p.Start < 0 || p.End > len(line) || p.Start > p.End || line[p.Start:p.End] != p.Text {
			t.Fatalf("%q: part %+v is not its bytes of the line", line, p)
		}
	}
	if r.Start < 0 || r.End > len(line) || r.Start > r.End {
		t.Fatalf("%q: request bytes %d-%d outside the line", line, r.Start, r.End)
	}
}

// requestErrors are request lines the grammar refuses: where, and a piece
// of the message.
var requestErrors = []struct {
	line       string
	start, end int
	want       string
}{
	{"fetch example.com", 0, 5, "unknown request"},
	{"connect udp example.com:53", 8, 11, "connect is TCP; for UDP write send udp"},
	{"bind tcp *:53", 5, 8, "bind is UDP; for TCP write listen tcp"},
	{"connect http example.com:80", 8, 12, `unknown protocol "http"; write connect tcp`},
	{"connect", 7, 7, "missing protocol: write connect tcp HOST:PORT"},
	{"send udp", 8, 8, "missing HOST:PORT after send udp"},
	{"connect tcp example.com", 12, 23, "missing port"},
	{"connect tcp example.com:", 24, 24, "missing port"},
	{"connect tcp [::1]", 12, 17, "missing port: write [::1]:PORT"},
	{"connect tcp [::1:80", 12, 19, "missing ']'"},
	{"connect tcp ::1:80", 12, 18, "IPv6 address must be written in brackets: [::1]:80"},
	{"listen tcp fe80::1:80", 11, 21, "IPv6 address must be written in brackets"},
	{"connect tcp eth0:1:80", 12, 21, "IPv6 address must be written in brackets"},
	{"connect tcp example.com:70000", 24, 29, "out of range"},
	{"connect tcp example.com:http", 24, 28, "not a number"},
	{"connect tcp example.com:*", 24, 25, "one port, not *"},
	{"connect tcp :80", 12, 13, "missing host before ':'"},
	{"connect tcp x.com:80 via", 21, 24, "missing name after via"},
	{"connect tcp x.com:80 extra", 21, 26, `unexpected "extra" after the request`},
	{"listen tcp *:80 via x.com", 16, 19, `unexpected "via" after the request`},
	{"lookup", 6, 6, "missing name"},
	{"lookup example.com ipv5", 19, 23, "ipv4 or ipv6"},
	{"lookup example.com ipv4 more", 24, 28, "after the lookup"},
	{"lookup example.com =>", 19, 21, "no answers after '=>'"},
	{"lookup example.com => ,  # none", 19, 23, "no answers after '=>'"},
	{"connect tcp x.com:80 => 1.2.3.4", 21, 23, "only a lookup"},
	{"lookup exa=mple.com", 10, 11, "unexpected character '='"},
	{"lookup [::1", 7, 11, "missing ']'"},
	{"lookup example.com ]", 19, 20, "unexpected character ']'"},
}

// TestRequestErrors checks where each refused line is wrong and what the
// message says.
func TestRequestErrors(t *testing.T) {
	for _, tc := range requestErrors {
		r, err := ParseRequest(tc.line)
		re, ok := err.(*RequestError)
		if !ok {
			t.Errorf("%q = %s, %v; want an error", tc.line, requestSummary(r), err)
			continue
		}
		if !strings.Contains(re.Message, tc.want) || re.Start != tc.start || re.End != tc.end {
			t.Errorf("%q = %d-%d %q, want %d-%d %q", tc.line, re.Start, re.End, re.Message, tc.start, tc.end, tc.want)
		}
	}
}

// TestRequestShapesAgree reads every test request line, and variants of it
// in other cases (ſ and K fold to s and k), with the trees of the shape
// cache and afresh: both must agree on every part and error. Lines of one
// shape but other words come one after another, so that the cache serves
// trees parsed from other lines.
func TestRequestShapesAgree(t *testing.T) {
	cache := newTreeCache[*requestLine]()
	var lines []string
	for _, line := range requestTexts(t) {
		lines = append(lines, line, strings.ToUpper(line), strings.ReplaceAll(line, "s", "ſ"),
			strings.ReplaceAll(line, "example", "other"), strings.ReplaceAll(line, "ipv4", "ipv5"))
	}
	for _, line := range lines {
		cached, cerr := parseRequest(line, cache)
		fresh, ferr := parseRequest(line, nil)
		if !reflect.DeepEqual(cached, fresh) || !reflect.DeepEqual(cerr, ferr) {
			t.Errorf("%q: with shapes %+v (%v), afresh %+v (%v)", line, cached, cerr, fresh, ferr)
		}
	}
	if len(cache.trees) == 0 || len(cache.trees) >= len(lines) {
		t.Errorf("%d shapes for %d lines: the cache is not shared", len(cache.trees), len(lines))
	}
}
