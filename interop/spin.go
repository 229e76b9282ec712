package interop

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Spin's allowed_outbound_hosts (docs/interop.md#spin): entries
// SCHEME://HOST[:PORT]. WASI sockets are checked by address only (the
// socket address as text, scheme tcp or udp); TCP listening is always
// refused; the guest cannot look names up. Spin's own outbound HTTP,
// Redis, MySQL, PostgreSQL and MQTT connect by name on the guest's behalf.

type spinHostKind uint8

const (
	spinAny  spinHostKind = iota
	spinSub               // "*.x": names ending in ".x"
	spinSelf              // "self": the app itself (service chaining)
	spinList              // one exact host text
	spinCIDR              // a network
)

type spinEntry struct {
	scheme  string // "*" for any
	host    spinHostKind
	text    string       // spinSub: the suffix ".x" (normalized); spinList: the name, or the address text
	addr    netip.Addr   // spinList: the address, when the text is one in the form Spin compares
	prefix  netip.Prefix // spinCIDR
	anyPort bool
	lo, hi  int // inclusive; lo > hi: no port
	entry   int
}

type spinModel struct {
	entries    []spinEntry
	components []string // the component of each config entry
}

// spinTCPSchemes are the schemes whose connections are TCP: sockets (tcp)
// and Spin's outbound interfaces.
var spinTCPSchemes = map[string]bool{"tcp": true, "http": true, "https": true, "redis": true, "mysql": true, "postgres": true, "mqtt": true}

// spinAppSchemes are the outbound interfaces through which Spin connects by
// name on the guest's behalf.
var spinAppSchemes = []string{"http", "https", "redis", "mysql", "postgres", "mqtt"}

func spinWellKnownPort(scheme string) (int, bool) {
	switch scheme {
	case "postgres":
		return 5432, true
	case "mysql":
		return 3306, true
	case "redis":
		return 6379, true
	case "mqtt":
		return 1883, true
	case "http":
		return 80, true
	case "https":
		return 443, true
	}
	return 0, false
}

func (e spinEntry) port(p int) bool { return e.anyPort || e.lo <= p && p <= e.hi }

// hostByName reports whether the entry lets Spin connect to a name on the
// guest's behalf (an outbound interface: any scheme but tcp and udp).
func (e spinEntry) hostByName(name string, p int) bool {
	if e.scheme != "*" && (e.scheme == "tcp" || !spinTCPSchemes[e.scheme]) || !e.port(p) {
		return false
	}
	switch e.host {
	case spinAny:
		return true
	case spinSub:
		return strings.HasSuffix(name, e.text)
	case spinList:
		return !e.addr.IsValid() && e.text == name
	}
	return false
}

// byAddr reports whether the entry allows a TCP (tcp true) or UDP use of an
// address: a WASI socket, or for TCP an outbound interface given the
// address as its host.
func (e spinEntry) byAddr(a netip.Addr, p int, tcp bool) bool {
	switch {
	case e.scheme == "*":
	case tcp && !spinTCPSchemes[e.scheme]:
		return false
	case !tcp && e.scheme != "udp":
		return false
	}
	if !e.port(p) {
		return false
	}
	switch e.host {
	case spinAny:
		return true
	case spinList:
		return e.addr.IsValid() && e.addr == a
	case spinCIDR:
		// Spin parses the host text as an address; IPv6 text is in brackets
		// and never parses, so only IPv4 networks ever match.
		return a.Is4() && e.prefix.Contains(a)
	}
	return false
}

// Decide implements Decider.
func (m *spinModel) Decide(q eval.Request) Verdict {
	v := Deny()
	port := int(q.Port)
	first := func(match func(e spinEntry) bool) int {
		for _, e := range m.entries {
			if match(e) {
				return e.entry
			}
		}
		return -1
	}
	switch q.Op {
	case eval.Lookup, eval.Listen:
		// No ip-name-lookup for the guest; TCP bind is always refused.
	case eval.Connect:
		if q.Name != "" {
			if e := first(func(e spinEntry) bool { return e.hostByName(q.Name, port) }); e >= 0 {
				if !q.Addr.IsValid() || q.Name != "localhost" || policy.IsLoopback(q.Addr) {
					v.allow(famsOf(q), e)
				}
			}
		}
		if q.Addr.IsValid() {
			v.allow(famsOf(q), first(func(e spinEntry) bool { return e.byAddr(q.Addr, port, true) }))
		}
	case eval.Send:
		if q.Addr.IsValid() {
			v.allow(famsOf(q), first(func(e spinEntry) bool { return e.byAddr(q.Addr, port, false) }))
		}
	case eval.Bind:
		for i, f := range fams {
			if a := localAddr(q, f); a.IsValid() {
				v.Entry[i] = first(func(e spinEntry) bool { return e.byAddr(a, port, false) })
			}
		}
	}
	return v
}

func (m *spinModel) bounds(b *bounds) {
	for _, e := range m.entries {
		switch e.host {
		case spinSub:
			b.name(NamePattern{Kind: Below, Text: strings.TrimPrefix(e.text, ".")})
		case spinList:
			if e.addr.IsValid() {
				b.addr(e.addr)
			} else {
				b.name(NamePattern{Kind: Exact, Text: e.text})
			}
		case spinCIDR:
			b.prefix(e.prefix)
		}
		if !e.anyPort && e.lo <= e.hi {
			b.portRange(e.lo, e.hi)
		}
	}
}

// split returns one configuration per component.
func (m *spinModel) split(c *Config) []*Config {
	var order []string
	seen := map[string]bool{}
	for _, e := range c.Entries {
		if !seen[e.Component] {
			seen[e.Component] = true
			order = append(order, e.Component)
		}
	}
	if len(order) <= 1 {
		return []*Config{c}
	}
	var out []*Config
	for _, comp := range order {
		sub := &Config{Target: c.Target}
		sm := &spinModel{}
		renum := map[int]int{}
		for i, e := range c.Entries {
			if e.Component == comp {
				renum[i] = len(sub.Entries)
				sub.Entries = append(sub.Entries, e)
			}
		}
		for _, se := range m.entries {
			if j, ok := renum[se.entry]; ok {
				se.entry = j
				sm.entries = append(sm.entries, se)
			}
		}
		sub.model = sm
		out = append(out, sub)
	}
	return out
}

// parseSpinEntry parses one element as Spin's AllowedHostConfig::parse.
func parseSpinEntry(s string) (e spinEntry, msg string, unsupported bool) {
	url := strings.TrimSpace(s)
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return e, fmt.Sprintf("spin rejects %q: it does not contain a scheme (e.g. 'http://' or '*://')", url), false
	}
	host, rest := rest, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, rest = host[:i], host[i+1:]
	}
	port := rest
	if p, path, ok := strings.Cut(rest, "/"); ok {
		if path != "" {
			return e, fmt.Sprintf("spin rejects %q: it has a path but is not allowed to", url), false
		}
		port = p
	}
	// Scheme.
	switch {
	case scheme == "*":
	case strings.HasPrefix(scheme, "{"):
		return e, fmt.Sprintf("spin rejects %q: scheme lists are not yet supported", url), false
	default:
		for _, r := range scheme {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				return e, fmt.Sprintf("spin rejects %q: scheme %q contains non alphabetic character", url, scheme), false
			}
		}
	}
	e.scheme = scheme
	// Host.
	host = strings.TrimSpace(host)
	switch {
	case host == "*":
		e.host = spinAny
	case host == "self":
		e.host = spinSelf
	case strings.HasPrefix(host, "{"):
		return e, fmt.Sprintf("spin rejects %q: host lists are not yet supported", url), false
	default:
		if pf, err := netip.ParsePrefix(host); err == nil {
			e.host, e.prefix = spinCIDR, pf.Masked()
			break
		}
		if h, path, ok := strings.Cut(host, "/"); ok && path != "" {
			_ = h
			return e, fmt.Sprintf("spin rejects %q: hosts must not contain paths", url), false
		}
		if d, ok := strings.CutPrefix(host, "*."); ok {
			if strings.Contains(d, "*") {
				return e, fmt.Sprintf("spin rejects %q: wildcards are allowed only as prefixes", url), false
			}
			n, err := eval.NormalizeName(d)
			if err != nil {
				return e, fmt.Sprintf("capspec cannot read the domain of spin entry %q: %v (Spin compares it as text, so it may match addresses too)", url, err), true
			}
			e.host, e.text = spinSub, "."+n
			break
		}
		if strings.Contains(host, "*") {
			return e, fmt.Sprintf("spin rejects %q: wildcards are allowed only as subdomains", url), false
		}
		host = strings.TrimRight(host, "/")
		e.host, e.text = spinList, host
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			// Spin compares the text; only the form the URL parser writes matches.
			if addrText(a) == host {
				e.addr = a
			} else {
				return e, fmt.Sprintf("spin entry %q never matches: Spin compares addresses as text, written %s", url, addrText(a)), true
			}
			break
		}
		n, err := eval.NormalizeName(host)
		if err != nil {
			return e, fmt.Sprintf("capspec cannot read the host of spin entry %q: %v", url, err), true
		}
		e.text = n
	}
	// Port.
	switch {
	case port == "":
		p, ok := spinWellKnownPort(scheme)
		if !ok {
			return e, fmt.Sprintf("spin rejects %q: no port was provided and the scheme %q does not have a known default port number", url, scheme), false
		}
		e.lo, e.hi = p, p
	case port == "*":
		e.anyPort = true
	case strings.HasPrefix(port, "{"):
		return e, fmt.Sprintf("spin rejects %q: port lists are not yet supported", url), false
	default:
		if a, b, ok := strings.Cut(port, ".."); ok {
			lo, err1 := strconv.ParseUint(a, 10, 16)
			hi, err2 := strconv.ParseUint(b, 10, 16)
			if err1 != nil || err2 != nil {
				return e, fmt.Sprintf("spin rejects %q: port range %q contains non-number", url, port), false
			}
			e.lo, e.hi = int(lo), int(hi)-1 // a..b excludes b
			break
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return e, fmt.Sprintf("spin rejects %q: port %q is not a number", url, port), false
		}
		e.lo, e.hi = int(p), int(p)
	}
	if e.host == spinSelf {
		return e, fmt.Sprintf("spin entry %q allows calls to the app itself (service chaining), which are no network requests capspec decides", url), true
	}
	return e, "", false
}

// readSpin reads a Spin manifest (spin.toml) or a TOML fragment holding
// allowed_outbound_hosts (and the legacy allowed_http_hosts).
func readSpin(src Source) *Config {
	c := &Config{Target: "spin"}
	m := &spinModel{}
	c.model = m
	file := diag.NewFile(src.Name, src.Content)
	var doc map[string]any
	if err := toml.Unmarshal([]byte(src.Content), &doc); err != nil {
		r := file.Range(0, 0)
		if de, ok := err.(*toml.DecodeError); ok {
			line, col := de.Position()
			off := offsetOf(src.Content, line, col)
			r = file.Range(off, off+1)
		}
		c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, r, "not a TOML document: %v", err))
		return c
	}
	p := unstable.Parser{}
	data := []byte(src.Content)
	p.Reset(data)
	var table []string
	arrayIndex := map[string]int{}
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table:
			table = keyOf(n.Key())
		case unstable.ArrayTable:
			table = keyOf(n.Key())
			k := strings.Join(table, ".")
			table = append(table, "#"+strconv.Itoa(arrayIndex[k]))
			arrayIndex[k]++
		case unstable.KeyValue:
			walkSpinKV(c, m, &p, file, doc, table, n)
		}
	}
	if err := p.Error(); err != nil {
		c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, file.Range(0, 0), "not a TOML document: %v", err))
	}
	return c
}

func keyOf(it unstable.Iterator) []string {
	var k []string
	for it.Next() {
		k = append(k, string(it.Node().Data))
	}
	return k
}

// walkSpinKV finds allowed_outbound_hosts in a key/value, recursing into
// inline tables.
func walkSpinKV(c *Config, m *spinModel, p *unstable.Parser, file *diag.File, doc map[string]any, table []string, n *unstable.Node) {
	key := append(append([]string(nil), table...), keyOf(n.Key())...)
	v := n.Value()
	if v.Kind == unstable.InlineTable {
		it := v.Children()
		for it.Next() {
			walkSpinKV(c, m, p, file, doc, key, it.Node())
		}
		return
	}
	last := key[len(key)-1]
	if last != "allowed_outbound_hosts" && last != "allowed_http_hosts" {
		return
	}
	comp := spinComponent(doc, key[:len(key)-1])
	if v.Kind != unstable.Array {
		r := rawRange(p, file, v.Raw)
		c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, r, "%s must be an array of strings", last))
		return
	}
	var items []struct {
		text string
		r    diag.Range
	}
	it := v.Children()
	for it.Next() {
		el := it.Node()
		r := rawRange(p, file, el.Raw)
		if el.Kind != unstable.String {
			c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, r, "%s must hold strings", last))
			continue
		}
		items = append(items, struct {
			text string
			r    diag.Range
		}{string(el.Data), r})
	}
	if last == "allowed_outbound_hosts" && len(items) == 1 && items[0].text == "insecure:allow-all" {
		c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, items[0].r, "spin rejects 'insecure:allow-all' - use '*://*:*' instead"))
		return
	}
	for _, item := range items {
		texts := []string{item.text}
		if last == "allowed_http_hosts" {
			texts = spinHTTPHosts(item.text)
		}
		for _, t := range texts {
			if strings.Contains(t, "{{") {
				c.Problems = append(c.Problems, problem(IDUnsupportedEntry, diag.Info, item.r,
					"spin entry %q depends on a variable, whose value capspec cannot know", item.text))
				continue
			}
			e, msg, unsupported := parseSpinEntry(t)
			if msg != "" {
				id, sev := IDRuntimeSyntax, diag.Error
				if unsupported {
					id, sev = IDUnsupportedEntry, diag.Info
				}
				c.Problems = append(c.Problems, problem(id, sev, item.r, "%s", msg))
				continue
			}
			e.entry = len(c.Entries)
			c.Entries = append(c.Entries, Entry{Text: item.text, Range: item.r, Component: comp})
			m.entries = append(m.entries, e)
		}
	}
}

// spinHTTPHosts converts a legacy allowed_http_hosts element as Spin does.
func spinHTTPHosts(s string) []string {
	switch s {
	case "insecure:allow-all":
		return []string{"http://*:*", "https://*:*"}
	case "self":
		return []string{"http://self"}
	}
	return []string{"http://" + s, "https://" + s}
}

// spinComponent names the component a table path belongs to:
// [component.NAME] (manifest version 2) or the id of [[component]] (version 1).
func spinComponent(doc map[string]any, path []string) string {
	if len(path) >= 2 && path[0] == "component" {
		if strings.HasPrefix(path[1], "#") {
			i, _ := strconv.Atoi(path[1][1:])
			if list, ok := doc["component"].([]any); ok && i < len(list) {
				if t, ok := list[i].(map[string]any); ok {
					if id, ok := t["id"].(string); ok {
						return id
					}
				}
			}
			return "component " + path[1][1:]
		}
		return path[1]
	}
	return ""
}

func rawRange(p *unstable.Parser, f *diag.File, r unstable.Range) diag.Range {
	start := int(r.Offset)
	return f.Range(start, start+int(r.Length))
}

// offsetOf converts a 1-based line and column to a byte offset.
func offsetOf(s string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return len(s)
		}
		off += i + 1
	}
	return min(off+col-1, len(s))
}

// spinPorts writes a port set as Spin port specs: "*", "80", "8000..8010"
// (a..b excludes b, so a range to 65535 also needs "65535" alone).
func spinPorts(s policy.PortSet, outbound bool) []string {
	if s.Covers(policy.AllPorts(outbound)) {
		return []string{"*"}
	}
	var out []string
	for _, r := range s {
		switch {
		case r.Lo == r.Hi:
			out = append(out, strconv.Itoa(int(r.Lo)))
		case r.Hi == policy.MaxPort:
			out = append(out, strconv.Itoa(int(r.Lo))+".."+strconv.Itoa(policy.MaxPort), strconv.Itoa(policy.MaxPort))
		default:
			out = append(out, strconv.Itoa(int(r.Lo))+".."+strconv.Itoa(int(r.Hi)+1))
		}
	}
	return out
}

// spinAddrHost writes an address or network as a Spin host, or "" for an
// IPv6 network, which Spin never matches.
func spinAddrHost(pf netip.Prefix) string {
	switch {
	case pf.IsSingleIP():
		return addrText(pf.Addr())
	case pf.Addr().Is4():
		return pf.String()
	}
	return ""
}

// generateSpin writes the allowed_outbound_hosts closest to a policy.
func generateSpin(p *policy.Policy) ([]string, []genEntry) {
	h := newByHost()
	resolves := resolvePatterns(p)
	for _, r := range p.Rules {
		outbound := r.Kind == ast.Outbound
		switch {
		case outbound && isTCP(r):
			switch r.Host.Kind {
			case policy.AddressHost:
				if host := spinAddrHost(r.Host.Prefix); host != "" {
					h.add("tcp://"+host, r.Ports, r.Index)
				}
			case policy.AnyHost:
				h.add("tcp://*", r.Ports, r.Index)
				// Names the policy lets the guest look up, reached through
				// Spin's outbound interfaces.
				for _, rp := range resolves {
					switch rp.host.Kind {
					case policy.AnyHost:
						for _, s := range spinAppSchemes {
							h.add(s+"://*", r.Ports, r.Index, rp.rule)
						}
					case policy.WildcardHost:
						h.add("*://*."+rp.host.Name, r.Ports, r.Index, rp.rule)
					default:
						h.add("*://"+rp.host.Name, r.Ports, r.Index, rp.rule)
					}
				}
			case policy.WildcardHost:
				h.add("*://*."+r.Host.Name, r.Ports, r.Index)
			default:
				h.add("*://"+r.Host.Name, r.Ports, r.Index)
			}
		case outbound:
			switch r.Host.Kind {
			case policy.AddressHost:
				if host := spinAddrHost(r.Host.Prefix); host != "" {
					h.add("udp://"+host, r.Ports, r.Index)
				}
			case policy.AnyHost:
				h.add("udp://*", r.Ports, r.Index)
			}
			// UDP to a name: the guest cannot look it up; left out.
		case r.Kind == ast.Inbound && !isTCP(r):
			for _, host := range localHosts(r) {
				h.add("udp://"+host, r.Ports, r.Index)
			}
		}
		// TCP inbound (Spin refuses every TCP bind), resolve rules (no
		// lookups), interfaces: left out.
	}
	var gen []genEntry
	var quoted []string
	for _, host := range h.order {
		outbound := !strings.HasPrefix(host, "udp://0.0.0.0") && !strings.HasPrefix(host, "udp://[::]")
		for _, ps := range spinPorts(h.ports[host], outbound) {
			text := host + ":" + ps
			gen = append(gen, genEntry{text: text, rules: sortedRules(h.rules[host])})
			quoted = append(quoted, strconv.Quote(text))
		}
	}
	return []string{"allowed_outbound_hosts = [" + strings.Join(quoted, ", ") + "]"}, gen
}

// spinFlags writes the capspec flags closest to a Spin configuration.
func spinFlags(c *Config) []flagFrom {
	m := c.model.(*spinModel)
	var out []flagFrom
	add := func(flag string, e int) { out = append(out, flagFrom{flag, e}) }
	for _, e := range m.entries {
		var ports []string // outbound port specs
		var inPorts []string
		switch {
		case e.anyPort:
			ports, inPorts = []string{"*"}, []string{"*"}
		case e.lo > e.hi:
			continue
		default:
			lo := e.lo
			if lo == 0 {
				inPorts = append(inPorts, "0")
				lo = 1
			}
			if lo <= e.hi {
				pr := policy.PortRange{Lo: uint16(lo), Hi: uint16(e.hi)}.String()
				ports = append(ports, pr)
				inPorts = append(inPorts, pr)
			}
		}
		tcp := e.scheme == "*" || spinTCPSchemes[e.scheme]
		udp := e.scheme == "*" || e.scheme == "udp"
		var host string
		switch e.host {
		case spinAny:
			host = "*"
		case spinSub:
			host = "*" + e.text
		case spinList:
			host = e.text
		case spinCIDR:
			host = e.prefix.String()
			if e.prefix.Addr().Is6() {
				continue // never matches
			}
		default:
			continue
		}
		byName := e.host == spinSub || e.host == spinList && !e.addr.IsValid()
		unspec := e.host == spinList && e.addr.IsUnspecified()
		if tcp && (e.scheme != "tcp" || !byName) && !unspec {
			for _, p := range ports {
				add("--allow-outbound=tcp://"+host+":"+p, e.entry)
			}
			if e.host == spinAny && e.scheme != "tcp" {
				add("--allow-resolve=*", e.entry)
			}
		}
		if udp && !byName {
			for _, p := range ports {
				if unspec {
					break
				}
				add("--allow-outbound=udp://"+host+":"+p, e.entry)
			}
			if e.host == spinAny || e.host == spinList || e.host == spinCIDR && e.prefix.Bits() == 0 {
				local := host
				if e.host == spinCIDR {
					local = "0.0.0.0"
				}
				for _, p := range inPorts {
					add("--allow-inbound=udp://"+local+":"+p, e.entry)
				}
			}
		}
	}
	return out
}

var spinTarget = &target{
	name:       "spin",
	generate:   generateSpin,
	read:       readSpin,
	flags:      spinFlags,
	importable: true,
}
