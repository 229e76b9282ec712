package policy

import (
	"cmp"
	"hash/maphash"
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
// every pair: it is how a pass over many rules stays near linear. Hosts
// are found by the hash of their key (group.go): the index holds some 16
// bytes per port range and no map.
type Index struct {
	rules []*Rule
	seed  maphash.Seed
	bits  map[bool][]int
	// narrow holds each port range narrower than wideRange of every rule,
	// sorted by the hash of its host, then lowest port; wide the rules with
	// a wide range, or none (resolve rules), sorted by hash, then position.
	narrow []indexEntry
	wide   []hashed
}

type indexEntry struct {
	hash   uint64
	lo, hi uint16
	pos    int32
}

// wideRange is the number of ports from which a range is looked at by
// every query of its host; a narrower one only by queries near it.
const wideRange = 1024

// NewIndex indexes rules; the index's answers are positions in rules.
func NewIndex(rules []*Rule) *Index {
	x := &Index{rules: rules, seed: maphash.MakeSeed(), bits: map[bool][]int{}}
	for pos, r := range rules {
		h := maphash.Comparable(x.seed, hostOf(r, r.Host))
		addBits(x.bits, r.Host)
		if len(r.Ports) == 0 {
			x.wide = append(x.wide, hashed{h, int32(pos)})
		}
		for _, pr := range r.Ports {
			if pr.Len() >= wideRange {
				x.wide = append(x.wide, hashed{h, int32(pos)})
				continue
			}
			x.narrow = append(x.narrow, indexEntry{h, pr.Lo, pr.Hi, int32(pos)})
		}
	}
	sortHashed(x.wide)
	slices.SortFunc(x.narrow, func(p, q indexEntry) int {
		return cmp.Or(cmp.Compare(p.hash, q.hash), cmp.Compare(p.lo, q.lo), cmp.Compare(p.pos, q.pos))
	})
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
		key := hostOf(r, h)
		hash := maphash.Comparable(x.seed, key)
		add := func(pos int32) {
			if c := x.rules[pos]; hostOf(c, c.Host) == key {
				out = append(out, int(pos))
			}
		}
		lo, hi := hashRun(x.wide, hash)
		for _, w := range x.wide[lo:hi] {
			add(w.pos)
		}
		// The narrow entries of the host: [start, end).
		start, end := run(x.narrow, hash, func(e indexEntry) uint64 { return e.hash })
		narrow := x.narrow[start:end]
		if len(ports) == 0 {
			for _, e := range narrow {
				add(e.pos)
			}
			return
		}
		for _, q := range ports {
			// Narrow entries meeting [q.Lo, q.Hi] start within wideRange
			// ports below q.Lo, or inside it.
			from := max(int(q.Lo)-wideRange+1, 0)
			i, _ := slices.BinarySearchFunc(narrow, from, func(e indexEntry, t int) int { return int(e.lo) - t })
			for ; i < len(narrow) && narrow[i].lo <= q.Hi; i++ {
				if narrow[i].hi >= q.Lo {
					add(narrow[i].pos)
				}
			}
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}
