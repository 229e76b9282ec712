package playground

import (
	"strings"
	"testing"
)

func TestEvalLines(t *testing.T) {
	policy := "--allow-outbound=tcp://example.com:443\n--allow-inbound=tcp://eth0:80\n"
	requests := "# a comment\nconnect tcp example.com:443   # why not\n\nconnect tcp example.com:80\nconnect tcp 999.1.1.1:80\n  listen tcp 192.0.2.10:80\n😀 nonsense\n"
	res := Eval(policy, requests, DefaultInterfaces)
	if res.Unavailable != "" {
		t.Fatal(res.Unavailable)
	}
	want := []struct {
		line              int
		request, decision string
		reason            string
	}{
		{2, "connect tcp example.com:443", "allow", "by rule 1 at policy.flags:1:1: --allow-outbound=tcp://example.com:443"},
		{4, "connect tcp example.com:80", "deny", "port 80 not in 443"},
		{5, "connect tcp 999.1.1.1:80", "invalid", "5:13: "},
		{6, "listen tcp 192.0.2.10:80", "allow", "by rule 2 at policy.flags:2:1: --allow-inbound=tcp://eth0:80"},
		{7, "😀 nonsense", "invalid", "7:1: "},
	}
	if len(res.Requests) != len(want) {
		t.Fatalf("%d lines decided, want %d: %+v", len(res.Requests), len(want), res.Requests)
	}
	for i, w := range want {
		r := res.Requests[i]
		if r.Line != w.line || r.Request != w.request || r.Decision != w.decision || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("line %d: %+v; want %+v", i, r, w)
		}
		lines := strings.Split(requests, "\n")
		if r.Decision != "invalid" && !strings.Contains(lines[r.Line-1], r.Request) {
			t.Errorf("line %d is %q, not %q", r.Line, lines[r.Line-1], r.Request)
		}
	}
	// The range of the bad line 7 starts at its first character; 😀 is two
	// UTF-16 units.
	if r := res.Requests[4]; r.Start != len(strings.Join(strings.Split(requests, "\n")[:6], "\n"))+1 || r.End < r.Start+2 {
		t.Errorf("line 7 is at [%d, %d)", r.Start, r.End)
	}
	if res.Allowed != 2 || res.Denied != 1 || res.Invalid != 2 {
		t.Errorf("counts %d allowed, %d denied, %d invalid", res.Allowed, res.Denied, res.Invalid)
	}
}

func TestEvalUnavailable(t *testing.T) {
	if r := Eval("--allow-outbound=tcp://example.com:70000", "lookup example.com", ""); r.Unavailable != "policy.flags has 1 error: fix it to see decisions." || len(r.Requests) != 0 || r.Requests == nil {
		t.Errorf("a policy with errors: %+v", r)
	}
	if r := Eval("", "lookup example.com", "eth0"); !strings.HasPrefix(r.Unavailable, "interfaces: ") {
		t.Errorf("a bad interface table: %+v", r)
	}
}

func TestParseInterfaces(t *testing.T) {
	x, err := ParseInterfaces(" lo=127.0.0.1/8,::1/128;\neth0=192.0.2.10/24 eth0=[2001:db8::10]/64\t")
	if err != nil {
		t.Fatal(err)
	}
	if got := x.Names(); strings.Join(got, " ") != "eth0 lo" {
		t.Errorf("names %v", got)
	}
	if got := x.Addrs("eth0"); len(got) != 2 || !x.IsLoopback("lo") {
		t.Errorf("eth0 owns %v; lo loopback %v", got, x.IsLoopback("lo"))
	}
	for _, bad := range []string{"eth0", "eth0=", "=10.0.0.1", "eth0=10.0.0.1/33", "1eth=10.0.0.1"} {
		if _, err := ParseInterfaces(bad); err == nil {
			t.Errorf("ParseInterfaces(%q) accepted", bad)
		}
	}
	if x, err := ParseInterfaces(""); err != nil || len(x.Names()) != 0 {
		t.Errorf("an empty table: %v, %v", x.Names(), err)
	}
}

func TestAnalyzeBadInterfaces(t *testing.T) {
	a := Analyze(Input{Policy: "--allow-inbound=tcp://eth0:80", Requests: "listen tcp eth0:80", Old: "", Interfaces: "eth0=nonsense"})
	if !strings.HasPrefix(a.Eval.Unavailable, "interfaces: ") {
		t.Errorf("a bad interface table gives %q", a.Eval.Unavailable)
	}
	if a.Canonical.Unavailable != "" || a.Explanation.Unavailable != "" || a.Diff.Unavailable != "" {
		t.Errorf("the interface table does not concern fmt, explain and diff: %+v %+v %+v", a.Canonical, a.Explanation, a.Diff)
	}
}
