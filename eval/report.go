package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

// Result is one decided request, explained.
type Result struct {
	Item        Item
	Decision    Decision
	Explanation Explanation
	// Given are the answers a recorded lookup gave the guest.
	Given []netip.Addr
	// Via is the recorded name a bare address was resolved from.
	Via string
}

// Run decides items in order, as one guest making the requests: a lookup
// with recorded answers records those it gives the guest, and a later
// connect or send to one of them counts as resolved from the name. Each
// decision is explained with the reference engine.
func Run(p *policy.Policy, ifaces *Interfaces, items []Item) []Result {
	ref := NewReference(p, ifaces)
	tracker := NewTracker(NewIndex(p, ifaces))
	results := make([]Result, len(items))
	for i, it := range items {
		r := Result{Item: it}
		q := it.Request
		if q.Op == Lookup && it.Answers != nil {
			r.Decision, r.Given = tracker.Lookup(q, it.Answers)
		} else {
			r.Decision, r.Via = tracker.DecideVia(q)
		}
		if r.Via != "" {
			q.Name = r.Via
		}
		r.Explanation = ref.Explain(q)
		results[i] = r
	}
	return results
}

// hostSide writes where the host connects or listens, after mappings.
func hostSide(q Request, d Decision) string {
	port := strconv.Itoa(int(d.HostPort))
	if d.HostAddr.IsValid() {
		return AddrPort(d.HostAddr, d.HostPort)
	}
	switch {
	case (q.Op == Connect || q.Op == Send) && d.HostPort == 0:
		return q.Name + " (the address DNS gives; the host port depends on it)"
	case q.Op == Connect || q.Op == Send:
		return q.Name + ":" + port + " (the address DNS gives)"
	case q.Local == LocalInterface:
		return q.Name + ":" + port
	}
	return "*:" + port
}

// requestHasFamily reports whether a request names its family (an
// address, or a lookup of one family).
func requestHasFamily(q Request) bool {
	return q.Addr.IsValid() || q.Op == Lookup && q.Family != 0
}

// ruleLine writes a rule for text output: "rule 2 at argv[3]:1: --allow-...".
func ruleLine(r *policy.Rule, pal *diag.Palette) string {
	s := fmt.Sprintf("rule %d at %s: %s", r.Index+1, pal.Gutter.Sprint(r.Range()), r.Text())
	if r.IsImplied() {
		s += " (implies " + r.String() + ")"
	}
	return s
}

// WriteText writes results for people: per request "allow" or "deny" and
// the request, then the rules that allowed it (the deciding one first as
// "by"), the families, the host side; or the nearest rules and why each
// missed, and notes.
func WriteText(w io.Writer, results []Result, pal *diag.Palette) error {
	var b strings.Builder
	const indent = "       "
	for _, r := range results {
		q, d, x := r.Item.Request, r.Decision, r.Explanation
		if d.Allowed {
			fmt.Fprintf(&b, "%s  %s\n", pal.Help.Sprint("allow"), r.Item.Text)
		} else {
			fmt.Fprintf(&b, "%s   %s\n", pal.Error.Sprint("deny"), r.Item.Text)
		}
		if d.Invalid != nil {
			fmt.Fprintf(&b, "%sinvalid request: %v\n", indent, d.Invalid)
			continue
		}
		if d.Allowed {
			if d.NoRuleNeeded {
				fmt.Fprintf(&b, "%sno rule needed: a lookup of an IP literal sends no query\n", indent)
			}
			for _, m := range x.Allowing {
				word := "also"
				if m.Decides {
					word = "by"
				}
				fmt.Fprintf(&b, "%s%s %s\n", indent, word, ruleLine(m.Rule, pal))
			}
			if !requestHasFamily(q) {
				fmt.Fprintf(&b, "%sfamilies: %s\n", indent, d.Families)
			}
			if r.Via != "" {
				fmt.Fprintf(&b, "%sresolved from %s (recorded lookup)\n", indent, r.Via)
			}
			switch {
			case q.Op == Lookup && r.Item.Answers != nil:
				fmt.Fprintf(&b, "%sanswers given: %s\n", indent, joinAddrs(r.Given))
			case q.Op == Lookup:
				if as := answers(d); len(as) > 0 && !d.NoRuleNeeded {
					fmt.Fprintf(&b, "%sanswer without DNS: %s\n", indent, joinAddrs(as))
				}
			default:
				fmt.Fprintf(&b, "%shost side: %s\n", indent, hostSide(q, d))
			}
			continue
		}
		for _, m := range x.Nearest {
			fmt.Fprintf(&b, "%s%s\n", indent, ruleLine(m.Rule, pal))
			for _, reason := range m.Reasons {
				fmt.Fprintf(&b, "%s  %s\n", indent, reason)
			}
		}
		for _, n := range x.Notes {
			fmt.Fprintf(&b, "%snote: %s\n", indent, n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// answers lists a decision's answers given without DNS.
func answers(d Decision) []netip.Addr {
	var out []netip.Addr
	for _, a := range d.Answers {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

func joinAddrs(as []netip.Addr) string {
	if len(as) == 0 {
		return "none"
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// JSON output of capspec eval (docs/md).

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
	Request      string         `json:"request"`
	Input        diag.JSONRange `json:"input"`
	Decision     string         `json:"decision"`
	Invalid      string         `json:"invalid,omitempty"`
	Families     []string       `json:"families"`
	Rule         *jsonEvalRule  `json:"rule"`
	AllowedBy    []jsonEvalRule `json:"allowed_by"`
	NoRuleNeeded bool           `json:"no_rule_needed,omitempty"`
	Host         string         `json:"host,omitempty"`
	HostAddress  string         `json:"host_address,omitempty"`
	HostPort     *int           `json:"host_port,omitempty"`
	Answers      []string       `json:"answers,omitempty"`
	Recorded     []string       `json:"recorded,omitempty"`
	ResolvedFrom string         `json:"resolved_from,omitempty"`
	Nearest      []jsonEvalRule `json:"nearest"`
	Notes        []string       `json:"notes"`
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

// WriteJSON writes one JSON object per result (docs/eval.md).
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range results {
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
			for _, m := range x.Allowing {
				jr := jsonEvalRuleOf(m.Rule)
				jr.Families = m.Families.List()
				j.AllowedBy = append(j.AllowedBy, jr)
				if m.Decides {
					j.Rule = &jr
				}
			}
			if q.Op != Lookup {
				j.Host = hostSide(q, d)
				if d.HostAddr.IsValid() {
					j.HostAddress = d.HostAddr.String()
				}
				if port := int(d.HostPort); port != 0 || q.Op == Listen || q.Op == Bind {
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
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}
