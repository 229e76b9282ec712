package enforce

import (
	"fmt"
	"strings"
	"sync"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// DeniedError is a request the policy denies. Recognise it with errors.As
// (or errors.Is(err, ErrDenied)); it is wrapped in a *net.OpError when a
// dial or listen returns it.
type DeniedError struct {
	// Request is the request denied, as decided (SPEC §3.6 syntax with
	// Request.String).
	Request eval.Request
	// Decision is the decision on it (Allowed is false).
	Decision eval.Decision
	// Policy is the policy that denied it.
	Policy *policy.Policy

	st     *state
	detail string // set when the reason is not the policy's (a checked socket's address)
	once   sync.Once
	reason string
}

// denied returns the denial of q by st.
func denied(st *state, q eval.Request, d eval.Decision) *DeniedError {
	d.Allowed = false
	return &DeniedError{Request: q, Decision: d, Policy: st.p, st: st}
}

// Error says which request was denied and why: "capspec: connect tcp
// 127.0.0.1:80 denied: ...".
func (e *DeniedError) Error() string {
	return "capspec: " + e.Request.String() + " denied: " + e.Reason()
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Reason says why the request was denied, on one line: the nearest rules
// and why each did not match, and notes (as capspec eval explains a
// denial). It is computed on first use.
func (e *DeniedError) Reason() string {
	e.once.Do(func() {
		switch {
		case e.detail != "":
			e.reason = e.detail
		case e.Decision.Invalid != nil:
			e.reason = "invalid request: " + e.Decision.Invalid.Error()
		case e.st == nil:
			e.reason = "no rule allows it"
		default:
			e.reason = explainDenial(e.st, e.Request)
		}
	})
	return e.reason
}

// explainDenial writes the explanation of a denied request on one line.
func explainDenial(st *state, q eval.Request) string {
	x := st.explain(q)
	var parts []string
	if len(x.Nearest) == 0 {
		parts = append(parts, "no rule allows it")
	}
	for _, m := range x.Nearest {
		s := fmt.Sprintf("rule %d at %s (%s)", m.Rule.Index+1, m.Rule.Range(), m.Rule.Text())
		if len(m.Reasons) > 0 {
			s += ": " + strings.Join(m.Reasons, ", ")
		}
		parts = append(parts, s)
	}
	if len(x.Nearest) > 0 {
		parts[0] = "nearest " + parts[0]
	}
	for _, n := range x.Notes {
		parts = append(parts, "note: "+n)
	}
	return strings.Join(parts, "; ")
}
