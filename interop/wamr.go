package interop

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// WAMR's iwasm (docs/interop.md#wamr): --addr-pool=ADDR/MASK,... lists the
// addresses a socket may bind, connect or send to (no ports, protocols or
// directions; an all-zero address means every address of its family);
// --allow-resolve=NAME (repeatable) the names it may look up ("*x" is a
// raw suffix, "*" every name). A TCP listen is not checked: listening on a
// socket that was never bound lets the system bind it to every interface
// on a port it picks. iwasm takes at most 8 of each.

const wamrMax = 8

type wamrPool struct {
	prefix netip.Prefix // masked
	any    bool         // all-zero address: every address of the family
	entry  int
}

type wamrModel struct {
	pool    []wamrPool
	resolve []struct {
		pattern NamePattern
		entry   int
	}
	listen int // the pseudo-entry of listening without bind
}

func (m *wamrModel) inPool(a netip.Addr) int {
	for _, p := range m.pool {
		if p.prefix.Addr().Is4() == a.Is4() && (p.any || p.prefix.Contains(a)) {
			return p.entry
		}
	}
	return -1
}

func (m *wamrModel) everyAddr(f policy.Families) int {
	for _, p := range m.pool {
		if p.prefix.Addr().Is4() == (f == policy.IPv4) && (p.any || p.prefix.Bits() == 0) {
			return p.entry
		}
	}
	return -1
}

func (m *wamrModel) lookup(name string) int {
	for _, r := range m.resolve {
		if r.pattern.Matches(name) {
			return r.entry
		}
	}
	return -1
}

// Decide implements Decider.
func (m *wamrModel) Decide(q eval.Request) Verdict {
	v := Deny()
	switch q.Op {
	case eval.Lookup:
		v.allow(policy.AllFamilies, m.lookup(q.Name))
	case eval.Connect, eval.Send:
		for i, f := range fams {
			switch {
			case q.Addr.IsValid():
				if policy.FamilyOf(q.Addr) == f {
					v.Entry[i] = m.inPool(q.Addr)
				}
			case m.lookup(q.Name) >= 0:
				if q.Name == "localhost" {
					v.Entry[i] = m.inPool(loopback(f))
				} else {
					v.Entry[i] = m.everyAddr(f)
				}
			}
		}
	default:
		for i, f := range fams {
			a := localAddr(q, f)
			if !a.IsValid() {
				continue
			}
			v.Entry[i] = m.inPool(a)
			if v.Entry[i] < 0 && q.Op == eval.Listen && q.Port == 0 && a.IsUnspecified() {
				v.Entry[i] = m.listen
			}
		}
	}
	return v
}

func (m *wamrModel) bounds(b *bounds) {
	for _, p := range m.pool {
		if !p.any {
			b.prefix(p.prefix)
		}
	}
	for _, r := range m.resolve {
		b.name(r.pattern)
	}
}

// readWAMR reads iwasm's --addr-pool and --allow-resolve words.
func readWAMR(src Source) *Config {
	c := &Config{Target: "wamr"}
	m := &wamrModel{}
	c.model = m
	var pools, names int
	for _, w := range src.Words {
		f := diag.NewFile(w.Origin, w.Text)
		switch {
		case strings.HasPrefix(w.Text, "--addr-pool="):
			c.Words = append(c.Words, w.Text)
			start := len("--addr-pool=")
			for _, tok := range strings.Split(w.Text[start:], ",") {
				r := f.Range(start, start+len(tok))
				start += len(tok) + 1
				if tok == "" {
					continue // strtok skips empty tokens
				}
				pools++
				if pools > wamrMax {
					c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, r, "iwasm takes at most %d --addr-pool addresses", wamrMax))
					continue
				}
				addr, mask, ok := strings.Cut(tok, "/")
				bits, err := strconv.Atoi(mask)
				a, aerr := netip.ParseAddr(addr)
				if !ok || err != nil || aerr != nil || a.Zone() != "" || bits < 0 || bits > a.BitLen() {
					c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, r, "iwasm rejects %q: an --addr-pool entry is ADDRESS/MASK", tok))
					continue
				}
				p := wamrPool{prefix: netip.PrefixFrom(a, bits).Masked(), any: a.IsUnspecified(), entry: len(c.Entries)}
				c.Entries = append(c.Entries, Entry{Text: tok, Range: r})
				m.pool = append(m.pool, p)
			}
		case strings.HasPrefix(w.Text, "--allow-resolve="):
			c.Words = append(c.Words, w.Text)
			val := w.Text[len("--allow-resolve="):]
			r := f.Range(len("--allow-resolve="), len(w.Text))
			names++
			if val == "" || names > wamrMax {
				c.Problems = append(c.Problems, problem(IDRuntimeSyntax, diag.Error, r, "iwasm takes one name, at most %d times, in --allow-resolve", wamrMax))
				continue
			}
			var pat NamePattern
			switch {
			case val == "*":
				pat = NamePattern{Kind: AnyName}
			case strings.HasPrefix(val, "*"):
				pat = NamePattern{Kind: Suffix, Text: strings.TrimSuffix(strings.ToLower(val[1:]), ".")}
			default:
				n, err := eval.NormalizeName(val)
				if err != nil {
					c.Problems = append(c.Problems, problem(IDUnsupportedEntry, diag.Info, r, "capspec cannot read the name %q: %v", val, err))
					continue
				}
				pat = NamePattern{Kind: Exact, Text: n}
			}
			m.resolve = append(m.resolve, struct {
				pattern NamePattern
				entry   int
			}{pat, len(c.Entries)})
			c.Entries = append(c.Entries, Entry{Text: w.Text, Range: r})
		}
	}
	m.listen = len(c.Entries)
	listen := Entry{Text: "(a TCP listen without bind, which iwasm does not check)"}
	if len(src.Words) > 0 {
		w := src.Words[0]
		listen.Range = diag.NewFile(w.Origin, w.Text).Range(0, len(w.Text))
	}
	c.Entries = append(c.Entries, listen)
	c.Text = strings.Join(c.Words, " ")
	return c
}

// generateWAMR writes the --addr-pool and --allow-resolve closest to a policy.
func generateWAMR(p *policy.Policy) ([]string, []genEntry) {
	var b4, b6 netipx.IPSetBuilder
	rules4, rules6 := []int{}, []int{}
	anyFam := map[policy.Families][]int{}
	names := newByHost()
	addFam := func(f policy.Families, rule int) {
		for _, g := range fams {
			if f&g != 0 {
				anyFam[g] = append(anyFam[g], rule)
			}
		}
	}
	for _, r := range p.Rules {
		switch {
		case r.Kind == ast.Resolve:
			names.add(wamrName(r.Host), nil, r.Index)
		case r.Host.Kind == policy.AnyHost:
			addFam(r.Families, r.Index)
		case r.Host.Kind == policy.AddressHost:
			if r.Host.Prefix.Addr().Is4() {
				b4.AddPrefix(r.Host.Prefix)
				rules4 = append(rules4, r.Index)
			} else {
				b6.AddPrefix(r.Host.Prefix)
				rules6 = append(rules6, r.Index)
			}
		case r.Host.Kind == policy.LocalhostHost:
			if r.Families&policy.IPv4 != 0 {
				b4.AddPrefix(policy.LoopbackPrefix(policy.IPv4))
				rules4 = append(rules4, r.Index)
			}
			if r.Families&policy.IPv6 != 0 {
				b6.AddPrefix(policy.LoopbackPrefix(policy.IPv6))
				rules6 = append(rules6, r.Index)
			}
			if r.Kind == ast.Outbound {
				names.add("localhost", nil, r.Index)
			}
		case r.Kind == ast.Outbound && r.Host.Kind.IsName():
			// Addresses of a name are not known in advance: every address,
			// in the families the guest can get one in (a mapped name
			// answers its mapping's family only, SPEC §3.2).
			addFam(r.Families&lookupFamilies(p, r.Host), r.Index)
			names.add(wamrName(r.Host), nil, r.Index)
		}
		// Inbound on an interface name: WAMR cannot name interfaces; left out.
	}
	var gen []genEntry
	var pool []string
	for _, fb := range []struct {
		b     *netipx.IPSetBuilder
		f     policy.Families
		rules []int
	}{{&b4, policy.IPv4, rules4}, {&b6, policy.IPv6, rules6}} {
		if rs := anyFam[fb.f]; len(rs) > 0 {
			text := "0.0.0.0/0"
			if fb.f == policy.IPv6 {
				text = "::/0"
			}
			pool = append(pool, text)
			gen = append(gen, genEntry{text: text, rules: sortedRules(uniq(append(rs, fb.rules...)))})
			continue
		}
		set, _ := fb.b.IPSet()
		ps := wamrPrefixes(set, fb.f, wamrMax-len(pool))
		for _, pf := range ps {
			pool = append(pool, pf.String())
			gen = append(gen, genEntry{text: pf.String(), rules: sortedRules(uniq(fb.rules))})
		}
	}
	var words []string
	if len(pool) > 0 {
		words = append(words, "--addr-pool="+strings.Join(pool, ","))
	}
	order := names.order
	if len(order) > wamrMax {
		order = []string{"*"}
		var all []int
		for _, n := range names.order {
			all = append(all, names.rules[n]...)
		}
		names.rules["*"] = uniq(all)
	}
	for _, n := range order {
		words = append(words, "--allow-resolve="+n)
		gen = append(gen, genEntry{text: "--allow-resolve=" + n, rules: sortedRules(names.rules[n])})
	}
	return words, gen
}

func wamrName(h policy.Host) string {
	switch h.Kind {
	case policy.AnyHost:
		return "*"
	case policy.WildcardHost:
		return "*." + h.Name
	}
	return h.Name
}

// wamrPrefixes writes a set of addresses as at most max prefixes WAMR
// reads as written: a prefix whose address is all zeros means every
// address to WAMR, so the unspecified address (never a destination) is
// left out of a set that is not the whole family; past max prefixes, the
// two whose common network is smallest are merged.
func wamrPrefixes(set *netipx.IPSet, f policy.Families, max int) []netip.Prefix {
	if set == nil || max <= 0 {
		return nil
	}
	whole := netip.PrefixFrom(unspecified(f), 0)
	if set.ContainsPrefix(whole) {
		return []netip.Prefix{whole}
	}
	var b netipx.IPSetBuilder
	b.AddSet(set)
	b.Remove(unspecified(f))
	s, _ := b.IPSet()
	ps := s.Prefixes()
	for len(ps) > max {
		best, bestBits := 0, -1
		for i := 0; i+1 < len(ps); i++ {
			if bits := commonBits(ps[i].Addr(), ps[i+1].Addr()); bits > bestBits {
				best, bestBits = i, bits
			}
		}
		merged := netip.PrefixFrom(ps[best].Addr(), bestBits).Masked()
		if merged.Addr().IsUnspecified() {
			return []netip.Prefix{whole}
		}
		var mb netipx.IPSetBuilder
		for _, p := range ps {
			mb.AddPrefix(p)
		}
		mb.AddPrefix(merged)
		ms, _ := mb.IPSet()
		ps = ms.Prefixes()
	}
	return ps
}

// commonBits returns the length of the common prefix of two addresses of one family.
func commonBits(a, b netip.Addr) int {
	x, y := a.AsSlice(), b.AsSlice()
	n := 0
	for i := range x {
		d := x[i] ^ y[i]
		if d == 0 {
			n += 8
			continue
		}
		for d&0x80 == 0 {
			n++
			d <<= 1
		}
		break
	}
	return n
}

// wamrFlags writes the capspec flags closest to a WAMR configuration.
func wamrFlags(c *Config) []flagFrom {
	m := c.model.(*wamrModel)
	var out []flagFrom
	add := func(flag string, e int) { out = append(out, flagFrom{flag, e}) }
	for _, p := range m.pool {
		fam := "#ipv4-only"
		if p.prefix.Addr().Is6() {
			fam = "#ipv6-only"
		}
		host, local := "", ""
		switch {
		case p.any:
			host, local = "*", "*"
		case p.prefix.IsSingleIP():
			host, local, fam = addrText(p.prefix.Addr()), addrText(p.prefix.Addr()), ""
		default:
			host, fam = p.prefix.String(), ""
			if p.prefix.Addr().Is6() {
				host = "[" + p.prefix.String() + "]"
			}
		}
		for _, pr := range []string{"tcp", "udp"} {
			add(fmt.Sprintf("--allow-outbound=%s://%s:*%s", pr, host, fam), p.entry)
			if local != "" {
				add(fmt.Sprintf("--allow-inbound=%s://%s:*%s", pr, local, fam), p.entry)
			}
		}
	}
	for _, r := range m.resolve {
		switch r.pattern.Kind {
		case AnyName:
			add("--allow-resolve=*", r.entry)
		case Exact:
			add("--allow-resolve="+r.pattern.Text, r.entry)
		case Suffix:
			if d, ok := strings.CutPrefix(r.pattern.Text, "."); ok {
				add("--allow-resolve=*."+d, r.entry)
			} else if _, err := eval.NormalizeName(r.pattern.Text); err == nil {
				add("--allow-resolve="+r.pattern.Text, r.entry)
				add("--allow-resolve=*."+r.pattern.Text, r.entry)
			}
		}
	}
	add("--allow-inbound=tcp://*:0", m.listen)
	return out
}

var wamrTarget = &target{
	name:       "wamr",
	generate:   generateWAMR,
	read:       readWAMR,
	flags:      wamrFlags,
	importable: true,
}
