package lint

import (
	"fmt"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var noncanonicalSpellingRule = Rule{
	ID:       "CS305",
	Name:     "noncanonical-spelling",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "anything the spelling and port steps of capspec fmt (SPEC §4.1, §4.2) would rewrite; fix: the rewrite",
		Rationale: `One spelling per meaning makes policies easy to compare, review and grep: the
--allow-X=SPEC form, lowercase scheme and names, A-labels without a trailing
dot, IPv6 in RFC 5952 form, /32 and /128 written as the address, ports without
leading zeros, ... written *:*, inbound 0.0.0.0 and [::] written *#ipv4-only
and *#ipv6-only, no family modifier that the address already implies, and port
lists sorted and merged, with the full range written *. The rule reports
exactly the flags whose spelling capspec fmt changes, and its fix writes what
fmt writes (the spelling of package policy); fmt also merges, subsumes and
orders rules.`,
		Bad:  "--allow-outbound=TCP://Example.COM.:443,80\n",
		Good: "--allow-outbound=tcp://example.com:80,443\n",
	},
	Run: runNoncanonicalSpelling,
}

// spellingChange is one part of a rule whose spelling is not canonical:
// bytes [start, end) of the rule's text become text.
type spellingChange struct {
	start, end int
	text       string
	why        string
}

func runNoncanonicalSpelling(p *Pass) {
	for _, r := range p.Rules() {
		ar := r.Source
		spelling := r.Spelling()
		canon := spelling.String()
		if canon == ar.Text {
			continue
		}
		f := p.Flag(ar)
		changes := spellingChanges(ar, spelling)
		// Edit part by part when the words of the flag lie in one origin;
		// otherwise rewrite the whole flag. Either way the fix writes canon.
		perPart := len(changes) > 0 && applyChanges(ar, changes) == canon && f != nil &&
			(len(f.Words) < 2 || f.Words[0].Origin == f.Words[1].Origin)
		var edits []diag.TextEdit
		whys := []string{"write " + canon}
		rng := ar.Range(ar)
		if perPart {
			whys = whys[:0]
			for _, c := range changes {
				cr := ar.RangeOf(c.start, c.end)
				if c.start == ar.Flag.End && ar.Flag.Form == ast.TwoWords && len(f.Words) > 1 {
					// The blanks between the two words, whatever they are.
					w0, w1 := f.Words[0], f.Words[1]
					cr = diag.Range{Origin: w0.Origin, Kind: w0.Kind, Start: w0.End, End: w1.Start}
				}
				edits = append(edits, diag.TextEdit{Range: cr, NewText: c.text})
				if c.why != "" {
					whys = append(whys, c.why)
				}
			}
			first, last := changes[0], changes[len(changes)-1]
			rng = ar.RangeOf(first.start, max(last.end, first.start))
		} else if f != nil {
			edits = replaceRuleValue(p.Input, f, canon)
		}
		var fixes []diag.Fix
		if len(edits) > 0 {
			fixes = []diag.Fix{{Message: "rewrite as " + canon, Edits: edits}}
		}
		p.Report(diag.Diagnostic{Range: rng, Summary: "noncanonical spelling: " + strings.Join(whys, "; "), Fixes: fixes})
	}
}

// applyChanges returns the rule's text with the changes made, or "" when
// they overlap.
func applyChanges(r *ast.Rule, changes []spellingChange) string {
	var b strings.Builder
	last := 0
	for _, c := range changes {
		if c.start < last {
			return ""
		}
		b.WriteString(r.Text[last:c.start])
		b.WriteString(c.text)
		last = c.end
	}
	b.WriteString(r.Text[last:])
	return b.String()
}

// spellingChanges lines up the parts of a flag as written with the parts
// of its canonical spelling (policy.Spelling) and returns the parts that
// differ, in order. It decides nothing about spelling itself.
func spellingChanges(r *ast.Rule, s policy.Spelling) []spellingChange {
	var out []spellingChange
	part := func(sp ast.Span, canon, why string) {
		if written := r.Text[sp.Start:sp.End]; written != canon {
			out = append(out, spellingChange{start: sp.Start, end: sp.End, text: canon, why: why})
		}
	}
	if r.Flag.Form == ast.TwoWords {
		out = append(out, spellingChange{start: r.Flag.End, end: r.Flag.End + 1, text: "=",
			why: fmt.Sprintf("write %s=VALUE, not two words", r.Kind().FlagName())})
	}
	if sc := r.Scheme; sc != nil {
		part(sc.Span, s.Scheme, fmt.Sprintf("write the scheme %s in lowercase", sc.Raw))
	}
	if e := r.Ellipsis; e != nil {
		part(e.Span, s.Host+s.Ports, "write ... as "+strings.TrimPrefix(s.Host+s.Ports, ":"))
	}
	familyAdded := r.Family == nil && s.Family != ""
	if h := r.Host; h != nil {
		why := fmt.Sprintf("write %s as %s", h.Raw, s.Host)
		if familyAdded {
			why = fmt.Sprintf("write inbound %s as %s%s", h.Raw, s.Host, s.Family)
		}
		part(h.Span, s.Host, why)
	}
	if m := r.HostMap; m != nil {
		part(m.Span, s.HostMap, fmt.Sprintf("write %s as %s", m.Raw, strings.TrimPrefix(s.HostMap, "->")))
	}
	if pl := r.Ports; pl != nil {
		part(pl.Span, s.Ports, fmt.Sprintf("write the ports %s as %s", pl.String(), strings.TrimPrefix(s.Ports, ":")))
	}
	if m := r.PortMap; m != nil {
		part(m.Span, s.PortMap, fmt.Sprintf("write the host port %s as %s", m.Item.Raw, strings.TrimPrefix(s.PortMap, "->")))
	}
	switch fm := r.Family; {
	case fm != nil && s.Family == "":
		part(fm.Span, "", fmt.Sprintf("drop %s: the address already implies it", fm.Raw))
	case fm != nil:
		part(fm.Span, s.Family, fmt.Sprintf("write %s as %s", fm.Raw, s.Family))
	case familyAdded:
		out = append(out, spellingChange{start: r.End, end: r.End, text: s.Family}) // said with the host
	}
	return out
}
