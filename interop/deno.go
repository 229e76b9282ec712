package interop

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Deno's net permission (docs/interop.md#deno): a list of descriptors
// HOST[:PORT] in --allow-net and --deny-net. HOST is a name, "*.name"
// (which matches name itself too), an IP address or an IPv4 network. A
// descriptor without a port matches every port. There is no protocol and
// no direction: one descriptor allows connecting, listening and UDP alike.
// Descriptors are tried in a fixed order, the first match decides: those
// with a port before those without; then names, wildcards, addresses,
// networks; names in the order of their wire form; at a tie a deny comes
// first. A connect or listen is then denied when any deny descriptor
// matches the address it resolved to.

type denoKind uint8

// Host kinds in Deno's order (runtime/permissions/lib.rs, enum Host).
const (
	denoName denoKind = iota
	denoWildcard
	denoIP
	denoSubnet
)

type denoDesc struct {
	kind   denoKind
	name   string       // name or wildcard domain, normalized
	addr   netip.Addr   // IP, or the network's address as written
	prefix netip.Prefix // network, masked
	port   int          // -1: every port
	deny   bool
	entry  int
}

type denoModel struct {
	descs    []denoDesc // in Deno's order
	allowAll int        // entry of a bare --allow-net, or -1
	denyAll  int        // entry of a bare --deny-net, or -1
}

// wire returns a name in DNS wire form (length-prefixed labels), whose
// byte order is the order of Deno's FQDN type.
func wire(name string) []byte {
	var b []byte
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func denoCompare(a, b denoDesc) int {
	if (a.port >= 0) != (b.port >= 0) {
		if a.port >= 0 {
			return -1
		}
		return 1
	}
	if a.kind != b.kind {
		return int(a.kind) - int(b.kind)
	}
	var c int
	switch a.kind {
	case denoName, denoWildcard:
		c = bytes.Compare(wire(a.name), wire(b.name))
	case denoIP:
		c = a.addr.Compare(b.addr)
	case denoSubnet:
		if c = a.addr.Compare(b.addr); c == 0 {
			c = a.prefix.Bits() - b.prefix.Bits()
		}
	}
	if c != 0 {
		return c
	}
	if a.port != b.port {
		return a.port - b.port
	}
	if a.deny != b.deny {
		if a.deny {
			return -1
		}
		return 1
	}
	return 0
}

// denoQuery is what a Deno API checks: a name or an address, and a port.
type denoQuery struct {
	name string
	addr netip.Addr
	port int
}

func (d denoDesc) matches(q denoQuery) bool {
	if d.port >= 0 && d.port != q.port {
		return false
	}
	switch d.kind {
	case denoName:
		return q.name != "" && q.name == d.name
	case denoWildcard:
		return q.name != "" && (q.name == d.name || policy.UnderDomain(q.name, d.name))
	case denoIP:
		return q.addr.IsValid() && q.addr == d.addr
	case denoSubnet:
		return q.addr.IsValid() && d.prefix.Contains(q.addr)
	}
	return false
}

// check is Deno's query_desc: the first matching descriptor decides; then
// a bare --deny-net denies and a bare --allow-net allows; otherwise the
// answer is "prompt", a denial for a program run without a terminal.
func (m *denoModel) check(q denoQuery) int {
	for _, d := range m.descs {
		if d.matches(q) {
			if d.deny {
				return -1
			}
			return d.entry
		}
	}
	if m.denyAll >= 0 {
		return -1
	}
	return m.allowAll
}

// resolvedDenied is Deno's check_net_resolved: any deny descriptor
// matching the address a name resolved to denies.
func (m *denoModel) resolvedDenied(a netip.Addr, port int) bool {
	if m.denyAll >= 0 {
		return true
	}
	for _, d := range m.descs {
		if d.deny && d.matches(denoQuery{addr: a, port: port}) {
			return true
		}
	}
	return false
}

// anyDenied reports whether some address of family f is denied on port.
func (m *denoModel) anyDenied(f policy.Families, port int) bool {
	if m.denyAll >= 0 {
		return true
	}
	for _, d := range m.descs {
		if !d.deny || d.port >= 0 && d.port != port {
			continue
		}
		if d.kind == denoIP && policy.FamilyOf(d.addr) == f || d.kind == denoSubnet && policy.FamilyOf(d.prefix.Addr()) == f {
			return true
		}
	}
	return false
}

func loopback(f policy.Families) netip.Addr {
	if f == policy.IPv6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

func unspecified(f policy.Families) netip.Addr {
	if f == policy.IPv6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// Decide implements Decider.
func (m *denoModel) Decide(q eval.Request) Verdict {
	v := Deny()
	port := int(q.Port)
	switch q.Op {
	case eval.Lookup:
		// Deno has no lookup permission: a name is resolved by a connect or
		// listen to it, so a lookup is possible when some port is allowed.
		ports := []int{}
		for _, d := range m.descs {
			if d.port >= 0 {
				ports = append(ports, d.port)
			}
		}
		for p := 1; p <= 65535; p++ {
			if !slices.Contains(ports, p) {
				ports = append(ports, p) // a port no descriptor names
				break
			}
		}
		for _, p := range ports {
			if e := m.check(denoQuery{name: q.Name, port: p}); e >= 0 {
				v.allow(policy.AllFamilies, e)
				break
			}
		}
	case eval.Connect, eval.Send:
		for i, f := range fams {
			if q.Addr.IsValid() && policy.FamilyOf(q.Addr) != f {
				continue
			}
			e := -1
			switch {
			case !q.Addr.IsValid():
				if q.Name == "localhost" {
					if x := m.check(denoQuery{name: q.Name, port: port}); x >= 0 && !m.resolvedDenied(loopback(f), port) {
						e = x
					}
				} else if x := m.check(denoQuery{name: q.Name, port: port}); x >= 0 && !m.anyDenied(f, port) {
					e = x
				}
			default:
				if m.resolvedDenied(q.Addr, port) {
					break
				}
				if q.Name != "" && (q.Name != "localhost" || policy.IsLoopback(q.Addr)) {
					e = m.check(denoQuery{name: q.Name, port: port})
				}
				if e < 0 {
					e = m.check(denoQuery{addr: q.Addr, port: port})
				}
			}
			v.Entry[i] = e
		}
	default:
		for i, f := range fams {
			e := -1
			if a := localAddr(q, f); a.IsValid() && !m.resolvedDenied(a, port) {
				e = m.check(denoQuery{addr: a, port: port})
				if e < 0 && q.Local == eval.LocalLocalhost {
					e = m.check(denoQuery{name: "localhost", port: port})
				}
			}
			v.Entry[i] = e
		}
	}
	return v
}

func (m *denoModel) bounds(b *bounds) {
	for _, d := range m.descs {
		switch d.kind {
		case denoName:
			b.name(NamePattern{Kind: Exact, Text: d.name})
		case denoWildcard:
			b.name(NamePattern{Kind: BelowOrApex, Text: d.name})
		case denoIP:
			b.addr(d.addr)
		case denoSubnet:
			b.prefix(d.prefix)
		}
		if d.port >= 0 {
			b.portRange(d.port, d.port)
		}
	}
}

// readDeno reads Deno's command-line words: --allow-net[=LIST], -N,
// --deny-net[=LIST], -A/--allow-all; other words are ignored.
func readDeno(src Source) *Config {
	c := &Config{Target: "deno"}
	m := &denoModel{allowAll: -1, denyAll: -1}
	for _, w := range src.Words {
		f := diag.NewFile(w.Origin, w.Text)
		name, value, hasValue := strings.Cut(w.Text, "=")
		deny := false
		switch name {
		case "--allow-net", "-N":
		case "--deny-net":
			deny = true
		case "-A", "--allow-all":
			if !hasValue {
				m.allowAll = len(c.Entries)
				c.Entries = append(c.Entries, Entry{Text: w.Text, Range: f.Range(0, len(w.Text))})
			}
			continue
		default:
			continue
		}
		c.Words = append(c.Words, w.Text)
		if !hasValue {
			if deny {
				m.denyAll = len(c.Entries)
			} else {
				m.allowAll = len(c.Entries)
			}
			c.Entries = append(c.Entries, Entry{Text: w.Text, Range: f.Range(0, len(w.Text))})
			continue
		}
		start := len(name) + 1
		for _, item := range strings.Split(value, ",") {
			r := f.Range(start, start+len(item))
			start += len(item) + 1
			if strings.HasPrefix(item, ":") {
				// A bare port stands for 0.0.0.0, 127.0.0.1 and localhost.
				if _, err := strconv.ParseUint(item[1:], 10, 16); err != nil {
					c.Problems = append(c.Problems, problem("CS507", diag.Error, r, "deno rejects %q: %s", item, "invalid port"))
					continue
				}
				for _, h := range []string{"0.0.0.0", "127.0.0.1", "localhost"} {
					addDeno(c, m, h+item, r, deny)
				}
				continue
			}
			addDeno(c, m, item, r, deny)
		}
	}
	slices.SortStableFunc(m.descs, denoCompare)
	c.model = m
	c.Text = strings.Join(c.Words, " ")
	return c
}

// addDeno parses one descriptor as Deno's NetDescriptor::parse_for_list does.
func addDeno(c *Config, m *denoModel, item string, r diag.Range, deny bool) {
	d, msg, unsupported := parseDenoDesc(item)
	if msg != "" {
		id, sev := "CS507", diag.Error
		if unsupported {
			id, sev = "CS506", diag.Info
		}
		c.Problems = append(c.Problems, problem(id, sev, r, "%s", msg))
		return
	}
	d.deny = deny
	d.entry = len(c.Entries)
	c.Entries = append(c.Entries, Entry{Text: item, Range: r})
	m.descs = append(m.descs, d)
}

func parseDenoDesc(item string) (d denoDesc, msg string, unsupported bool) {
	d.port = -1
	switch {
	case strings.HasPrefix(item, "unix:"), strings.HasPrefix(item, "vsock:"):
		return d, "deno entry " + strconv.Quote(item) + " is not an IP network permission; capspec has no rule for it", true
	case strings.HasPrefix(item, "http://"), strings.HasPrefix(item, "https://"):
		return d, "deno rejects " + strconv.Quote(item) + ": URLs are not supported, only domains and IPs", false
	}
	if ap, err := netip.ParseAddrPort(item); err == nil && !strings.Contains(item, "%") {
		d.kind, d.addr, d.port = denoIP, ap.Addr().Unmap(), int(ap.Port())
		return d, "", false
	}
	host, port := item, ""
	if strings.HasPrefix(item, "[") {
		end := strings.IndexByte(item, ']')
		if end < 0 {
			return d, "deno rejects " + strconv.Quote(item) + ": invalid host", false
		}
		a, err := netip.ParseAddr(item[1:end])
		if err != nil || !a.Is6() {
			return d, "deno rejects " + strconv.Quote(item) + ": invalid IPv6 address", false
		}
		d.kind, d.addr = denoIP, a.Unmap()
		rest := item[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return d, "deno rejects " + strconv.Quote(item) + ": invalid host", false
			}
			p, err := strconv.ParseUint(rest[1:], 10, 16)
			if err != nil {
				return d, "deno rejects " + strconv.Quote(item) + ": invalid port", false
			}
			d.port = int(p)
		}
		return d, "", false
	}
	if h, p, ok := strings.Cut(item, ":"); ok {
		if p == "" {
			return d, "deno rejects " + strconv.Quote(item) + ": invalid empty port", false
		}
		host, port = h, p
	}
	if port != "" {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			if strings.Contains(port, ":") {
				return d, "deno rejects " + strconv.Quote(item) + ": IPv6 addresses must be in square brackets", false
			}
			return d, "deno rejects " + strconv.Quote(item) + ": invalid port", false
		}
		d.port = int(p)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		d.kind, d.addr = denoIP, a.Unmap()
		return d, "", false
	}
	if pf, err := netip.ParsePrefix(host); err == nil && pf.Addr().Is4() {
		d.kind, d.addr, d.prefix = denoSubnet, pf.Addr(), pf.Masked()
		return d, "", false
	}
	name := host
	d.kind = denoName
	if rest, ok := strings.CutPrefix(strings.ToLower(host), "*."); ok {
		d.kind, name = denoWildcard, rest
	}
	if name == "" || name == "." {
		return d, "deno rejects " + strconv.Quote(item) + ": invalid empty host", false
	}
	n, err := eval.NormalizeName(name)
	if err != nil {
		if strings.ContainsAny(name, "*") {
			return d, "deno rejects " + strconv.Quote(item) + ": invalid char found in FQDN", false
		}
		return d, "capspec cannot read the name in deno entry " + strconv.Quote(item) + ": " + err.Error(), true
	}
	d.name = n
	return d, "", false
}

// generateDeno writes the --allow-net closest to a policy.
func generateDeno(p *policy.Policy) ([]string, []genEntry) {
	h := newByHost()
	all := policy.PortSet{{Lo: 0, Hi: policy.MaxPort}}
	for _, r := range p.Rules {
		switch {
		case r.Kind == ast.Outbound:
			switch r.Host.Kind {
			case policy.NameHost, policy.LocalhostHost:
				h.add(r.Host.Name, r.Ports, r.Index)
			case policy.WildcardHost:
				h.add("*."+r.Host.Name, r.Ports, r.Index)
			case policy.AddressHost:
				pf := r.Host.Prefix
				switch {
				case pf.IsSingleIP():
					h.add(addrText(pf.Addr()), r.Ports, r.Index)
				case pf.Addr().Is4():
					h.add(pf.String(), r.Ports, r.Index)
				}
				// An IPv6 network: Deno cannot write one; left out.
			case policy.AnyHost:
				// Every IPv4 address is 0.0.0.0/0; Deno cannot write every
				// IPv6 address (nor every name) short of allowing
				// everything, so those are left out.
				if r.Families&policy.IPv4 != 0 {
					h.add("0.0.0.0/0", r.Ports, r.Index)
				}
				// Names the policy lets the guest look up are reached by name.
				for _, rp := range resolvePatterns(p) {
					switch rp.host.Kind {
					case policy.AnyHost:
					case policy.WildcardHost:
						h.add("*."+rp.host.Name, r.Ports, r.Index, rp.rule)
					default:
						h.add(rp.host.Name, r.Ports, r.Index, rp.rule)
					}
				}
			}
		case r.Kind == ast.Inbound:
			// Listening on every interface is listening on 0.0.0.0 or [::];
			// an interface name: Deno cannot name interfaces; left out.
			for _, host := range localHosts(r) {
				h.add(host, r.Ports, r.Index)
			}
			if r.Host.Kind == policy.LocalhostHost {
				h.add("localhost", r.Ports, r.Index)
			}
		}
		// A resolve rule alone: Deno resolves a name only to connect to
		// it, so a lookup alone cannot be allowed; left out.
	}
	var items []genEntry
	for _, host := range h.order {
		ports := h.ports[host]
		rules := sortedRules(h.rules[host])
		switch {
		case ports.Covers(policy.PortSet{{Lo: 1, Hi: policy.MaxPort}}) || ports.Equal(all) || ports.Len() > maxDenoPorts:
			items = append(items, genEntry{text: host, rules: rules})
		default:
			for _, pr := range ports {
				for port := int(pr.Lo); port <= int(pr.Hi); port++ {
					items = append(items, genEntry{text: host + ":" + strconv.Itoa(port), rules: rules})
				}
			}
		}
	}
	return oneFlag("--allow-net", items)
}

// maxDenoPorts is the most ports an export lists one by one for a host;
// more become the host without a port (every port).
const maxDenoPorts = 64

// denoFlags writes the capspec flags closest to a Deno configuration.
func denoFlags(c *Config) []flagFrom {
	m := c.model.(*denoModel)
	var out []flagFrom
	both := func(kind, spec string, e int) {
		for _, proto := range []string{"tcp", "udp"} {
			out = append(out, flagFrom{"--allow-" + kind + "=" + proto + "://" + spec, e})
		}
	}
	if m.allowAll >= 0 {
		out = append(out, flagFrom{"--allow-resolve=*", m.allowAll})
		both("outbound", "*:*", m.allowAll)
		both("inbound", "*:*", m.allowAll)
	}
	for _, d := range m.descs {
		if d.deny {
			continue
		}
		ports := "*"
		if d.port >= 0 {
			ports = strconv.Itoa(d.port)
		}
		switch d.kind {
		case denoName:
			if d.port != 0 {
				both("outbound", d.name+":"+ports, d.entry)
			}
			if d.name == "localhost" {
				both("inbound", "localhost:"+ports, d.entry)
			}
		case denoWildcard:
			if d.port != 0 {
				both("outbound", d.name+":"+ports, d.entry)
				both("outbound", "*."+d.name+":"+ports, d.entry)
			}
		case denoIP:
			if d.port != 0 && !d.addr.IsUnspecified() {
				both("outbound", addrText(d.addr)+":"+ports, d.entry)
			}
			both("inbound", addrText(d.addr)+":"+ports, d.entry)
		case denoSubnet:
			if d.port != 0 {
				both("outbound", d.prefix.String()+":"+ports, d.entry)
			}
			if d.prefix.Bits() == 0 {
				both("inbound", "0.0.0.0:"+ports, d.entry)
			}
		}
	}
	return out
}

var denoTarget = &target{
	name:       "deno",
	generate:   generateDeno,
	read:       readDeno,
	flags:      denoFlags,
	importable: true,
}
