package eval_test

import (
	"fmt"
	"testing"

	. "github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreq"
	"github.com/capspec/capspec/internal/policygen"
)

// summary writes a decision compactly for table tests:
// "deny", or "allow rN [families] [host-side address] [=answers]".
func summary(q Request, d Decision) string {
	if d.Invalid != nil {
		return "invalid: " + d.Invalid.Error()
	}
	if !d.Allowed {
		return "deny"
	}
	s := "allow"
	if d.NoRuleNeeded {
		s += " free"
	} else {
		s += fmt.Sprintf(" r%d", d.Rule)
	}
	if d.Families != 3 && !q.Addr.IsValid() {
		s += " " + d.Families.String()
	}
	switch {
	case d.HostAddr.IsValid() && (q.Op != Lookup):
		if q.Addr != d.HostAddr || d.HostPort != q.Port || q.Addr.Is4In6() {
			s += " " + AddrPort(d.HostAddr, d.HostPort)
		}
	case d.HostPort != q.Port && q.Op != Lookup:
		s += fmt.Sprintf(" :%d", d.HostPort)
	}
	for _, a := range d.Answers {
		if a.IsValid() {
			s += " =" + a.String()
		}
	}
	return s
}

type reqCase struct{ req, want string }

// checkRequests decides request lines against flags with both engines.
func checkRequests(t *testing.T, name string, flags []string, cases []reqCase) {
	t.Helper()
	p, ds := policygen.Compile(t, flags)
	if len(p.Rules) != len(flags) || len(ds) > 0 {
		t.Fatalf("%s: policy did not compile cleanly: %d of %d rules, %v", name, len(p.Rules), len(flags), ds)
	}
	ifaces := policygen.Interfaces()
	ref, idx := NewReference(p, ifaces), NewIndex(p, ifaces)
	for _, c := range cases {
		it, err := evalreq.ParseRequest(c.req)
		if err != nil {
			t.Errorf("%s: ParseRequest(%q): %v", name, c.req, err)
			continue
		}
		a, b := ref.Decide(it.Request), idx.Decide(it.Request)
		if got := summary(it.Request, a); got != c.want {
			t.Errorf("%s: %s\n  got  %s\n  want %s", name, c.req, got, c.want)
		}
		if !policygen.SameDecision(a, b) {
			t.Errorf("%s: %s: engines differ: %+v vs %+v", name, c.req, a, b)
		}
	}
}

func joinLines(ss []string) string {
	out := ""
	for _, s := range ss {
		out += "  " + s + "\n"
	}
	return out
}
