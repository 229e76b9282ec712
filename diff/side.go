package diff

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	syncatomic "sync/atomic" // renamed: the tests have a function atomic

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Interfaces is the interface table every comparison decides inbound
// requests with: an empty one, so that a result never depends on the
// machine it is computed on. With it, a rule for eth0 allows listening on
// "eth0" by name and on no address, and localhost means the loopback
// addresses (no interface is known to be a loopback one).
var Interfaces = eval.NewInterfaces(nil)

// side is one policy of a comparison, indexed for the questions the
// comparison asks of it.
type side struct {
	p *policy.Policy

	res names       // resolve rules, explicit and implied
	out [2]outRules // outbound rules, per protocol (tcp, udp)
	in  [2]inRules  // inbound rules, per protocol

	mapped map[string]bool // names a resolve rule (explicit or implied) maps
	// mappedBelow holds, for a domain, the mapped names strictly below it.
	mappedBelow map[string][]string
	// mentioned holds every exact name and wildcard domain of a rule, and
	// lastLabels the last label of each (for names no rule matches).
	mentioned  map[string]bool
	lastLabels map[string]bool

	kindOnce sync.Once
	byKind   [3]*group // outbound and inbound rules, by kind

	firstOnce [3]sync.Once
	firstIdx  [3]*firstOnPort // the first rules on a port of byKind's

	belowOnce sync.Once
	below     map[belowKey]*group // rules whose name or domain is strictly below a domain

	refMu       sync.Mutex
	refRules    map[refKey]*refRules      // the rules of a kind, protocol and port (see reference)
	refSize     int                       // the ports and rules refRules holds
	portBuckets map[int][]*policy.Rule    // rules by 256-port block
	resByName   map[string][]*policy.Rule // resolve rules by name or domain ("" for "*")
}

// names holds rules by the names they match.
type names struct {
	exact map[string]*group // exact names and localhost
	wild  map[string]*group // wildcards by their domain
	any   *group            // "*" (resolve rules only)
	all   *group            // every rule
}

func newNames() names {
	return names{exact: map[string]*group{}, wild: map[string]*group{}}
}

func (n *names) add(r *policy.Rule) {
	n.all = n.all.add(r)
	switch r.Host.Kind {
	case policy.AnyHost:
		n.any = n.any.add(r)
	case policy.WildcardHost:
		n.wild[r.Host.Name] = n.wild[r.Host.Name].add(r)
	default:
		n.exact[r.Host.Name] = n.exact[r.Host.Name].add(r)
	}
}

// matching calls f with every rule matching name: "*", the exact name,
// and the wildcards above it.
func (n *names) matching(name string, f func(*policy.Rule)) {
	n.meeting(name, nil, every(f))
}

// meeting calls yield with every rule matching name whose ports meet ps
// (all of them for nil ps), until yield returns false; it returns false
// when stopped.
func (n *names) meeting(name string, ps policy.PortSet, yield func(*policy.Rule) bool) bool {
	if !n.any.meeting(ps, yield) || !n.exact[name].meeting(ps, yield) {
		return false
	}
	for d := name; ; {
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return true
		}
		d = d[i+1:]
		if !n.wild[d].meeting(ps, yield) {
			return false
		}
	}
}

// every makes a callback that never stops of f.
func every(f func(*policy.Rule)) func(*policy.Rule) bool {
	return func(r *policy.Rule) bool { f(r); return true }
}

// outRules holds the outbound rules of one protocol.
type outRules struct {
	names names         // rules to names, wildcards and localhost
	addrs [2]*addrRules // "*" and address rules, per family (IPv4, IPv6)
}

// inRules holds the inbound rules of one protocol by local side.
type inRules struct {
	all       *group
	any       *group
	addr      map[netip.Addr]*group
	localhost *group
	iface     map[string]*group
	loopback  []netip.Addr // the loopback addresses of addr, sorted
}

// group is rules of one host, with per family the union of their ports
// and their port boundaries, and an index of their ports, computed once
// when first asked for (most groups, one per name, never are). A nil
// group has no rule.
type group struct {
	rules []*policy.Rule
	mu    sync.Mutex // held while ext or idx is built
	ext   syncatomic.Pointer[groupPorts]
	idx   syncatomic.Pointer[portIndex]
}

// lazy returns what p holds, building it with make (under g.mu) the first
// time.
func lazy[T any](g *group, p *syncatomic.Pointer[T], make func() *T) *T {
	if x := p.Load(); x != nil {
		return x
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if x := p.Load(); x != nil {
		return x
	}
	x := make()
	p.Store(x)
	return x
}

// groupPorts are a group's ports and port boundaries per family.
type groupPorts struct {
	ports [2]policy.PortSet
	cuts  [2][]int // the first port of each range and the one after its last, sorted
}

// smallGroup is how many rules a group looks through one by one rather
// than through an index of their ports.
const smallGroup = 8

// meeting calls yield with every rule of the group whose ports meet ps
// (every rule for nil ps), each once, until yield returns false; it
// returns false when stopped.
func (g *group) meeting(ps policy.PortSet, yield func(*policy.Rule) bool) bool {
	switch {
	case g == nil:
	case ps == nil:
		for _, r := range g.rules {
			if !yield(r) {
				return false
			}
		}
	case len(g.rules) <= smallGroup:
		for _, r := range g.rules {
			if r.Ports.Overlaps(ps) && !yield(r) {
				return false
			}
		}
	default:
		return lazy(g, &g.idx, func() *portIndex { return newPortIndex(g.rules) }).meeting(ps, yield)
	}
	return true
}

func (g *group) add(r *policy.Rule) *group {
	if g == nil {
		g = &group{}
	}
	g.rules = append(g.rules, r)
	return g
}

func (g *group) build() *groupPorts {
	return lazy(g, &g.ext, func() *groupPorts {
		x := &groupPorts{}
		for fi, f := range bothFamilies {
			var rs []policy.PortRange
			for _, r := range g.rules {
				if r.Families.Has(f) {
					rs = append(rs, r.Ports...)
				}
			}
			x.ports[fi] = policy.Ports(rs...)
			for _, pr := range rs {
				x.cuts[fi] = append(x.cuts[fi], int(pr.Lo), int(pr.Hi)+1)
			}
			slices.Sort(x.cuts[fi])
			x.cuts[fi] = slices.Compact(x.cuts[fi])
		}
		return x
	})
}

// list returns the group's rules.
func (g *group) list() []*policy.Rule {
	if g == nil {
		return nil
	}
	return g.rules
}

// portsIn returns the ports the group's rules allow in family f.
func (g *group) portsIn(f policy.Families) policy.PortSet {
	if g == nil {
		return nil
	}
	return g.build().ports[famIndex(f)]
}

// cutsIn returns the port boundaries of the group's rules of family f
// inside [lo, hi].
func (g *group) cutsIn(f policy.Families, lo, hi int) []int {
	if g == nil {
		return nil
	}
	cs := g.build().cuts[famIndex(f)]
	i, _ := slices.BinarySearch(cs, lo)
	j, _ := slices.BinarySearch(cs, hi+1)
	return cs[i:j]
}

// addrRules holds the outbound rules of one protocol whose host is "*" or
// an address, that allow one family.
type addrRules struct {
	fam      policy.Families
	any      *group
	byPrefix map[netip.Prefix]*group
	bits     []int          // prefix lengths present, ascending
	sorted   []*policy.Rule // address rules by first address
	all      *group         // every rule, "*" included

	fullOnce sync.Once
	full     []span // what the rules leave of the whole family, per run of ports
}

func famIndex(f policy.Families) int {
	if f == policy.IPv6 {
		return 1
	}
	return 0
}

var bothFamilies = [2]policy.Families{policy.IPv4, policy.IPv6}

func protoIndex(p ast.Protocol) int {
	if p == ast.UDP {
		return 1
	}
	return 0
}

// newSide indexes a compiled policy.
func newSide(p *policy.Policy) *side {
	s := &side{p: p,
		res: newNames(), mapped: map[string]bool{}, mappedBelow: map[string][]string{},
		mentioned: map[string]bool{}, lastLabels: map[string]bool{}, refRules: map[refKey]*refRules{}}
	for i := range s.out {
		s.out[i].names = newNames()
		for fi, f := range bothFamilies {
			s.out[i].addrs[fi] = &addrRules{fam: f, byPrefix: map[netip.Prefix]*group{}}
		}
		s.in[i] = inRules{addr: map[netip.Addr]*group{}, iface: map[string]*group{}}
	}
	mention := func(h policy.Host) {
		if h.Kind.IsName() {
			s.mentioned[h.Name] = true
			s.lastLabels[h.Name[strings.LastIndexByte(h.Name, '.')+1:]] = true
		}
	}
	for _, r := range p.Resolves {
		s.res.add(r)
		mention(r.Host)
		if r.HostMap.IsValid() && !s.mapped[r.Host.Name] {
			s.mapped[r.Host.Name] = true
			for d := r.Host.Name; ; {
				i := strings.IndexByte(d, '.')
				if i < 0 {
					break
				}
				d = d[i+1:]
				s.mappedBelow[d] = append(s.mappedBelow[d], r.Host.Name)
			}
		}
	}
	for _, r := range p.Rules {
		mention(r.Host)
		pi := protoIndex(r.Protocol)
		switch r.Kind {
		case ast.Outbound:
			if r.Host.Kind.IsName() {
				s.out[pi].names.add(r)
				continue
			}
			for fi, f := range bothFamilies {
				if r.Families.Has(f) {
					s.out[pi].addrs[fi].add(r)
				}
			}
		case ast.Inbound:
			in := &s.in[pi]
			in.all = in.all.add(r)
			switch r.Host.Kind {
			case policy.AnyHost:
				in.any = in.any.add(r)
			case policy.AddressHost:
				a := r.Host.Prefix.Addr()
				in.addr[a] = in.addr[a].add(r)
			case policy.LocalhostHost:
				in.localhost = in.localhost.add(r)
			case policy.InterfaceHost:
				in.iface[r.Host.Name] = in.iface[r.Host.Name].add(r)
			}
		}
	}
	for i := range s.out {
		for _, a := range s.out[i].addrs {
			a.finish()
		}
		for a := range s.in[i].addr {
			if policy.IsLoopback(a) {
				s.in[i].loopback = append(s.in[i].loopback, a)
			}
		}
		slices.SortFunc(s.in[i].loopback, netip.Addr.Compare)
	}
	return s
}

func (a *addrRules) add(r *policy.Rule) {
	a.all = a.all.add(r)
	if r.Host.Kind == policy.AnyHost {
		a.any = a.any.add(r)
		return
	}
	p := r.Host.Prefix
	if a.byPrefix[p] == nil {
		if i, found := slices.BinarySearch(a.bits, p.Bits()); !found {
			a.bits = slices.Insert(a.bits, i, p.Bits())
		}
	}
	a.byPrefix[p] = a.byPrefix[p].add(r)
	a.sorted = append(a.sorted, r)
}

func (a *addrRules) finish() {
	slices.SortStableFunc(a.sorted, func(x, y *policy.Rule) int {
		return x.Host.Prefix.Addr().Compare(y.Host.Prefix.Addr())
	})
}

// containing calls yield with the rules whose network holds every
// address of x ("*" and the networks at or above x) and whose ports meet
// ps (every one for nil ps), until yield returns false; it returns false
// when stopped.
func (a *addrRules) containing(x netip.Prefix, ps policy.PortSet, yield func(*policy.Rule) bool) bool {
	if !a.any.meeting(ps, yield) {
		return false
	}
	for _, b := range a.bits {
		if b > x.Bits() {
			break
		}
		p, _ := x.Addr().Prefix(b)
		if !a.byPrefix[p].meeting(ps, yield) {
			return false
		}
	}
	return true
}

// overlapping calls yield with the rules whose network shares an address
// with x and whose ports meet ps (every one for nil ps), until yield
// returns false; it returns false when stopped.
func (a *addrRules) overlapping(x netip.Prefix, ps policy.PortSet, yield func(*policy.Rule) bool) bool {
	if x.Bits() == 0 {
		return a.all.meeting(ps, yield)
	}
	if !a.containing(x, ps, yield) {
		return false
	}
	first, last := x.Addr(), lastAddr(x)
	i, _ := slices.BinarySearchFunc(a.sorted, first, func(r *policy.Rule, t netip.Addr) int { return r.Host.Prefix.Addr().Compare(t) })
	for ; i < len(a.sorted) && a.sorted[i].Host.Prefix.Addr().Compare(last) <= 0; i++ {
		if r := a.sorted[i]; r.Host.Prefix.Bits() > x.Bits() && (ps == nil || r.Ports.Overlaps(ps)) && !yield(r) {
			return false
		}
	}
	return true
}

// unspecified are the networks no connect or send may reach, whatever the
// rules say (SPEC §3.3): the comparison counts them as covered on every side.
var unspecified = []netip.Prefix{policy.Unspecified4, policy.Unspecified6}

// fullSpans returns, per run of ports, what the rules leave uncovered of
// the whole family (computed once).
func (a *addrRules) fullSpans() []span {
	a.fullOnce.Do(func() {
		rects := make([]rect, 0, len(a.all.list()))
		for _, r := range a.all.list() {
			rects = append(rects, ruleRect(r, a.fam))
		}
		a.full = sweep(wholeFamily(a.fam), rects, policy.PortSpan(0, policy.MaxPort), unspecified, 2)
	})
	return a.full
}

// ruleRect is the rectangle of an address-like rule in family f.
func ruleRect(r *policy.Rule, f policy.Families) rect {
	if r.Host.Kind == policy.AnyHost {
		return rect{wholeFamily(f), r.Ports}
	}
	return rect{r.Host.Prefix, r.Ports}
}

// wholeFamily is 0.0.0.0/0 or ::/0.
func wholeFamily(f policy.Families) netip.Prefix {
	if f == policy.IPv6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// uncovered returns the spans of ports of ps at which the rules, and the
// extra rectangles, leave some address of x uncovered (outbound: the
// unspecified addresses count as covered).
func (a *addrRules) uncovered(x netip.Prefix, ps policy.PortSet, extra []rect) []span {
	if ps.IsEmpty() {
		return nil
	}
	if x.Bits() == 0 && len(extra) == 0 {
		return clipSpans(a.fullSpans(), ps)
	}
	if x.Bits() == 0 && len(extra) == 1 && extra[0].prefix.IsSingleIP() {
		return a.uncoveredBut(ps, extra[0])
	}
	rects := slices.Clone(extra)
	a.overlapping(x, ps, every(func(r *policy.Rule) { rects = append(rects, ruleRect(r, a.fam)) }))
	return sweep(x, rects, ps, unspecified, 1)
}

// uncoveredBut is uncovered for the whole family with one more covered
// address on some ports: the spans of the whole family keep two
// uncovered addresses each, so one of them is not that address.
func (a *addrRules) uncoveredBut(ps policy.PortSet, e rect) []span {
	// Cut the spans at the extra rectangle's ports and drop its address.
	var cut []span
	for _, s := range clipSpans(a.fullSpans(), ps) {
		in := policy.PortSpan(uint16(s.lo), uint16(s.hi)).Intersect(e.ports)
		rest := policy.PortSpan(uint16(s.lo), uint16(s.hi)).Minus(e.ports)
		for _, pr := range rest {
			cut = append(cut, span{lo: int(pr.Lo), hi: int(pr.Hi), full: s.full, addrs: s.addrs})
		}
		for _, pr := range in {
			t := span{lo: int(pr.Lo), hi: int(pr.Hi), full: true}
			for _, ad := range s.addrs {
				if !e.prefix.Contains(ad) {
					t.full, t.addrs = false, []netip.Addr{ad}
					break
				}
			}
			cut = append(cut, t)
		}
	}
	slices.SortFunc(cut, func(x, y span) int { return x.lo - y.lo })
	return cut
}

// clipSpans returns the spans restricted to the ports of ps.
func clipSpans(ss []span, ps policy.PortSet) []span {
	var out []span
	for _, pr := range ps {
		i, _ := slices.BinarySearchFunc(ss, int(pr.Lo), func(s span, p int) int {
			if s.hi < p {
				return -1
			}
			if s.lo > p {
				return 1
			}
			return 0
		})
		for ; i < len(ss) && ss[i].lo <= int(pr.Hi); i++ {
			s := ss[i]
			s.lo, s.hi = max(s.lo, int(pr.Lo)), min(s.hi, int(pr.Hi))
			out = append(out, s)
		}
	}
	return out
}

// reach returns the addresses of family f that a connect "via name" may
// go to under the side's rules, as the evaluator's "resolved from" says
// (policy.ResolvedFrom): the mapped address of a name mapped in f, none
// (the invalid prefix) for a name mapped in the other family only, the
// loopback network for localhost, every address otherwise. Where a name is
// mapped comes from the side's decisions of its lookups.
func (s *side) reach(name string, f policy.Families) netip.Prefix {
	if name == "localhost" {
		return policy.LoopbackPrefix(f)
	}
	if s.mapped[name] {
		var m policy.NameMaps
		for i, g := range bothFamilies {
			d := s.reference(eval.Request{Op: eval.Lookup, Name: name, Family: g})
			m[i] = d.Answers[i]
		}
		if m.Mapped() {
			if a := m.In(f); a.IsValid() {
				return netip.PrefixFrom(a, a.BitLen())
			}
			return netip.Prefix{}
		}
	}
	return wholeFamily(f)
}

// belowKey names the rules of a kind and protocol whose name or wildcard
// domain is strictly below a domain.
type belowKey struct {
	kind   ast.Kind
	proto  ast.Protocol
	domain string
}

// belowIndex returns the rules whose name or wildcard domain is strictly
// below each domain, by kind and protocol (built once, for the lists of
// exceptions).
func (s *side) belowIndex() map[belowKey]*group {
	s.belowOnce.Do(func() {
		s.below = map[belowKey]*group{}
		add := func(r *policy.Rule) {
			if !r.Host.Kind.IsName() {
				return
			}
			for d := r.Host.Name; ; {
				i := strings.IndexByte(d, '.')
				if i < 0 {
					break
				}
				d = d[i+1:]
				k := belowKey{r.Kind, r.Protocol, d}
				s.below[k] = s.below[k].add(r)
			}
		}
		for _, r := range s.p.Rules {
			if r.Kind == ast.Outbound {
				add(r)
			}
		}
		for _, r := range s.p.Resolves {
			add(r)
		}
	})
	return s.below
}
