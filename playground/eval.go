package playground

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreport"
	"github.com/capspec/capspec/evalreq"
)

// DefaultInterfaces is the interface table the page starts with: a
// browser cannot read the machine's, so listens on addresses are decided
// with this one unless the user edits it.
const DefaultInterfaces = "lo=127.0.0.1/8,::1/128 eth0=192.0.2.10/24,2001:db8::10/64"

// ParseInterfaces reads an interface table: entries NAME=ADDRESS/LEN[,...]
// (as `capspec eval --iface` takes them) separated by blanks, newlines or
// ";". An empty text is an empty table.
func ParseInterfaces(text string) (*eval.Interfaces, error) {
	table := map[string][]netip.Prefix{}
	for _, spec := range strings.FieldsFunc(text, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == ';'
	}) {
		name, ps, err := evalreq.ParseInterface(spec)
		if err != nil {
			return nil, err
		}
		table[name] = append(table[name], ps...)
	}
	return eval.NewInterfaces(table), nil
}

// EvalResult is the decision on every request line.
type EvalResult struct {
	// Unavailable says why nothing was decided: a policy with errors, or an
	// interface table that cannot be read.
	Unavailable string `json:"unavailable,omitempty"`
	// Requests are the request lines in order (blank and comment lines left out).
	Requests []Decided `json:"requests"`
	Allowed  int       `json:"allowed"`
	Denied   int       `json:"denied"`
	Invalid  int       `json:"invalid"`
}

// Decided is one request line and its decision.
type Decided struct {
	// Line counts from 1; Start and End are the request's range in the
	// requests text, in UTF-16 code units.
	Line  int `json:"line"`
	Start int `json:"start"`
	End   int `json:"end"`
	// Request is the request as written, without comment (an invalid line:
	// the whole line, trimmed).
	Request string `json:"request"`
	// Decision is "allow", "deny", or "invalid" for a line that is no request.
	Decision string `json:"decision"`
	// Reason is what `capspec eval` prints under the request: the rules that
	// allowed it and the host side, or the nearest rules and why each
	// missed; for an invalid line, what is wrong with it.
	Reason string `json:"reason"`
}

// Eval decides request lines against a policy, with an interface table
// (see ParseInterfaces), as `capspec eval --requests` does.
func Eval(policyText, requests, interfaces string) EvalResult {
	return new(Session).Eval(policyText, requests, interfaces)
}

// eval decides the request lines against the document.
func (d *document) eval(requests string, ifaces *eval.Interfaces, ifaceErr error) EvalResult {
	res := EvalResult{Requests: []Decided{}}
	if why := d.refusal(d.errors, "decisions"); why != "" {
		res.Unavailable = why
		return res
	}
	if ifaceErr != nil {
		res.Unavailable = "interfaces: " + ifaceErr.Error()
		return res
	}
	items, bad := evalreq.ReadRequests(RequestsOrigin, requests)
	idx := newUTF16Index(requests)
	run := evalreport.NewRunner(d.policy, ifaces, eval.TrackerOptions{})
	for _, it := range items {
		r := run.Decide(it)
		x := Decided{Line: r.Item.Range.Start.Line, Start: idx.at(r.Item.Range.Start.Offset), End: idx.at(r.Item.Range.End.Offset),
			Request: r.Item.Text, Decision: "deny", Reason: reason(r)}
		if r.Decision.Allowed {
			x.Decision = "allow"
			res.Allowed++
		} else {
			res.Denied++
		}
		res.Requests = append(res.Requests, x)
	}
	for _, b := range bad {
		line := requestLine(requests, b.Range)
		res.Requests = append(res.Requests, Decided{Line: b.Range.Start.Line, Start: idx.at(b.Range.Start.Offset), End: idx.at(b.Range.End.Offset),
			Request: line, Decision: "invalid", Reason: fmt.Sprintf("%d:%d: %s", b.Range.Start.Line, b.Range.Start.Column, b.Summary)})
		res.Invalid++
	}
	sort.SliceStable(res.Requests, func(i, j int) bool { return res.Requests[i].Line < res.Requests[j].Line })
	return res
}

// reason is the text `capspec eval` prints under a request, unindented.
func reason(r evalreport.Result) string {
	var b strings.Builder
	w := evalreport.NewTextWriter(&b, diag.NewPalette(false))
	if err := w.Write(r); err != nil {
		return err.Error()
	}
	if err := w.Flush(); err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimPrefix(lines[i], "       ")
	}
	return strings.Join(lines[1:], "\n")
}

// requestLine returns the line of text holding a range, trimmed.
func requestLine(text string, r diag.Range) string {
	return strings.TrimSpace(diag.NewFile(RequestsOrigin, text).Line(r.Start.Line))
}
