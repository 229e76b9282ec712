package lint

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
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
		changes := spellingChanges(r)
		if len(changes) == 0 {
			continue
		}
		canon := canonicalSpelling(r)
		f := p.Flag(r)
		var edits []diag.TextEdit
		twoOrigins := f != nil && len(f.Words) > 1 && f.Words[0].Origin != f.Words[1].Origin
		if twoOrigins {
			edits = replaceRuleValue(p.Input, f, canon)
		} else {
			for _, c := range changes {
				rng := r.RangeOf(c.start, c.end)
				if c.start == r.Flag.End && r.Flag.Form == ast.TwoWords && f != nil && len(f.Words) > 1 {
					// The blanks between the two words, whatever they are.
					rng = diag.Range{Origin: f.Words[0].Origin, Start: f.Words[0].End, End: f.Words[1].Start}
				}
				edits = append(edits, diag.TextEdit{Range: rng, NewText: c.text})
			}
		}
		whys := make([]string, len(changes))
		for i, c := range changes {
			whys[i] = c.why
		}
		first, last := changes[0], changes[len(changes)-1]
		rng := r.RangeOf(first.start, max(last.end, first.start))
		p.Report(diag.Diagnostic{
			Range:   rng,
			Summary: "noncanonical spelling: " + strings.Join(whys, "; "),
			Fixes:   []diag.Fix{{Message: "rewrite as " + canon, Edits: edits}},
		})
	}
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
		add(r.End, r.End, "#"+addFamily.String(), "add #%s", addFamily)
	}
	return out
}

// canonicalSpelling returns the flag of rule r in the spelling of SPEC
// §4.1 and §4.2: "--allow-X=SPEC" with each part canonical.
func canonicalSpelling(r *ast.Rule) string {
	var b strings.Builder
	b.WriteString(r.Kind().FlagName())
	b.WriteByte('=')
	if r.Scheme != nil {
		b.WriteString(strings.ToLower(r.Scheme.Raw))
		b.WriteString("://")
	}
	fam := r.FamilyValue()
	if r.Ellipsis != nil {
		b.WriteString("*:*")
	}
	if r.Host != nil {
		h, f := canonicalHost(r)
		b.WriteString(h)
		if f != ast.AnyFamily {
			fam = f
		}
	}
	if r.HostMap != nil {
		b.WriteString("->")
		b.WriteString(addrText(r.HostMap.Addr))
	}
	if pl := r.Ports; pl != nil {
		b.WriteByte(':')
		switch {
		case pl.Any:
			b.WriteByte('*')
		case r.PortMap != nil:
			b.WriteString(portItemText(pl.Items[0].Lo, pl.Items[0].Hi))
		default:
			b.WriteString(canonicalPorts(r.Kind(), pl.Items))
		}
	}
	if m := r.PortMap; m != nil && m.Item != nil {
		b.WriteString("->")
		b.WriteString(portItemText(m.Item.Lo, m.Item.Hi))
	}
	if fam != ast.AnyFamily && impliedFamily(r) != fam {
		b.WriteString("#" + fam.String())
	}
	return b.String()
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
