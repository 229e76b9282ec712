package interop

import (
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// NamePattern is how a policy rule or a runtime entry matches DNS names.
// Names and patterns are compared in capspec's normal form: lowercase
// A-labels without a trailing dot (a guest picks the spelling it sends, and
// DNS ignores case, so a runtime that compares raw strings still reaches
// every spelling of a name it matches).
type NamePattern struct {
	Kind PatternKind
	// Text is the name (Exact), the domain (Below, BelowOrApex), or the raw
	// suffix (Suffix).
	Text string
}

// PatternKind is a kind of name pattern.
type PatternKind uint8

// The kinds of name patterns the runtimes use.
const (
	AnyName     PatternKind = iota // every name
	Exact                          // exactly Text
	Below                          // one or more whole labels before Text (capspec, Spin, wasmer "*.x")
	BelowOrApex                    // Text and every name below it (Deno "*.x")
	Suffix                         // every name whose text ends with Text (wasmer, WAMR "*x")
)

// Matches reports whether the pattern matches a normalized name.
func (p NamePattern) Matches(name string) bool {
	switch p.Kind {
	case AnyName:
		return true
	case Exact:
		return name == p.Text
	case Below:
		return policy.UnderDomain(name, p.Text)
	case BelowOrApex:
		return name == p.Text || policy.UnderDomain(name, p.Text)
	case Suffix:
		return strings.HasSuffix(name, p.Text)
	}
	return false
}

// space is the finite set of requests that stands for every request when
// two deciders are compared: the boundaries of both sides cut names,
// addresses and ports into atoms on which both decide alike, and one
// request per cell of atoms is decided.
type space struct {
	patterns []NamePattern
	names    []string       // one representative name per signature
	sigIndex map[string]int // signature -> index in names
	addrs    []netip.Addr   // start of each elementary address range, sorted
	ports    []int          // start of each elementary port range, sorted (0..65535)
	ifaces   []string       // interface names, plus one no rule names
}

// bounds collects the boundaries a side contributes to a space.
type bounds struct {
	patterns []NamePattern
	prefixes []netip.Prefix
	cuts     []int // port boundaries: the first port of a range and the one after its last
	ifaces   []string
}

func (b *bounds) name(p NamePattern) { b.patterns = append(b.patterns, p) }

func (b *bounds) prefix(p netip.Prefix) {
	if p.IsValid() {
		b.prefixes = append(b.prefixes, p.Masked())
	}
}

func (b *bounds) addr(a netip.Addr) {
	if a.IsValid() {
		b.prefixes = append(b.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
}

func (b *bounds) portRange(lo, hi int) { b.cuts = append(b.cuts, lo, hi+1) }

func (b *bounds) portSet(s policy.PortSet) {
	for _, r := range s {
		b.portRange(int(r.Lo), int(r.Hi))
	}
}

// policyBounds adds the boundaries of a compiled policy.
func policyBounds(b *bounds, p *policy.Policy) {
	for _, r := range append(slices.Clone(p.Rules), p.Resolves...) {
		switch r.Host.Kind {
		case policy.NameHost, policy.LocalhostHost:
			b.name(NamePattern{Kind: Exact, Text: r.Host.Name})
		case policy.WildcardHost:
			b.name(NamePattern{Kind: Below, Text: r.Host.Name})
		case policy.AddressHost:
			b.prefix(r.Host.Prefix)
		case policy.InterfaceHost:
			b.ifaces = append(b.ifaces, r.Host.Name)
		}
		b.addr(r.HostMap)
		b.portSet(r.Ports)
		if r.PortMap.IsMapped() {
			b.portRange(int(r.PortMap.From.Lo), int(r.PortMap.From.Hi))
		}
	}
}

// otherName and otherIface stand for the names and interfaces no side
// mentions.
const (
	otherName  = "other.example"
	otherIface = "other0"
)

// special addresses every space cuts at: what capspec treats specially
// (unspecified, loopback, localhost's answers) and the runtimes too.
var specialPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("0.0.0.0/32"),
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"),
	netip.MustParsePrefix("::/128"), netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32"),
}

// namePrefixes are put before a pattern's text to make names that fall
// on each side of its boundaries.
var namePrefixes = []string{"", "a.", "b.a.", "a", "a-", "z"}

// newSpace makes the space of two sides' boundaries.
func newSpace(bs ...*bounds) *space {
	s := &space{sigIndex: map[string]int{}}
	var prefixes []netip.Prefix
	cuts := []int{0, 1, 65535, 65536}
	ifaces := []string{otherIface}
	for _, b := range bs {
		s.patterns = append(s.patterns, b.patterns...)
		prefixes = append(prefixes, b.prefixes...)
		cuts = append(cuts, b.cuts...)
		ifaces = append(ifaces, b.ifaces...)
	}
	s.patterns = uniq(s.patterns)
	// Names: every candidate, one kept per signature.
	cands := []string{"localhost", otherName}
	for _, p := range s.patterns {
		if p.Kind == AnyName {
			continue
		}
		for _, pre := range namePrefixes {
			cands = append(cands, pre+strings.TrimPrefix(p.Text, "."))
			if strings.HasPrefix(p.Text, ".") {
				cands = append(cands, pre+"x"+p.Text)
			}
		}
	}
	for _, c := range cands {
		n, err := eval.NormalizeName(c)
		if err != nil || n != c {
			continue
		}
		sig := s.signature(n)
		if _, ok := s.sigIndex[sig]; !ok {
			s.sigIndex[sig] = len(s.names)
			s.names = append(s.names, n)
		}
	}
	// Addresses: the starts of the elementary ranges the prefixes cut.
	starts := []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	for _, p := range append(prefixes, specialPrefixes...) {
		p = p.Masked()
		starts = append(starts, p.Addr())
		if next := lastAddr(p).Next(); next.IsValid() && next.Is4() == p.Addr().Is4() {
			starts = append(starts, next)
		}
	}
	slices.SortFunc(starts, netip.Addr.Compare)
	s.addrs = slices.Compact(starts)
	// Ports.
	for _, c := range cuts {
		if c >= 0 && c <= 65535 {
			s.ports = append(s.ports, c)
		}
	}
	slices.Sort(s.ports)
	s.ports = slices.Compact(s.ports)
	slices.Sort(ifaces)
	s.ifaces = slices.Compact(ifaces)
	return s
}

func uniq[T comparable](xs []T) []T {
	seen := map[T]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// lastAddr returns the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// signature says which patterns match a name: the name's atom.
func (s *space) signature(name string) string {
	b := make([]byte, len(s.patterns))
	for i, p := range s.patterns {
		if p.Matches(name) {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
	}
	if name == "localhost" {
		return "L" + string(b)
	}
	return string(b)
}

// nameAtom returns the atom of a name, or -1 when no probe stands for it.
func (s *space) nameAtom(name string) int {
	i, ok := s.sigIndex[s.signature(name)]
	if !ok {
		return -1
	}
	return i
}

// addrAtom returns the index of the elementary range holding a.
func (s *space) addrAtom(a netip.Addr) int {
	i := sort.Search(len(s.addrs), func(i int) bool { return s.addrs[i].Compare(a) > 0 })
	return i - 1
}

// portAtom returns the index of the elementary port range holding p.
func (s *space) portAtom(p uint16) int {
	i := sort.Search(len(s.ports), func(i int) bool { return s.ports[i] > int(p) })
	return i - 1
}

// portSpan returns the ports of atom i.
func (s *space) portSpan(i int) policy.PortRange {
	hi := 65535
	if i+1 < len(s.ports) {
		hi = s.ports[i+1] - 1
	}
	return policy.PortRange{Lo: uint16(s.ports[i]), Hi: uint16(hi)}
}

// addrSpan returns the first and last address of atom i.
func (s *space) addrSpan(i int) (netip.Addr, netip.Addr) {
	lo := s.addrs[i]
	if i+1 < len(s.addrs) && s.addrs[i+1].Is4() == lo.Is4() {
		return lo, s.addrs[i+1].Prev()
	}
	if lo.Is4() {
		return lo, netip.MustParseAddr("255.255.255.255")
	}
	return lo, netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
}

// ifaceAtom returns the index of an interface name (the last, unnamed one
// for a name no side mentions).
func (s *space) ifaceAtom(name string) int {
	if i := slices.Index(s.ifaces, name); i >= 0 {
		return i
	}
	return slices.Index(s.ifaces, otherIface)
}
