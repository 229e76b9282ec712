package evalreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreq"
	"github.com/capspec/capspec/policy"
)

// Result is one decided request, explained.
type Result struct {
	Item evalreq.Item
	// Decision is the engine's (the tracker's, over an eval.Index).
	Decision eval.Decision
	// Explanation is the explainer's, for the request as decided (with the
	// recorded name a bare address was resolved from).
	Explanation Explanation
	// Given are the answers a lookup gave the guest (recorded ones with
	// "=>", or the mapping or loopback answer without DNS).
	Given []netip.Addr
	// Via is the recorded name a bare address was resolved from.
	Via string
}

// Runner decides request items in order, as one guest making the requests:
// every allowed lookup remembers the answers it gives the guest (the
// recorded ones of "lookup NAME => ADDR, ...", and a mapped name's
// mapping), so that a later connect or send to one of them counts as
// resolved from the name. Memory stays bounded whatever the number of
// requests: what the tracker remembers is (eval.TrackerOptions), and a
// Result is the caller's to write and drop.
type Runner struct {
	x *Explainer
	t *eval.Tracker
}

// NewRunner returns a runner for a compiled policy and an interface table
// (nil: none), whose tracker has the bounds of o.
func NewRunner(p *policy.Policy, ifaces *eval.Interfaces, o eval.TrackerOptions) *Runner {
	return &Runner{x: NewExplainer(p, ifaces), t: eval.NewTrackerWith(eval.NewIndex(p, ifaces), o)}
}

// Decide decides and explains one item.
func (rn *Runner) Decide(it evalreq.Item) Result {
	r := Result{Item: it}
	q := it.Request
	if q.Op == eval.Lookup {
		r.Decision, r.Given = rn.t.Lookup(q, it.Answers)
	} else {
		r.Decision, r.Via = rn.t.DecideVia(q)
	}
	if r.Via != "" {
		q.Name = r.Via
	}
	r.Explanation = rn.x.Explain(q)
	return r
}

// Writer writes results as they are made.
type Writer interface {
	Write(Result) error
	// Flush writes what is buffered.
	Flush() error
}

// maxListed is how many allowing rules a result lists besides the
// deciding one; the others are counted.
const maxListed = 8

// listed returns the allowing rules a result lists: the deciding one and
// up to maxListed others, in policy order, and how many are left out.
func listed(ms []Match) ([]Match, int) {
	if len(ms) <= maxListed+1 {
		return ms, 0
	}
	out := make([]Match, 0, maxListed+1)
	others := 0
	for _, m := range ms {
		if m.Decides || others < maxListed {
			out = append(out, m)
			if !m.Decides {
				others++
			}
		}
	}
	return out, len(ms) - len(out)
}

// hostSide writes where the host connects or listens, after mappings.
func hostSide(q eval.Request, d eval.Decision) string {
	port := strconv.Itoa(int(d.HostPort))
	if d.HostAddr.IsValid() {
		return eval.AddrPort(d.HostAddr, d.HostPort)
	}
	switch {
	case (q.Op == eval.Connect || q.Op == eval.Send) && d.HostPort == 0:
		return q.Name + " (the address DNS gives; the host port depends on it)"
	case q.Op == eval.Connect || q.Op == eval.Send:
		return q.Name + ":" + port + " (the address DNS gives)"
	case q.Local == eval.LocalInterface:
		return q.Name + ":" + port
	}
	return "*:" + port
}

// requestHasFamily reports whether a request names its family (an
// address, or a lookup of one family).
func requestHasFamily(q eval.Request) bool {
	return q.Addr.IsValid() || q.Op == eval.Lookup && q.Family != 0
}

// ruleLine writes a rule for text output: "rule 2 at argv[3]:1: --allow-...".
func ruleLine(r *policy.Rule, pal *diag.Palette) string {
	s := fmt.Sprintf("rule %d at %s: %s", r.Index+1, pal.Gutter.Sprint(r.Range()), r.Text())
	if r.IsImplied() {
		s += " (implies " + r.String() + ")"
	}
	return s
}

// TextWriter writes results for people: per request "allow" or "deny" and
// the request, then the rules that allow it (the deciding one as "by"),
// the families, the host side; or the nearest rules and why each missed,
// and notes.
type TextWriter struct {
	w   *bufio.Writer
	pal *diag.Palette
}

// NewTextWriter returns a TextWriter writing to w with the colors of pal.
func NewTextWriter(w io.Writer, pal *diag.Palette) *TextWriter {
	return &TextWriter{w: bufio.NewWriter(w), pal: pal}
}

// Flush writes what is buffered.
func (tw *TextWriter) Flush() error { return tw.w.Flush() }

// Write writes one result.
func (tw *TextWriter) Write(r Result) error {
	b, pal := tw.w, tw.pal
	const indent = "       "
	q, d, x := r.Item.Request, r.Decision, r.Explanation
	if d.Allowed {
		fmt.Fprintf(b, "%s  %s\n", pal.Help.Sprint("allow"), r.Item.Text)
	} else {
		fmt.Fprintf(b, "%s   %s\n", pal.Error.Sprint("deny"), r.Item.Text)
	}
	if d.Invalid != nil {
		_, err := fmt.Fprintf(b, "%sinvalid request: %v\n", indent, d.Invalid)
		return err
	}
	if d.Allowed {
		if d.NoRuleNeeded {
			fmt.Fprintf(b, "%sno rule needed: a lookup of an IP literal sends no query\n", indent)
		}
		ms, more := listed(x.Allowing)
		for _, m := range ms {
			word := "also"
			if m.Decides {
				word = "by"
			}
			fmt.Fprintf(b, "%s%s %s\n", indent, word, ruleLine(m.Rule, pal))
		}
		if more > 0 {
			fmt.Fprintf(b, "%sand %d more rules allow it\n", indent, more)
		}
		if !requestHasFamily(q) {
			fmt.Fprintf(b, "%sfamilies: %s\n", indent, d.Families)
		}
		if r.Via != "" {
			fmt.Fprintf(b, "%sresolved from %s (recorded lookup)\n", indent, r.Via)
		}
		switch {
		case q.Op == eval.Lookup && r.Item.Answers != nil:
			fmt.Fprintf(b, "%sanswers given: %s\n", indent, joinAddrs(r.Given, "none"))
		case q.Op == eval.Lookup:
			if as := answers(d); len(as) > 0 && !d.NoRuleNeeded {
				fmt.Fprintf(b, "%sanswer without DNS: %s\n", indent, joinAddrs(as, "none"))
			}
		default:
			fmt.Fprintf(b, "%shost side: %s\n", indent, hostSide(q, d))
		}
		return nil
	}
	for _, m := range x.Nearest {
		fmt.Fprintf(b, "%s%s\n", indent, ruleLine(m.Rule, pal))
		for _, reason := range m.Reasons {
			fmt.Fprintf(b, "%s  %s\n", indent, reason)
		}
	}
	for _, n := range x.Notes {
		fmt.Fprintf(b, "%snote: %s\n", indent, n)
	}
	return nil
}

// answers lists a decision's answers given without DNS.
func answers(d eval.Decision) []netip.Addr {
	var out []netip.Addr
	for _, a := range d.Answers {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

// JSON output of capspec eval (docs/eval.md).

type jsonEvalRule struct {
	Index     int            `json:"index"`
	Flag      string         `json:"flag"`
	Canonical string         `json:"canonical"`
	Kind      string         `json:"kind"`
	Range     diag.JSONRange `json:"range"`
	// Implied is the resolve rule an outbound rule implies, when that is
	// what allowed a lookup.
	Implied  string   `json:"implied,omitempty"`
	Families []string `json:"families,omitempty"`
	Reasons  []string `json:"reasons,omitempty"`
}

type jsonEvalResult struct {
	Request       string         `json:"request"`
	Input         diag.JSONRange `json:"input"`
	Decision      string         `json:"decision"`
	Invalid       string         `json:"invalid,omitempty"`
	Families      []string       `json:"families"`
	Rule          *jsonEvalRule  `json:"rule"`
	AllowedBy     []jsonEvalRule `json:"allowed_by"`
	MoreAllowedBy int            `json:"more_allowed_by,omitempty"`
	NoRuleNeeded  bool           `json:"no_rule_needed,omitempty"`
	Host          string         `json:"host,omitempty"`
	HostAddress   string         `json:"host_address,omitempty"`
	HostPort      *int           `json:"host_port,omitempty"`
	Answers       []string       `json:"answers,omitempty"`
	Recorded      []string       `json:"recorded,omitempty"`
	ResolvedFrom  string         `json:"resolved_from,omitempty"`
	Nearest       []jsonEvalRule `json:"nearest"`
	Notes         []string       `json:"notes"`
}

func jsonEvalRuleOf(r *policy.Rule) jsonEvalRule {
	j := jsonEvalRule{Index: r.Index, Flag: r.Text(), Canonical: r.String(), Kind: r.Kind.String(), Range: diag.RangeJSON(r.Range())}
	if r.IsImplied() {
		j.Flag, j.Canonical, j.Kind = r.ImpliedBy.Text(), r.ImpliedBy.String(), r.ImpliedBy.Kind.String()
		j.Implied = r.String()
	}
	return j
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// JSONWriter writes one JSON object per result, one per line (docs/eval.md).
type JSONWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewJSONWriter returns a JSONWriter writing to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONWriter{w: bw, enc: enc}
}

// Flush writes what is buffered.
func (jw *JSONWriter) Flush() error { return jw.w.Flush() }

// Write writes one result.
func (jw *JSONWriter) Write(r Result) error {
	q, d, x := r.Item.Request, r.Decision, r.Explanation
	j := jsonEvalResult{Request: q.String(), Input: diag.RangeJSON(r.Item.Range), Decision: "deny",
		Families: d.Families.List(), AllowedBy: []jsonEvalRule{}, Nearest: []jsonEvalRule{}, Notes: x.Notes,
		NoRuleNeeded: d.NoRuleNeeded, ResolvedFrom: r.Via}
	if j.Families == nil {
		j.Families = []string{}
	}
	if j.Notes == nil {
		j.Notes = []string{}
	}
	if d.Invalid != nil {
		j.Invalid = d.Invalid.Error()
	}
	if d.Allowed {
		j.Decision = "allow"
		ms, more := listed(x.Allowing)
		j.MoreAllowedBy = more
		for _, m := range ms {
			jr := jsonEvalRuleOf(m.Rule)
			jr.Families = m.Families.List()
			j.AllowedBy = append(j.AllowedBy, jr)
			if m.Decides {
				j.Rule = &jr
			}
		}
		if q.Op != eval.Lookup {
			j.Host = hostSide(q, d)
			if d.HostAddr.IsValid() {
				j.HostAddress = d.HostAddr.String()
			}
			if port := int(d.HostPort); port != 0 || q.Op == eval.Listen || q.Op == eval.Bind {
				j.HostPort = &port
			}
		} else if !d.NoRuleNeeded {
			j.Answers = addrStrings(answers(d))
		}
		if r.Item.Answers != nil {
			j.Recorded = addrStrings(r.Given)
		}
	} else {
		for _, m := range x.Nearest {
			jr := jsonEvalRuleOf(m.Rule)
			jr.Reasons = m.Reasons
			j.Nearest = append(j.Nearest, jr)
		}
	}
	return jw.enc.Encode(j)
}
