package lint

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
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
lists sorted and merged, with the full range written *. The fix rewrites each
part in place; capspec fmt also merges, subsumes and orders rules.`,
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
	for _, r := range p.Policy.Rules {
		canon := policy.CompileRule(r).String()
		if canon == r.Text {
			continue
		}
		f := p.Flag(r)
		changes := spellingChanges(r)
		// Edit part by part when that spells the rule as package policy
		// does; otherwise rewrite the whole flag.
		perPart := applyChanges(r, changes) == canon && f != nil &&
			(len(f.Words) < 2 || f.Words[0].Origin == f.Words[1].Origin)
		var edits []diag.TextEdit
		whys := []string{"write " + canon}
		rng := r.Range(r)
		if perPart {
			whys = whys[:0]
			for _, c := range changes {
				cr := r.RangeOf(c.start, c.end)
				if c.start == r.Flag.End && r.Flag.Form == ast.TwoWords && len(f.Words) > 1 {
					// The blanks between the two words, whatever they are.
					cr = diag.Range{Origin: f.Words[0].Origin, Start: f.Words[0].End, End: f.Words[1].Start}
				}
				edits = append(edits, diag.TextEdit{Range: cr, NewText: c.text})
				if c.why != "" {
					whys = append(whys, c.why)
				}
			}
			first, last := changes[0], changes[len(changes)-1]
			rng = r.RangeOf(first.start, max(last.end, first.start))
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

// applyChanges returns the rule's text with the changes made.
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

// spellingChanges returns the parts of a rule that SPEC §4.1 and §4.2
// rewrite, in order.
func spellingChanges(r *ast.Rule) []spellingChange {
	var out []spellingChange
	add := func(start, end int, text, format string, args ...any) {
		out = append(out, spellingChange{start: start, end: end, text: text, why: fmt.Sprintf(format, args...)})
	}
	if r.Flag.Form == ast.TwoWords {
		add(r.Flag.End, r.Flag.End+1, "=", "write %s=VALUE, not two words", r.Kind().FlagName())
	}
	if r.Scheme != nil {
		if low := strings.ToLower(r.Scheme.Raw); low != r.Scheme.Raw {
			add(r.Scheme.Start, r.Scheme.Start+len(r.Scheme.Raw), low, "write the scheme %s in lowercase", r.Scheme.Raw)
		}
	}
	addFamily := ast.AnyFamily
	if r.Ellipsis != nil {
		add(r.Ellipsis.Start, r.Ellipsis.End, "*:*", "write ... as *:*")
	}
	if h := r.Host; h != nil {
		canon, fam := canonicalHost(r)
		if canon != h.Raw {
			why := fmt.Sprintf("write %s as %s", h.Raw, canon)
			if fam != ast.AnyFamily {
				why = fmt.Sprintf("write inbound %s as *#%s", h.Raw, fam)
				if r.Family == nil {
					addFamily = fam
				}
			}
			add(h.Start, h.End, canon, "%s", why)
		}
	}
	if m := r.HostMap; m != nil {
		if canon := addrText(m.Addr); canon != m.Raw {
			add(m.Arrow.End, m.End, canon, "write %s as %s", m.Raw, canon)
		}
	}
	if pl := r.Ports; pl != nil && !pl.Any && len(pl.Items) > 0 {
		written := pl.String()
		var canon string
		if r.PortMap != nil {
			canon = portItemText(pl.Items[0].Lo, pl.Items[0].Hi)
		} else {
			canon = canonicalPorts(r.Kind(), pl.Items)
		}
		if canon != written {
			first, last := pl.Items[0], pl.Items[len(pl.Items)-1]
			add(first.Start, last.End, canon, "write the ports %s as %s", written, canon)
		}
	}
	if m := r.PortMap; m != nil && m.Item != nil {
		if canon := portItemText(m.Item.Lo, m.Item.Hi); canon != m.Item.Raw {
			add(m.Item.Start, m.Item.End, canon, "write the host port %s as %s", m.Item.Raw, canon)
		}
	}
	if fm := r.Family; fm != nil && impliedFamily(r) == fm.Family {
		add(fm.Start, fm.End, "", "drop %s: the address already implies it", fm.Raw)
	}
	if addFamily != ast.AnyFamily {
		add(r.End, r.End, "#"+addFamily.String(), "") // said with the host
	}
	return out
}

// canonicalHost returns the canonical spelling of a rule's host, and the
// family an inbound unspecified address stands for.
func canonicalHost(r *ast.Rule) (string, ast.Family) {
	h := r.Host
	switch h.Kind {
	case ast.HostAny:
		return "*", ast.AnyFamily
	case ast.HostWildcard:
		return "*." + h.Name, ast.AnyFamily
	case ast.HostDomain, ast.HostLocalhost:
		return h.Name, ast.AnyFamily
	case ast.HostInterface:
		return h.Iface, ast.AnyFamily
	case ast.HostIPv4, ast.HostIPv6:
		if r.Kind() == ast.Inbound && h.Addr.IsUnspecified() {
			if h.Addr.Is4() {
				return "*", ast.IPv4Only
			}
			return "*", ast.IPv6Only
		}
		return addrText(h.Addr), ast.AnyFamily
	case ast.HostCIDR:
		if h.Prefix.IsSingleIP() {
			return addrText(h.Prefix.Addr()), ast.AnyFamily
		}
		if h.Prefix.Addr().Is4() {
			return h.Prefix.String(), ast.AnyFamily
		}
		return "[" + h.Prefix.String() + "]", ast.AnyFamily
	}
	return h.Raw, ast.AnyFamily
}

// impliedFamily returns the family a rule's host literal implies, or
// AnyFamily.
func impliedFamily(r *ast.Rule) ast.Family {
	h := r.Host
	if h == nil {
		return ast.AnyFamily
	}
	var a netip.Addr
	switch h.Kind {
	case ast.HostIPv4, ast.HostIPv6:
		if r.Kind() == ast.Inbound && h.Addr.IsUnspecified() {
			return ast.AnyFamily
		}
		a = h.Addr
	case ast.HostCIDR:
		a = h.Prefix.Addr()
	default:
		if r.HostMap == nil {
			return ast.AnyFamily
		}
		a = r.HostMap.Addr
	}
	if r.HostMap != nil && r.HostMap.Addr.Is4() != a.Is4() {
		return ast.AnyFamily
	}
	if a.Is4() {
		return ast.IPv4Only
	}
	return ast.IPv6Only
}

// addrText writes an address as a rule does: IPv4 dotted, IPv6 in RFC
// 5952 form in brackets.
func addrText(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	return "[" + a.String() + "]"
}

// portItemText writes a port or a range.
func portItemText(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
}

// canonicalPorts writes a port list as SPEC §4.2 does: sorted, without
// duplicates, overlapping and adjacent items merged into ranges, and the
// full set of the direction (outbound 1-65535, inbound 0-65535) as "*".
func canonicalPorts(kind ast.Kind, items []*ast.PortItem) string {
	type rng struct{ lo, hi int }
	rs := make([]rng, len(items))
	for i, it := range items {
		rs[i] = rng{it.Lo, it.Hi}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo < rs[j].lo || rs[i].lo == rs[j].lo && rs[i].hi < rs[j].hi })
	merged := rs[:0:0]
	for _, x := range rs {
		if n := len(merged); n > 0 && x.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, x.hi)
			continue
		}
		merged = append(merged, x)
	}
	full := rng{1, 65535}
	if kind == ast.Inbound {
		full = rng{0, 65535}
	}
	if len(merged) == 1 && merged[0] == full {
		return "*"
	}
	parts := make([]string, len(merged))
	for i, x := range merged {
		parts[i] = portItemText(x.lo, x.hi)
	}
	return strings.Join(parts, ",")
}
