package policy

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/literal"
)

// coveringHosts calls try with every host whose rules (of r's kind and
// protocol) may cover r: "*", r's own host, the wildcards above a name, the
// loopback interfaces of a loopback address (inbound), and for outbound
// rules the networks among bits (the prefix lengths present, by is-IPv6)
// that hold r's addresses. Covers(c, r) holds for no rule c whose host is
// not among them.
func coveringHosts(r *Rule, bits map[bool][]int, try func(Host)) {
	try(Host{Kind: AnyHost})
	if r.Host.Kind != AnyHost {
		try(r.Host)
	}
	switch r.Host.Kind {
	case NameHost, WildcardHost:
		wildcardsAbove(r.Host.Name, try)
	case AddressHost:
		if r.Kind == ast.Inbound && IsLoopback(r.Host.Prefix.Addr()) {
			try(Host{Kind: LocalhostHost, Name: literal.Localhost})
		}
	}
	if r.Kind != ast.Outbound {
		return
	}
	// Networks that may contain the rule's addresses.
	var within []netip.Prefix
	switch {
	case r.Host.Kind == AddressHost:
		within = append(within, r.Host.Prefix)
	case r.Host.Kind == LocalhostHost:
		for _, f := range []Families{IPv4, IPv6} {
			if r.Families.Has(f) {
				within = append(within, LoopbackPrefix(f))
			}
		}
	case r.HostMap.IsValid():
		within = append(within, netip.PrefixFrom(r.HostMap, r.HostMap.BitLen()))
	default:
		for _, f := range []Families{IPv4, IPv6} {
			if r.Families.Has(f) {
				within = append(within, fullPrefix(f))
			}
		}
	}
	for _, w := range within {
		for _, b := range bits[w.Addr().Is6()] {
			if b > w.Bits() {
				break
			}
			p, _ := w.Addr().Prefix(b)
			if p != r.Host.Prefix || r.Host.Kind != AddressHost {
				try(Host{Kind: AddressHost, Prefix: p})
			}
		}
	}
}

// wildcardsAbove calls try with the wildcard of every domain strictly
// above the name n, by whole labels: *.b.c and *.c for a.b.c.
func wildcardsAbove(n string, try func(Host)) {
	for {
		i := strings.IndexByte(n, '.')
		if i < 0 {
			return
		}
		n = n[i+1:]
		try(Host{Kind: WildcardHost, Name: n})
	}
}

// NameCandidates calls try with every host that may match the name n (see
// MatchesName): "*", n itself as a name and as localhost, and the wildcard
// of every domain above n. A set of hosts is asked whether any matches n
// by looking these up, each confirmed with MatchesName, instead of
// comparing every host.
func NameCandidates(n string, try func(Host)) {
	try(Host{Kind: AnyHost})
	try(Host{Kind: NameHost, Name: n})
	try(Host{Kind: LocalhostHost, Name: n})
	wildcardsAbove(n, try)
}

// addBits records the prefix length of an address host in bits.
func addBits(bits map[bool][]int, h Host) {
	if h.Kind != AddressHost {
		return
	}
	v6, n := h.Prefix.Addr().Is6(), h.Prefix.Bits()
	if i, found := slices.BinarySearch(bits[v6], n); !found {
		bits[v6] = slices.Insert(bits[v6], i, n)
	}
}

// Index holds rules by kind, protocol and host, and within a host by port
// range, so that the rules related to a rule are found without comparing
// every pair: it is how a pass over many rules stays near linear.
type Index struct {
	byHost map[hostKey]*indexBucket
	bits   map[bool][]int
}

// indexBucket holds the rules of one host: each port range of a rule as an
// entry, the narrow ones sorted by their lowest port, and the rules with a
// wide range (or none: resolve rules) apart.
type indexBucket struct {
	narrow []indexEntry
	wide   []int
}

type indexEntry struct {
	lo, hi uint16
	pos    int
}

// wideRange is the number of ports from which a range is looked at by
// every query of its bucket; a narrower one only by queries near it.
const wideRange = 1024

// NewIndex indexes rules; the index's answers are positions in rules.
func NewIndex(rules []*Rule) *Index {
	x := &Index{byHost: map[hostKey]*indexBucket{}, bits: map[bool][]int{}}
	for pos, r := range rules {
		k := hostKey{kind: r.Kind, proto: r.Protocol, host: r.Host}
		b := x.byHost[k]
		if b == nil {
			b = &indexBucket{}
			x.byHost[k] = b
		}
		addBits(x.bits, r.Host)
		if len(r.Ports) == 0 {
			b.wide = append(b.wide, pos)
		}
		for _, pr := range r.Ports {
			if pr.Len() >= wideRange {
				b.wide = append(b.wide, pos)
				continue
			}
			b.narrow = append(b.narrow, indexEntry{pr.Lo, pr.Hi, pos})
		}
	}
	for _, b := range x.byHost {
		slices.SortFunc(b.narrow, func(p, q indexEntry) int { return int(p.lo) - int(q.lo) })
	}
	return x
}

// Covering returns, in ascending order and each once, the positions of the
// indexed rules whose host may cover r's (every c for which Covers(c, r)
// holds is among them: see coveringHosts) and that have a port in ports;
// with empty ports, or for a rule without ports, the port is not asked.
// To find the rules that may cover r, ask with r's lowest port; to find
// those that may share a port with r, with r's ports.
func (x *Index) Covering(r *Rule, ports PortSet) []int {
	var out []int
	coveringHosts(r, x.bits, func(h Host) {
		b := x.byHost[hostKey{kind: r.Kind, proto: r.Protocol, host: h}]
		if b == nil {
			return
		}
		out = append(out, b.wide...)
		if len(ports) == 0 {
			for _, e := range b.narrow {
				out = append(out, e.pos)
			}
			return
		}
		for _, q := range ports {
			// Narrow entries meeting [q.Lo, q.Hi] start within wideRange
			// ports below q.Lo, or inside it.
			from := max(int(q.Lo)-wideRange+1, 0)
			i, _ := slices.BinarySearchFunc(b.narrow, from, func(e indexEntry, t int) int { return int(e.lo) - t })
			for ; i < len(b.narrow) && b.narrow[i].lo <= q.Hi; i++ {
				if b.narrow[i].hi >= q.Lo {
					out = append(out, b.narrow[i].pos)
				}
			}
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}
