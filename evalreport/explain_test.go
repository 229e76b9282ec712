package evalreport

import (
	"strings"
	"testing"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreq"
	"github.com/capspec/capspec/internal/policygen"
)

func TestExplainDenials(t *testing.T) {
	tests := []struct {
		flags   []string
		req     string
		reasons string // the nearest rule's reasons, joined by "; "
		note    string // a substring of the notes, if any
	}{
		{[]string{"--allow-outbound=tcp://example.com:80"}, "connect tcp example.com:443", "port 443 not in 80", ""},
		{[]string{"--allow-outbound=tcp://*:80#ipv4-only"}, "connect tcp [2001:db8::1]:80", "ipv6 address but rule is #ipv4-only", ""},
		{[]string{"--allow-resolve=*.a.example.com"}, "lookup a.example.com", "name a.example.com: *.a.example.com does not cover its apex", ""},
		{[]string{"--allow-resolve=*.example.com"}, "lookup badexample.com", "name badexample.com is not below example.com (a wildcard matches whole labels)", ""},
		{[]string{"--allow-resolve=example.com"}, "lookup www.example.com", "name www.example.com is not example.com (a subdomain needs *.example.com)", ""},
		{[]string{"--allow-outbound=udp://*:53"}, "connect tcp 8.8.8.8:53", "protocol tcp, but the rule is udp", ""},
		{[]string{"--allow-outbound=tcp://10.0.0.0/8:80"}, "connect tcp 11.0.0.1:80", "11.0.0.1 is outside 10.0.0.0/8", ""},
		{[]string{"--allow-outbound=tcp://10.0.0.0/8:80"}, "connect tcp [::1]:80", "ipv6 address but the rule is for the ipv4 network 10.0.0.0/8", ""},
		{[]string{"--allow-outbound=tcp://example.com:80"}, "connect tcp 93.184.216.34:80", "93.184.216.34 is a bare address; the rule allows addresses resolved from example.com", "write via NAME"},
		{[]string{"--allow-outbound=tcp://db->10.0.0.1:5432"}, "connect tcp 10.0.0.2:5432 via db", "db resolves to 10.0.0.1 (mapped by rule 1), not 10.0.0.2", ""},
		{[]string{"--allow-outbound=tcp://*:80"}, "connect tcp example.com:80", "the ipv4 lookup of example.com is not allowed", "needs its lookup"},
		{[]string{"--allow-outbound=tcp://*:80"}, "lookup example.com", "", "allow connects, not lookups"},
		{[]string{"--allow-resolve=example.com", "--allow-outbound=tcp://10.0.0.0/8:80"}, "connect tcp example.com:80", "the address of example.com comes from DNS", ""},
		{[]string{"--allow-inbound=tcp://eth0:80"}, "listen tcp 192.168.1.5:80", "192.168.1.5 is not an address of eth0 (eth0 has 10.0.0.5, fe80::1)", ""},
		{[]string{"--allow-inbound=tcp://eth7:80"}, "listen tcp 192.168.1.5:80", "192.168.1.5 is not an address of eth7 (eth7 is not in the interface table)", ""},
		{[]string{"--allow-inbound=tcp://eth0:80"}, "listen tcp *:80", "listening on * (every interface) needs a * rule", ""},
		{[]string{"--allow-inbound=tcp://localhost:80"}, "listen tcp 0.0.0.0:80", "0.0.0.0 is every ipv4 interface: it needs a * rule", ""},
		{[]string{"--allow-inbound=tcp://localhost:80"}, "listen tcp 10.0.0.5:80", "10.0.0.5 is not a loopback address", ""},
		{[]string{"--allow-inbound=tcp://*:80"}, "listen tcp *:0", "port 0 (chosen by the system) not in 80", ""},
		{[]string{"--allow-resolve=db->10.0.0.1"}, "lookup db ipv6", "ipv6 lookup but db is mapped to the ipv4 address 10.0.0.1", ""},
		{[]string{"--allow-inbound=tcp://0.0.0.0:80"}, "listen tcp [::1]:80", "ipv6 address but the rule's 0.0.0.0 means *#ipv4-only", ""},
		{nil, "lookup example.com", "", "no --allow-resolve rules"},
		// Finding 3: an unspecified destination, whatever the rules say.
		{[]string{"--allow-outbound=tcp://0.0.0.0/8:*"}, "connect tcp 0.0.0.0:5432", "0.0.0.0 is an unspecified address (denied whatever the rules say)", "on Linux a connect or send to it reaches the host itself"},
		{[]string{"--allow-outbound=tcp://*:*"}, "connect tcp [::]:22", "[::] is an unspecified address (denied whatever the rules say)", "unspecified address"},
		{[]string{"--allow-outbound=udp://*:53"}, "send udp [::ffff:0.0.0.0]:53", "0.0.0.0 is an unspecified address (denied whatever the rules say)", "unspecified address"},
		// Finding 4: a mapping is the whole answer.
		{[]string{"--allow-resolve=*", "--allow-resolve=db->10.0.0.5"}, "lookup db ipv6", "db is mapped to 10.0.0.5 by rule 2, and a mapping is the whole answer: no ipv6 lookup is made", ""},
		{[]string{"--allow-resolve=db->10.0.0.5", "--allow-outbound=tcp://db:5432"}, "connect tcp [2001:db8::1]:5432 via db", "db is mapped to 10.0.0.5 by rule 1, and a mapping is the whole answer: no ipv6 lookup is made", ""},
		// Near misses about the request's host come before other rules.
		{[]string{"--allow-resolve=a.org", "--allow-resolve=b.org", "--allow-resolve=c.org", "--allow-resolve=example.com"}, "lookup www.example.com", "name www.example.com is not example.com (a subdomain needs *.example.com)", ""},
	}
	for _, tt := range tests {
		p, _ := policygen.Compile(t, tt.flags)
		e := NewExplainer(p, policygen.Interfaces())
		it, err := evalreq.ParseRequest(tt.req)
		if err != nil {
			t.Fatal(err)
		}
		x := e.Explain(it.Request)
		if x.Decision.Allowed {
			t.Errorf("%v %s: allowed", tt.flags, tt.req)
			continue
		}
		got := ""
		if len(x.Nearest) > 0 {
			got = strings.Join(x.Nearest[0].Reasons, "; ")
		}
		if got != tt.reasons && !(tt.reasons != "" && strings.HasPrefix(got, tt.reasons)) {
			t.Errorf("%v %s:\n got  %q\n want %q", tt.flags, tt.req, got, tt.reasons)
		}
		if notes := strings.Join(x.Notes, "\n"); !strings.Contains(notes, tt.note) {
			t.Errorf("%v %s: notes %q lack %q", tt.flags, tt.req, notes, tt.note)
		}
	}
}

func TestExplainAllowing(t *testing.T) {
	p, _ := policygen.Compile(t, []string{"--allow-resolve=example.com#ipv6-only", "--allow-outbound=tcp://example.com:80#ipv4-only", "--allow-resolve=*"})
	x := NewExplainer(p, nil).Explain(eval.Request{Op: eval.Lookup, Name: "example.com"})
	if len(x.Allowing) != 3 || !x.Allowing[1].Decides || x.Allowing[1].Rule.ImpliedBy == nil || x.Allowing[0].Families.String() != "ipv6" {
		t.Errorf("allowing = %+v", x.Allowing)
	}
	if x.Decision.Rule != 1 {
		t.Errorf("decided by %d, want the implied resolve of rule 1", x.Decision.Rule)
	}
}
