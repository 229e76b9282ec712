package evalreq

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
)

func TestParseRequest(t *testing.T) {
	tests := []struct{ line, want string }{
		{"lookup Example.COM.", "lookup example.com"},
		{"LOOKUP example.com IPv6", "lookup example.com ipv6"},
		{"lookup ::1", "lookup ::1"},
		{"lookup [::ffff:10.0.0.1]", "lookup 10.0.0.1"},
		{"connect tcp [::ffff:10.0.0.1]:80", "connect tcp 10.0.0.1:80"},
		{"connect tcp [2001:DB8::1]:443 via Example.com", "connect tcp [2001:db8::1]:443 via example.com"},
		{"send udp 8.8.8.8:53 # dns", "send udp 8.8.8.8:53"},
		{"listen tcp *:0", "listen tcp *:0"},
		{"listen tcp eth0:1:80", "listen tcp eth0:1:80"},
		{"bind udp LOCALHOST:53", "bind udp localhost:53"},
		{"listen tcp ｌｏｃａｌｈｏｓｔ:80", "listen tcp localhost:80"},
		{"connect tcp ｌｏｃａｌｈｏｓｔ。:80", "connect tcp localhost:80"},
		{"listen tcp [::]:80", "listen tcp [::]:80"},
		{`{"op":"connect","host":"93.184.216.34","port":80,"via":"example.com"}`, "connect tcp 93.184.216.34:80 via example.com"},
		{`{"op":"lookup","name":"example.com","family":"ipv4"}`, "lookup example.com ipv4"},
		{`{"op":"listen","local":"eth0","port":80}`, "listen tcp eth0:80"},
		{`{"op":"send","host":"2001:db8::1","port":53}`, "send udp [2001:db8::1]:53"},
		{"lookup example.com => 93.184.216.34, 2606:2800::1", "lookup example.com"},
	}
	for _, tt := range tests {
		it, err := ParseRequest(tt.line)
		if err != nil {
			t.Errorf("ParseRequest(%q): %v", tt.line, err)
			continue
		}
		if got := it.Request.String(); got != tt.want {
			t.Errorf("ParseRequest(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
	it, _ := ParseRequest("lookup example.com => 93.184.216.34, 2606:2800::1")
	if len(it.Answers) != 2 || it.Answers[1].String() != "2606:2800::1" {
		t.Errorf("answers = %v", it.Answers)
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		line       string
		start, end int
		want       string
	}{
		{"fetch example.com", 0, 5, "unknown request"},
		{"connect udp example.com:53", 8, 11, "connect is TCP; for UDP write send udp"},
		{"connect tcp example.com", 12, 23, "missing port"},
		{"connect tcp 127.1:80", 12, 17, "legacy numeric form of the IPv4 address 127.0.0.1"},
		{"connect tcp 2130706433:80", 12, 22, "legacy numeric form"},
		{"connect tcp 0x7f.0.0.1:80", 12, 22, "legacy numeric form"},
		{"connect tcp 010.0.0.1:80", 12, 21, "leading zeros"},
		{"connect tcp ::1:80", 12, 18, "IPv6 address must be written in brackets"},
		{"listen tcp fe80::1:80", 11, 21, "IPv6 address must be written in brackets"},
		{"connect tcp [fe80::1%eth0]:80", 12, 26, "zone"},
		{"connect tcp example.com:70000", 24, 29, "out of range"},
		{"connect tcp example.com:0", 24, 25, "port 0 is not a destination"},
		{"connect tcp *:80", 12, 13, "* is not a destination"},
		{"connect tcp 1.2.3.4:80 via 5.6.7.8", 27, 34, "not an address"},
		{"connect tcp example.com:80 via example.com", 31, 42, "already a name"},
		{"lookup a..b", 8, 10, "empty label"},
		{"lookup example.com ipv5", 19, 23, "ipv4 or ipv6"},
		{"lookup example.com => 1.2.3", 22, 27, "legacy numeric form"},
		{"connect tcp x.com:80 => 1.2.3.4", 21, 23, "only a lookup"},
		{"listen tcp 1eth:80", 11, 15, "must start with a letter"},
		{`{"op":"connect","host":"x.com"}`, 0, 31, "missing port"},
		{`{"op":"connect","hots":"x.com","port":1}`, 16, 22, "unknown field"},
	}
	for _, tt := range tests {
		_, err := ParseRequest(tt.line)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("ParseRequest(%q) = %v, want a syntax error", tt.line, err)
			continue
		}
		if !strings.Contains(se.Message, tt.want) || se.Start != tt.start || se.End != tt.end {
			t.Errorf("ParseRequest(%q) = %d-%d %q, want %d-%d %q", tt.line, se.Start, se.End, se.Message, tt.start, tt.end, tt.want)
		}
	}
}

// TestJSONRequests: JSON requests are decoded into the request directly
// (issue 10, finding 6): nothing in a value can add to the request, and
// unknown or duplicate fields, fields of another op, values of the wrong
// type and trailing data are errors at the offending bytes.
func TestJSONRequests(t *testing.T) {
	good := []struct{ line, want, answers string }{
		{`{"op":"lookup","name":"example.com","answers":["93.184.216.34","2606:2800::1"]}`, "lookup example.com", "[93.184.216.34 2606:2800::1]"},
		{`{"op":"connect","protocol":"tcp","host":"[2001:db8::1]","port":443}`, "connect tcp [2001:db8::1]:443", "[]"},
		{`{"op":"bind","local":"*","port":0}`, "bind udp *:0", "[]"},
		{`{"op":"listen","local":"localhost","port":80}`, "listen tcp localhost:80", "[]"},
		{`{"op":"listen","local":"eth0:1","port":80}`, "listen tcp eth0:1:80", "[]"},
		{`{"op":"listen","local":"fe80::1","port":80}`, "listen tcp [fe80::1]:80", "[]"},
		{`{"op":"send","host":"::ffff:10.0.0.1","port":53}`, "send udp 10.0.0.1:53", "[]"},
		{` { "op" : "LOOKUP" , "name" : "Example.COM." } `, "lookup example.com", "[]"},
		{`{"op":"lookup","name":"ex\u0061mple.com"}`, "lookup example.com", "[]"},
	}
	for _, tt := range good {
		it, err := ParseRequest(tt.line)
		if err != nil {
			t.Errorf("ParseRequest(%s): %v", tt.line, err)
			continue
		}
		if got := it.Request.String(); got != tt.want || fmt.Sprint(it.Answers) != tt.answers && it.Answers != nil {
			t.Errorf("ParseRequest(%s) = %q %v, want %q %s", tt.line, got, it.Answers, tt.want, tt.answers)
		}
	}
	bad := []struct {
		line string
		at   string // the bytes the error points at
		want string
	}{
		{`{"op":"lookup","name":"example.com","family":"ipv4 => 10.9.9.9"}`, `ipv4 => 10.9.9.9`, "family"},
		{`{"op":"lookup","name":"example.com => 10.9.9.9"}`, `9`, "the last label"},
		{`{"op":"lookup","name":"exa mple.com"}`, ` `, "not allowed in a name"},
		{`{"op":"lookup","name":"a.com","name":"b.com"}`, `"name"`, "duplicate field"},
		{`{"op":"lookup","name":"a.com","n\u0061me":"b.com"}`, `"n\u0061me"`, "duplicate field"},
		{`{"op":"connect","hots":"x.com","port":1}`, `"hots"`, "unknown field"},
		{`{"op":"connect","host":"x.com","port":1,"OP":"lookup"}`, `"OP"`, "unknown field"},
		{`{"op":"connect","host":"x.com"}`, `{"op":"connect","host":"x.com"}`, "missing port"},
		{`{"op":"connect","port":1}`, `{"op":"connect","port":1}`, "missing host"},
		{`{"host":"x.com","port":1}`, `{"host":"x.com","port":1}`, "missing op"},
		{`{"op":"fetch","host":"x.com","port":1}`, `fetch`, "op"},
		{`{"op":"connect","host":"x.com","port":1,"family":"ipv4"}`, `"family"`, "does not apply to connect"},
		{`{"op":"lookup","name":"x.com","via":"y.com"}`, `"via"`, "does not apply to lookup"},
		{`{"op":"connect","host":"x.com","port":"80"}`, `"80"`, "integer"},
		{`{"op":"connect","host":"x.com","port":80.0}`, `80.0`, "integer"},
		{`{"op":"connect","host":"x.com","port":-1}`, `-1`, "integer"},
		{`{"op":"connect","host":"x.com","port":65536}`, `65536`, "integer"},
		{`{"op":"connect","host":"x.com","port":0}`, `0`, "not a destination"},
		{`{"op":"connect","host":null,"port":80}`, `null`, "must be a string"},
		{`{"op":"connect","host":["x.com"],"port":80}`, `["x.com"]`, "must be a string"},
		{`{"op":"connect","protocol":"udp","host":"x.com","port":80}`, `udp`, "connect is TCP"},
		{`{"op":"lookup","name":"x.com","answers":"1.2.3.4"}`, `"1.2.3.4"`, "array"},
		{`{"op":"lookup","name":"x.com","answers":["1.2.3.4",5]}`, `5`, "must be a string"},
		{`{"op":"lookup","name":"x.com","answers":["1.2.3.4","127.1"]}`, `127.1`, "legacy"},
		{`{"op":"lookup","name":"x.com","answers":[]}`, `[]`, "no answers"},
		{`{"op":"lookup","name":"1.2.3.4","answers":["1.2.3.4"]}`, `"answers":["1.2.3.4"]`, "IP literal"},
		{`{"op":"lookup","name":"x.com"} {"op":"lookup","name":"y.com"}`, `{"op":"lookup","name":"y.com"}`, "after the JSON object"},
		{`{"op":"lookup","name":"x.com"}}`, `}`, "after the JSON object"},
		{`{"op":"lookup","name":"x.com",}`, `}`, "invalid character"},
		{`{op:1}`, `o`, "invalid character"},
		{`{"op" 1}`, `1`, "invalid character"},
		{`[1]`, `[1]`, "unknown request"},
		{`{"op":"lookup","name":"x.com"`, ``, "end of the object"},
		{`{"op":"lookup","name":"exam` + "\u200b" + `ple.com"}`, "\u200b", "ZERO WIDTH SPACE"},
		{`{"op":"lookup","name":"exam\u200bple.com"}`, `"exam\u200bple.com"`, "ZERO WIDTH SPACE"},
		{`{"op":"connect","host":"x.com","port":80,"via":"y.com"}`, `y.com`, "already a name"},
		{`{"op":"connect","host":"fe80::1%eth0","port":80}`, `fe80::1%eth0`, "zone"},
		{`{"op":"connect","host":"1::2::3","port":80}`, `1::2::3`, "not a valid IPv6 address"},
		{`{"op":"listen","local":"1::2::3","port":80}`, `1::2::3`, "not a valid IPv6 address"},
	}
	for _, tt := range bad {
		_, err := ParseRequest(tt.line)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("ParseRequest(%s) = %v, want a syntax error", tt.line, err)
			continue
		}
		at := strings.LastIndex(tt.line, tt.at)
		if tt.at == "" {
			at = len(tt.line)
		}
		if got := tt.line[se.Start:se.End]; !strings.Contains(se.Message, tt.want) || se.Start != at || got != tt.at {
			t.Errorf("ParseRequest(%s):\n got  %q at %d: %s\n want %q at %d: ...%s...", tt.line, got, se.Start, se.Message, tt.at, at, tt.want)
		}
	}
}

// TestInvisibleInRequests: a name with an invisible character is an
// error at that character (issue 10, finding 7), with the rule ID rules
// get for it.
func TestInvisibleInRequests(t *testing.T) {
	for _, c := range []string{"\u200b", "\u00ad", "\u2060", "\ufeff", "\u200d", "\u202e"} {
		for _, line := range []string{"lookup exam" + c + "ple.com", "connect tcp exam" + c + "ple.com:443", "connect tcp 1.2.3.4:443 via exam" + c + "ple.com"} {
			_, err := ParseRequest(line)
			se, ok := err.(*SyntaxError)
			if !ok || se.ID != "CS012" || line[se.Start:se.End] != c {
				t.Errorf("ParseRequest(%q) = %#v, want CS012 at the character", line, err)
			}
		}
	}
}

// TestRequests reads a request file line by line: comments, blank lines,
// CRLF, a byte order mark at the start, and errors in place.
func TestRequests(t *testing.T) {
	content := "\ufefflookup a.com\r\n\n# a comment\n  connect tcp b.com:80  # why\nfetch c.com\nlookup d.com"
	var got []string
	for it, d := range Requests(diag.NewFile("r.txt", content)) {
		if d != nil {
			got = append(got, fmt.Sprintf("%s %s %s", d.ID, d.Range, d.Summary))
			continue
		}
		got = append(got, fmt.Sprintf("%s %q", it.Range, it.Text))
	}
	want := []string{`r.txt:1:1 "lookup a.com"`, `r.txt:4:3 "connect tcp b.com:80"`, `CS001 r.txt:5:1 unknown request "fetch"; a request starts with lookup, connect, send, listen or bind`, `r.txt:6:1 "lookup d.com"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	items, ds := ReadRequests("r.txt", content)
	if len(items) != 3 || len(ds) != 1 {
		t.Errorf("ReadRequests: %d items, %d diagnostics", len(items), len(ds))
	}
}

func TestParseInterface(t *testing.T) {
	name, ps, err := ParseInterface("eth0=10.0.0.5/24,fe80::1/64,[2001:db8::7],::ffff:192.0.2.1/120")
	if err != nil || name != "eth0" || fmt.Sprint(ps) != "[10.0.0.5/24 fe80::1/64 2001:db8::7/128 192.0.2.1/24]" {
		t.Errorf("ParseInterface = %q %v %v", name, ps, err)
	}
	for _, bad := range []string{"eth0", "1eth=10.0.0.1", "eth0=10.0.0.1/33", "eth0=127.1", "eth0=fe80::1%eth0", "eth0="} {
		if _, _, err := ParseInterface(bad); err == nil {
			t.Errorf("ParseInterface(%q) accepted", bad)
		}
	}
}

// FuzzParseRequest reads arbitrary lines: no panic, and every error points
// inside the line.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"lookup example.com ipv4 => 1.2.3.4, ::1",
		"connect tcp [2001:db8::1]:443 via example.com",
		"listen tcp eth0:1:80",
		`{"op":"lookup","name":"example.com","family":"ipv4 => 10.9.9.9"}`,
		`{"op":"connect","host":"2001:db8::1","port":443,"via":"exam\u200bple.com"}`,
		`{"op":"lookup","name":"x","name":"y"}`,
		`{"op":"lookup","answers":[["1.2.3.4"]],"name":"x"}`,
		"lookup １２７.０.０.１",
		"connect tcp ｌｏｃａｌｈｏｓｔ:80",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		it, err := ParseRequest(line)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok || se.Start < 0 || se.End < se.Start || se.End > len(line) {
				t.Fatalf("ParseRequest(%q): error %#v out of the line", line, err)
			}
			return
		}
		if _, err := it.Request.Normalize(); err != nil {
			t.Fatalf("ParseRequest(%q) read %s, which does not normalize: %v", line, it.Request, err)
		}
	})
}
