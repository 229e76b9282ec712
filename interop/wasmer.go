package interop

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// wasmer's --net rules (docs/interop.md#wasmer): KIND:ACTION=EXPR, comma
// separated, with KIND dns, ipv4 or ipv6 and ACTION allow or deny. A
// request is allowed when some allow rule matches and no deny rule does.
// IP rules have ports and a direction (/in, /out, neither: both) and no
// protocol. A dns rule allows looking a name up (a glob "*x" is a raw
// suffix) and, once the name is resolved, connecting out to its addresses
// on the rule's ports.

type wasmerKind uint8

const (
	wasmerDNS wasmerKind = iota
	wasmerIPv4
	wasmerIPv6
)

type wasmerDir uint8

const (
	dirBoth wasmerDir = iota
	dirIn
	dirOut
)

type wasmerRule struct {
	kind    wasmerKind
	deny    bool
	domain  NamePattern
	anyIP   bool
	prefix  netip.Prefix
	anyPort bool
	lo, hi  int
	dir     wasmerDir
	entry   int
}

type wasmerModel struct {
	rules []wasmerRule
	all   int // entry of a bare --net (the whole host network), or -1
}

func (r wasmerRule) port(p int) bool { return r.anyPort || r.lo <= p && p <= r.hi }

func (r wasmerRule) socket(a netip.Addr, p int, in bool) bool {
	if r.kind == wasmerDNS || (r.kind == wasmerIPv4) != a.Is4() || !r.port(p) {
		return false
	}
	if r.dir == dirIn && !in || r.dir == dirOut && in {
		return false
	}
	return r.anyIP || r.prefix.Contains(a)
}

func (m *wasmerModel) socket(a netip.Addr, p int, in bool) int {
	if m.all >= 0 {
		return m.all
	}
	for _, r := range m.rules {
		if r.deny && r.socket(a, p, in) {
			return -1
		}
	}
	for _, r := range m.rules {
		if !r.deny && r.socket(a, p, in) {
			return r.entry
		}
	}
	return -1
}

func (m *wasmerModel) denied(a netip.Addr, p int) bool {
	for _, r := range m.rules {
		if r.deny && r.socket(a, p, false) {
			return true
		}
	}
	return false
}

// anyDenied reports whether a deny rule covers some outbound address of f on p.
func (m *wasmerModel) anyDenied(f policy.Families, p int) bool {
	for _, r := range m.rules {
		if r.deny && r.kind != wasmerDNS && r.dir != dirIn && r.port(p) && (r.kind == wasmerIPv4) == (f == policy.IPv4) {
			return true
		}
	}
	return false
}

// domain returns the entry of the allow dns rule matching name (with port
// p, or any port for p < 0), or -1; a deny dns rule blocks the name.
func (m *wasmerModel) domain(name string, p int) int {
	if m.all >= 0 {
		return m.all
	}
	for _, r := range m.rules {
		if r.deny && r.kind == wasmerDNS && r.domain.Matches(name) {
			return -1
		}
	}
	for _, r := range m.rules {
		if !r.deny && r.kind == wasmerDNS && r.domain.Matches(name) && (p < 0 || r.port(p)) {
			return r.entry
		}
	}
	return -1
}

// Decide implements Decider. A dns rule is modelled as expanded for every
// name it matches, the most wasmer can allow (wasmer expands each rule
// once, for the first name looked up).
func (m *wasmerModel) Decide(q eval.Request) Verdict {
	v := Deny()
	port := int(q.Port)
	switch q.Op {
	case eval.Lookup:
		v.allow(policy.AllFamilies, m.domain(q.Name, -1))
	case eval.Connect, eval.Send:
		for i, f := range fams {
			if q.Addr.IsValid() && policy.FamilyOf(q.Addr) != f {
				continue
			}
			e := -1
			switch {
			case q.Addr.IsValid():
				e = m.socket(q.Addr, port, false)
				if e < 0 && q.Name != "" && m.domain(q.Name, -1) >= 0 && (q.Name != "localhost" || policy.IsLoopback(q.Addr)) && !m.denied(q.Addr, port) {
					e = m.domain(q.Name, port)
				}
			case m.domain(q.Name, -1) >= 0:
				if q.Name == "localhost" {
					if e = m.socket(loopback(f), port, false); e < 0 && !m.denied(loopback(f), port) {
						e = m.domain(q.Name, port)
					}
				} else if !m.anyDenied(f, port) {
					if e = m.domain(q.Name, port); e < 0 {
						e = m.everyAddr(f, port)
					}
				}
			}
			v.Entry[i] = e
		}
	default:
		for i, f := range fams {
			if a := localAddr(q, f); a.IsValid() {
				v.Entry[i] = m.socket(a, port, true)
			}
		}
	}
	return v
}

// everyAddr returns the entry of an allow rule covering every outbound
// address of f on port p, or -1.
func (m *wasmerModel) everyAddr(f policy.Families, p int) int {
	for _, r := range m.rules {
		if !r.deny && r.kind != wasmerDNS && r.dir != dirIn && r.port(p) && (r.kind == wasmerIPv4) == (f == policy.IPv4) && (r.anyIP || r.prefix.Bits() == 0) {
			return r.entry
		}
	}
	return -1
}

func (m *wasmerModel) bounds(b *bounds) {
	for _, r := range m.rules {
		if r.kind == wasmerDNS {
			b.name(r.domain)
		} else if !r.anyIP {
			b.prefix(r.prefix)
		}
		if !r.anyPort {
			b.portRange(r.lo, r.hi)
		}
	}
}

// readWasmer reads wasmer's --net and --net=RULES words.
func readWasmer(src Source) *Config {
	c := &Config{Target: "wasmer"}
	m := &wasmerModel{all: -1}
	c.model = m
	for _, w := range src.Words {
		name, value, hasValue := strings.Cut(w.Text, "=")
		if name != "--net" {
			continue
		}
		c.Words = append(c.Words, w.Text)
		f := diag.NewFile(w.Origin, w.Text)
		if !hasValue {
			m.all = len(c.Entries)
			c.Entries = append(c.Entries, Entry{Text: w.Text, Range: f.Range(0, len(w.Text))})
			continue
		}
		start := len(name) + 1
		for _, seg := range wasmerSegments(value) {
			r := f.Range(start+seg.start, start+seg.end)
			rules, err := parseWasmerRule(seg.text)
			if err != nil {
				c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, r, "wasmer rejects %q: %v", seg.text, err))
				continue
			}
			e := len(c.Entries)
			c.Entries = append(c.Entries, Entry{Text: seg.text, Range: r})
			for _, rule := range rules {
				rule.entry = e
				m.rules = append(m.rules, rule)
			}
		}
	}
	c.Text = strings.Join(c.Words, " ")
	return c
}

type segment struct {
	text       string
	start, end int
}

// wasmerSegments splits a ruleset where a comma starts a new rule
// (",dns:", ",ipv4:", ",ipv6:"), as wasmer's RuleExpr does.
func wasmerSegments(s string) []segment {
	var out []segment
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' && (strings.HasPrefix(s[i+1:], "dns:") || strings.HasPrefix(s[i+1:], "ipv4:") || strings.HasPrefix(s[i+1:], "ipv6:")) {
			out = append(out, segment{s[start:i], start, i})
			start = i + 1
		}
	}
	return out
}

func parseWasmerRule(seg string) ([]wasmerRule, error) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, seg)
	var kind wasmerKind
	switch {
	case strings.HasPrefix(s, "dns:"):
		kind, s = wasmerDNS, s[4:]
	case strings.HasPrefix(s, "ipv4:"):
		kind, s = wasmerIPv4, s[5:]
	case strings.HasPrefix(s, "ipv6:"):
		kind, s = wasmerIPv6, s[5:]
	default:
		return nil, fmt.Errorf("invalid rule type; rule type must be either dns, ipv4, or ipv6")
	}
	deny := false
	switch {
	case strings.HasPrefix(s, "allow="):
		s = s[6:]
	case strings.HasPrefix(s, "deny="):
		deny, s = true, s[5:]
	default:
		return nil, fmt.Errorf("invalid rule action; rule action must be either allow or deny")
	}
	var hosts, rest string
	var ok bool
	if kind == wasmerIPv6 {
		i := strings.LastIndexByte(s, ':')
		ok = i >= 0
		if ok {
			hosts, rest = s[:i], s[i+1:]
		}
	} else {
		hosts, rest, ok = strings.Cut(s, ":")
	}
	if !ok {
		return nil, fmt.Errorf("missing colon in rule")
	}
	dir := dirBoth
	if kind != wasmerDNS {
		if p, d, ok := strings.Cut(rest, "/"); ok {
			switch d {
			case "in":
				dir = dirIn
			case "out":
				dir = dirOut
			default:
				return nil, fmt.Errorf("invalid connection direction: %s", d)
			}
			rest = p
		}
	}
	var hostList []string
	if kind == wasmerIPv6 && strings.Contains(hosts, "[") {
		l, r := strings.IndexByte(hosts, '['), strings.LastIndexByte(hosts, ']')
		if r <= l {
			return nil, fmt.Errorf("single IPv6 entry is not enclosed in brackets")
		}
		hostList = []string{hosts[l+1 : r]}
	} else {
		hostList = wasmerList(hosts)
	}
	var out []wasmerRule
	for _, h := range hostList {
		base := wasmerRule{kind: kind, deny: deny, dir: dir}
		if kind == wasmerDNS {
			switch {
			case h == "*":
				base.domain = NamePattern{Kind: AnyName}
			case strings.HasPrefix(h, "*"):
				base.domain = NamePattern{Kind: Suffix, Text: strings.TrimSuffix(strings.ToLower(h[1:]), ".")}
			default:
				n, err := eval.NormalizeName(h)
				if err != nil {
					return nil, fmt.Errorf("capspec cannot read the domain %q: %v", h, err)
				}
				base.domain = NamePattern{Kind: Exact, Text: n}
			}
		} else if h == "*" {
			base.anyIP = true
		} else if strings.Contains(h, "/") {
			pf, err := netip.ParsePrefix(h)
			if err != nil || pf.Addr().Is4() != (kind == wasmerIPv4) {
				return nil, fmt.Errorf("failed to parse IP range address %q", h)
			}
			base.prefix = pf.Masked()
		} else {
			a, err := netip.ParseAddr(h)
			if err != nil || a.Is4() != (kind == wasmerIPv4) || a.Zone() != "" {
				return nil, fmt.Errorf("failed to parse IP address %q", h)
			}
			base.prefix = netip.PrefixFrom(a, a.BitLen())
		}
		for _, p := range wasmerList(rest) {
			r := base
			switch {
			case p == "*":
				r.anyPort = true
			case strings.Contains(p, "-"):
				a, b, _ := strings.Cut(p, "-")
				lo, err1 := strconv.ParseUint(a, 10, 16)
				hi, err2 := strconv.ParseUint(b, 10, 16)
				if err1 != nil || err2 != nil {
					return nil, fmt.Errorf("failed to parse int in port range %q", p)
				}
				r.lo, r.hi = int(lo), int(hi)
			default:
				v, err := strconv.ParseUint(p, 10, 16)
				if err != nil {
					return nil, fmt.Errorf("failed to parse int in port %q", p)
				}
				r.lo, r.hi = int(v), int(v)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// wasmerList reads "{a,b}" or a single item, as wasmer's parse_as_list.
func wasmerList(s string) []string {
	l, r := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if l >= 0 && r > l {
		return strings.Split(s[l+1:r], ",")
	}
	return []string{s}
}

// wasmerPorts writes a port set as a wasmer port spec.
func wasmerPorts(s policy.PortSet, outbound bool) string {
	if s.Covers(policy.AllPorts(outbound)) {
		return "*"
	}
	if len(s) == 1 {
		return s[0].String()
	}
	return "{" + s.String() + "}"
}

// generateWasmer writes the --net closest to a policy.
func generateWasmer(p *policy.Policy) ([]string, []genEntry) {
	ips := newByHost()     // "ipv4:A" + "/in" or "/out"
	dns := newByHost()     // domain spec -> ports
	lookups := newByHost() // domain spec looked up only
	for _, r := range p.Rules {
		dir := "|out"
		if r.Kind == ast.Inbound {
			dir = "|in"
		}
		switch {
		case r.Kind == ast.Resolve:
			dns.add(r.Host.String(), nil, r.Index)
			lookups.add(r.Host.String(), nil, r.Index)
		case r.Host.Kind == policy.AnyHost:
			if r.Families&policy.IPv4 != 0 {
				ips.add("ipv4|*"+dir, r.Ports, r.Index)
			}
			if r.Families&policy.IPv6 != 0 {
				ips.add("ipv6|*"+dir, r.Ports, r.Index)
			}
		case r.Host.Kind == policy.AddressHost:
			pf := r.Host.Prefix
			host := "ipv4|" + pf.Addr().String()
			if pf.Addr().Is6() {
				host = "ipv6|[" + pf.Addr().String() + "]"
				if !pf.IsSingleIP() {
					host = "ipv6|" + pf.String()
				}
			} else if !pf.IsSingleIP() {
				host = "ipv4|" + pf.String()
			}
			ips.add(host+dir, r.Ports, r.Index)
		case r.Kind == ast.Inbound && r.Host.Kind == policy.LocalhostHost:
			if r.Families&policy.IPv4 != 0 {
				ips.add("ipv4|127.0.0.0/8|in", r.Ports, r.Index)
			}
			if r.Families&policy.IPv6 != 0 {
				ips.add("ipv6|[::1]|in", r.Ports, r.Index)
			}
		case r.Kind == ast.Outbound:
			dns.add(r.Host.String(), r.Ports, r.Index)
		}
		// Inbound on an interface name: wasmer cannot name interfaces; left out.
	}
	var gen []genEntry
	for _, k := range ips.order {
		parts := strings.Split(k, "|")
		kind, addr, dir := parts[0], parts[1], parts[2]
		text := fmt.Sprintf("%s:allow=%s:%s/%s", kind, addr, wasmerPorts(ips.ports[k], dir == "out"), dir)
		gen = append(gen, genEntry{text: text, rules: sortedRules(ips.rules[k])})
	}
	// One dns rule per domain, with one port spec: wasmer expands the
	// first matching rule only, so a port list (several rules) would lose
	// all ports but the first. Lookup-only rules (port 0) come last.
	for _, d := range dns.order {
		ports := dns.ports[d]
		if ports.IsEmpty() {
			continue
		}
		spec := "*"
		if !ports.Covers(policy.AllPorts(true)) {
			spec = policy.PortRange{Lo: ports.Min(), Hi: ports[len(ports)-1].Hi}.String()
		}
		gen = append(gen, genEntry{text: "dns:allow=" + d + ":" + spec, rules: sortedRules(dns.rules[d])})
	}
	for _, d := range dns.order {
		if dns.ports[d].IsEmpty() {
			gen = append(gen, genEntry{text: "dns:allow=" + d + ":0", rules: sortedRules(lookups.rules[d])})
		}
	}
	return oneFlag("--net", gen)
}

// wasmerFlags writes the capspec flags closest to a wasmer configuration.
func wasmerFlags(c *Config) []flagFrom {
	m := c.model.(*wasmerModel)
	var out []flagFrom
	add := func(flag string, e int) { out = append(out, flagFrom{flag, e}) }
	if m.all >= 0 {
		add("--allow-resolve=*", m.all)
		for _, k := range []string{"outbound", "inbound"} {
			for _, pr := range []string{"tcp", "udp"} {
				add("--allow-"+k+"="+pr+"://*:*", m.all)
			}
		}
	}
	for _, r := range m.rules {
		if r.deny {
			continue
		}
		outPorts, inPorts := flagPorts(r.anyPort, r.lo, r.hi)
		if r.kind == wasmerDNS {
			var hosts []string
			switch r.domain.Kind {
			case AnyName:
				hosts = []string{"*"}
			case Exact:
				hosts = []string{r.domain.Text}
			case Suffix:
				if d, ok := strings.CutPrefix(r.domain.Text, "."); ok {
					hosts = []string{"*." + d}
				} else if _, err := eval.NormalizeName(r.domain.Text); err == nil {
					// A raw suffix: its own name and names below it are the
					// part capspec can say.
					hosts = []string{r.domain.Text, "*." + r.domain.Text}
				}
			}
			for _, h := range hosts {
				if len(outPorts) == 0 {
					add("--allow-resolve="+h, r.entry)
				}
				for _, p := range outPorts {
					for _, pr := range []string{"tcp", "udp"} {
						add("--allow-outbound="+pr+"://"+h+":"+p, r.entry)
					}
				}
			}
			continue
		}
		fam := "#ipv4-only"
		if r.kind == wasmerIPv6 {
			fam = "#ipv6-only"
		}
		var host, local string
		switch {
		case r.anyIP:
			host, local = "*", "*"
		case r.prefix.IsSingleIP():
			host, local, fam = addrText(r.prefix.Addr()), addrText(r.prefix.Addr()), ""
			if r.prefix.Addr().IsUnspecified() {
				host = ""
			}
		default:
			host, fam = r.prefix.String(), ""
			if r.prefix.Addr().Is6() {
				host = "[" + r.prefix.String() + "]"
			}
			if r.prefix == netip.MustParsePrefix("127.0.0.0/8") {
				local, fam = "localhost", "#ipv4-only"
			}
		}
		for _, pr := range []string{"tcp", "udp"} {
			if r.dir != dirIn && host != "" {
				for _, p := range outPorts {
					add("--allow-outbound="+pr+"://"+host+":"+p+outFam(host, fam), r.entry)
				}
			}
			if r.dir != dirOut && local != "" {
				for _, p := range inPorts {
					add("--allow-inbound="+pr+"://"+local+":"+p+fam, r.entry)
				}
			}
		}
	}
	return out
}

// outFam drops a family modifier a network already implies.
func outFam(host, fam string) string {
	if host == "*" {
		return fam
	}
	return ""
}

// flagPorts writes a runtime's port range as capspec port specs for
// outbound and inbound rules (port 0 stands alone, and only inbound).
func flagPorts(any bool, lo, hi int) (out, in []string) {
	if any {
		return []string{"*"}, []string{"*"}
	}
	if lo > hi {
		return nil, nil
	}
	if lo == 0 {
		in = append(in, "0")
		lo = 1
	}
	if lo <= hi {
		pr := policy.PortRange{Lo: uint16(lo), Hi: uint16(hi)}.String()
		out = append(out, pr)
		in = append(in, pr)
	}
	return out, in
}

var wasmerTarget = &target{
	name:       "wasmer",
	generate:   generateWasmer,
	read:       readWasmer,
	flags:      wasmerFlags,
	importable: true,
}
