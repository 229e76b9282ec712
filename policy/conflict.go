package policy

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
)

// conflicts finds the CS101 mapping conflicts of a policy:
//
//   - one name mapped to two addresses of one family (explicit or implied
//     resolve rules; an IPv4 and an IPv6 mapping of one name do not conflict);
//   - one guest port mapped to two host ports by rules of one kind and
//     protocol whose hosts and families overlap;
//   - for inbound rules, two guest ports mapped onto one host port by such
//     rules.
//
// Hosts overlap when one request could match both: "*" overlaps everything;
// names by pattern; addresses by prefix; an outbound rule to a mapped name
// (mapped by the rule itself or by any resolve rule, explicit or implied)
// overlaps the addresses containing its mapping, and a wildcard those
// containing the mapping of a name below it; localhost overlaps loopback
// addresses. An interface and an address or localhost do not overlap here
// (which interface owns an address is known only where the policy runs),
// and neither do an unmapped name and an address (that depends on DNS):
// where such rules both match, the evaluator's tie-break, which does not
// depend on rule order, decides (docs/eval.md).
//
// The checks hash exact hosts and sweep sorted port ranges, so their cost
// grows with the number of rules times the number of overlapping mapping
// rules, not with the square of the number of rules.
func (p *Policy) conflicts() []diag.Diagnostic {
	ds := nameMapConflicts(p.Resolves) // (not copied: n names mapped twice are n findings)
	maps := hostMaps(p.Resolves)
	for _, kind := range []ast.Kind{ast.Outbound, ast.Inbound} {
		for _, proto := range []ast.Protocol{ast.TCP, ast.UDP} {
			var ms []*Rule
			for _, r := range p.Rules {
				if r.Kind == kind && r.Protocol == proto && r.PortMap.IsMapped() {
					ms = append(ms, r)
				}
			}
			if len(ms) < 2 {
				continue
			}
			ds = diag.Gather(ds, portMapConflicts(ms, false, maps))
			if kind == ast.Inbound {
				ds = diag.Gather(ds, portMapConflicts(ms, true, maps))
			}
		}
	}
	diag.Sort(ds)
	return ds
}

// nameMaps holds the addresses names are mapped to by resolve rules, each
// name's sorted (netip.Addr.Compare) and without repeats.
type nameMaps map[string][]netip.Addr

// has reports whether name is mapped to a.
func (m nameMaps) has(name string, a netip.Addr) bool {
	_, ok := slices.BinarySearchFunc(m[name], a, netip.Addr.Compare)
	return ok
}

// anyIn reports whether name is mapped to an address in p for which in
// holds: those in p are one run of the sorted list, found by binary
// search, so that a name mapped to many addresses costs log time.
func (m nameMaps) anyIn(name string, p netip.Prefix, in func(netip.Addr) bool) bool {
	as := m[name]
	first := p.Masked().Addr()
	for i, _ := slices.BinarySearchFunc(as, first, netip.Addr.Compare); i < len(as) && p.Contains(as[i].WithZone("")); i++ {
		if in(as[i]) {
			return true
		}
	}
	return false
}

// hostMaps collects the host mappings of resolve rules (explicit, and
// implied by outbound rules "name->ip").
func hostMaps(resolves []*Rule) nameMaps {
	m := nameMaps{}
	for _, r := range resolves {
		if a := r.HostMap; a.IsValid() {
			m[r.Host.Name] = append(m[r.Host.Name], a)
		}
	}
	// A name may have many mappings, and the same one many times: sorted,
	// each once (no set of every mapping seen).
	for name, as := range m {
		slices.SortFunc(as, netip.Addr.Compare)
		m[name] = slices.Compact(as)
	}
	return m
}

// mapsInto reports whether an outbound rule to a name (or wildcard) can
// connect to a mapped address in prefix p, in a family of fams: its own
// host mapping, a mapping of its name, or of a name below its wildcard.
func (m nameMaps) mapsInto(r *Rule, p netip.Prefix, fams Families) bool {
	in := func(a netip.Addr) bool { return p.Contains(a) && fams.Has(FamilyOf(a)) }
	if r.HostMap.IsValid() && in(r.HostMap) {
		return true
	}
	switch r.Host.Kind {
	case NameHost:
		return m.anyIn(r.Host.Name, p, in)
	case WildcardHost:
		for name, as := range m {
			if r.Host.MatchesName(name) && slices.ContainsFunc(as, in) {
				return true
			}
		}
	}
	return false
}

// nameMapConflicts reports names mapped to two addresses of one family.
func nameMapConflicts(resolves []*Rule) []diag.Diagnostic {
	type slot struct {
		name string
		fam  Families
	}
	first := map[slot]*Rule{}
	reported := map[[2]int]bool{}
	var ds []diag.Diagnostic
	for _, r := range resolves {
		if !r.HostMap.IsValid() {
			continue
		}
		k := slot{r.Host.Name, FamilyOf(r.HostMap)}
		prev, ok := first[k]
		if !ok {
			first[k] = r
			continue
		}
		if prev.HostMap == r.HostMap || reported[[2]int{prev.Index, r.Index}] {
			continue
		}
		reported[[2]int{prev.Index, r.Index}] = true
		ds = append(ds, conflictDiag(r, hostMapRange(r),
			fmt.Sprintf("%s is mapped to two addresses: %s here and %s by %s", r.Host.Name, r.HostMap, prev.HostMap, prev.Text()),
			fmt.Sprintf("the other mapping is at %s; a name resolves to one mapped address per family, so keep one of them", prev.Range())))
	}
	return ds
}

// hostMapRange returns the origin range of a rule's host mapping.
func hostMapRange(r *Rule) diag.Range {
	if r.Source == nil {
		return diag.Range{}
	}
	if hm := r.Source.HostMap; hm != nil {
		return r.Source.Range(hm)
	}
	return r.Range()
}

// portMapRange returns the origin range of a rule's ports and port mapping.
func portMapRange(r *Rule) diag.Range {
	if r.Source == nil {
		return diag.Range{}
	}
	if pl, pm := r.Source.Ports, r.Source.PortMap; pl != nil && pm != nil {
		return r.Source.RangeOf(pl.Start+1, pm.End)
	}
	return r.Range()
}

func conflictDiag(r *Rule, rg diag.Range, summary, detail string) diag.Diagnostic {
	return diag.Diagnostic{ID: "CS101", Severity: diag.Error, Summary: summary, Detail: detail, Range: rg}
}

// maxConflicts is the number of port mapping conflicts a rule is looked
// for in: n rules that all conflict are n-1 diagnostics, not n²/2.
const maxConflicts = 1

// sweepItem is a mapping rule in a sweep over port ranges.
type sweepItem struct {
	r      *Rule
	lo, hi uint16
	broad  bool
}

// portMapConflicts reports pairs of mapping rules (all of one kind and
// protocol) that send one guest port to two host ports, or with hostSide,
// two guest ports onto one host port. maps are the names' host mappings.
//
// A rule is compared until it is found in maxConflicts conflicts, and of
// rules equal in mapping, host and families only the first is compared:
// the conflicts of n rules are found in time near n, not n², and reported
// in about as many diagnostics, every conflicting rule still named (once
// it is fixed, the next conflict of a rule shows).
func portMapConflicts(rules []*Rule, hostSide bool, maps nameMaps) []diag.Diagnostic {
	items := make([]sweepItem, 0, len(rules))
	keyed := make([]keyedItem, 0, len(rules)) // each item under each of its keys
	type same struct {
		pm   PortMapping
		host Host
		fams Families
		to   netip.Addr
	}
	seenSame := newFirstSeen(len(rules), func(r *Rule) same { return same{r.PortMap, r.Host, r.Families, r.HostMap} })
	named := nameKeys(rules, maps)
	for _, r := range rules {
		if _, seen := seenSame.add(r); seen {
			continue // conflicts as the first such rule does
		}
		rg := r.PortMap.From
		if hostSide {
			rg = r.PortMap.To
		}
		keys, broad := overlapKeys(r, maps, named)
		it := sweepItem{r: r, lo: rg.Lo, hi: rg.Hi, broad: broad}
		for _, k := range keys {
			keyed = append(keyed, keyedItem{k, int32(len(items))})
		}
		items = append(items, it)
	}
	seen := map[[2]int]bool{}
	involved := map[*Rule]int{} // conflicts reported with each rule
	var ds []diag.Diagnostic
	// check compares a with b and reports whether b is in enough
	// conflicts already to stop comparing it.
	check := func(a, b *Rule) bool {
		if involved[b] >= maxConflicts {
			return true
		}
		first, second := a, b
		if first.Index > second.Index {
			first, second = second, first
		}
		pair := [2]int{first.Index, second.Index}
		if seen[pair] {
			return false
		}
		if d, ok := portConflict(first, second, hostSide, maps); ok {
			seen[pair] = true
			involved[a]++
			involved[b]++
			ds = append(ds, d)
		}
		return involved[b] >= maxConflicts
	}
	// Rules of one exact host key: all pairs whose ranges overlap, key by
	// key in order of kind, then name or address as text.
	slices.SortFunc(keyed, func(a, b keyedItem) int {
		return cmp.Or(compareKeys(a.k, b.k), cmp.Compare(a.item, b.item))
	})
	var g []sweepItem
	for lo := 0; lo < len(keyed); {
		hi := lo + 1
		for hi < len(keyed) && keyed[hi].k == keyed[lo].k {
			hi++
		}
		if hi-lo > 1 {
			g = g[:0]
			for _, ki := range keyed[lo:hi] {
				it := items[ki.item]
				it.broad = true
				g = append(g, it)
			}
			sweep(g, check)
		}
		lo = hi
	}
	// Broad hosts ("*", wildcards, networks) against everything.
	sweep(items, check)
	return ds
}

// sweep calls check for every pair of items whose ranges overlap and of
// which at least one is broad, but for no more pairs of an item once
// check(_, item) returns true.
func sweep(items []sweepItem, check func(a, b *Rule) bool) {
	slices.SortStableFunc(items, func(a, b sweepItem) int { return int(a.lo) - int(b.lo) })
	var broad, exact activeItems
	for _, it := range items {
		broad.prune(it.lo)
		done := false
		for _, o := range broad.items {
			if done = check(o.r, it.r); done {
				break
			}
		}
		if it.broad {
			exact.prune(it.lo)
			for _, o := range exact.items {
				if done || check(o.r, it.r) {
					break
				}
			}
			broad.add(it)
		} else {
			exact.add(it)
		}
	}
}

// activeItems are the items of a sweep whose ranges may still overlap the
// next ones, with the lowest of their high ends, so that a list none of
// whose ranges has ended is not walked to prune it.
type activeItems struct {
	items []sweepItem
	minHi uint16
}

func (a *activeItems) add(it sweepItem) {
	if len(a.items) == 0 || it.hi < a.minHi {
		a.minHi = it.hi
	}
	a.items = append(a.items, it)
}

// prune drops the items whose ranges end below lo.
func (a *activeItems) prune(lo uint16) {
	if len(a.items) == 0 || a.minHi >= lo {
		return
	}
	out := a.items[:0]
	for _, it := range a.items {
		if it.hi >= lo {
			if len(out) == 0 || it.hi < a.minHi {
				a.minHi = it.hi
			}
			out = append(out, it)
		}
	}
	a.items = out
}

// overlapKey is an exact key under which two rules may overlap: a name,
// an address, an interface, or loopback (inbound).
type overlapKey struct {
	kind byte // 'n'ame, 'a'ddress, 'i'nterface, 'l'oopback
	name string
	addr netip.Addr
}

// keyedItem is an item of a sweep under one of its overlap keys.
type keyedItem struct {
	k    overlapKey
	item int32
}

// compareKeys orders overlap keys by kind, then name, or address as text.
func compareKeys(a, b overlapKey) int {
	if c := cmp.Compare(a.kind, b.kind); c != 0 || a.kind != 'a' {
		return cmp.Or(c, strings.Compare(a.name, b.name))
	}
	var ab, bb [64]byte
	return bytes.Compare(a.addr.AppendTo(ab[:0]), b.addr.AppendTo(bb[:0]))
}

// overlapKeys returns the exact keys under which two rules may overlap, or
// broad when the rule's host overlaps many others. A rule to a name stands
// under the keys nameKeys gives the name, and its own mapping's address.
func overlapKeys(r *Rule, maps nameMaps, named map[string][]overlapKey) (keys []overlapKey, broad bool) {
	h := r.Host
	switch h.Kind {
	case NameHost:
		keys = append(keys, named[h.Name]...)
		if r.HostMap.IsValid() && !maps.has(h.Name, r.HostMap) {
			keys = append(keys, overlapKey{kind: 'a', addr: r.HostMap})
		}
		return keys, false
	case InterfaceHost:
		return []overlapKey{{kind: 'i', name: h.Name}}, false
	case AddressHost:
		if !h.Prefix.IsSingleIP() {
			return nil, true
		}
		keys = append(keys, overlapKey{kind: 'a', addr: h.Prefix.Addr()})
		if r.Kind == ast.Inbound && IsLoopback(h.Prefix.Addr()) {
			keys = append(keys, overlapKey{kind: 'l'})
		}
		return keys, false
	case LocalhostHost:
		if r.Kind == ast.Inbound {
			return []overlapKey{{kind: 'l'}}, false
		}
	}
	return nil, true
}

// nameKeys returns the keys under which the rules to each name of rules
// stand: the name, and the addresses it is mapped to that another rule
// stands under too (an address rule, a rule's own mapping, another name's
// mapping). Of the addresses only the name's rules stand under, the first
// in key order alone: the group of each is exactly the name's rules, swept
// again with nothing new to find (a pair checked once is never reported
// anew, and a rule once in maxConflicts conflicts stays so), and a name
// mapped to n addresses would otherwise cost each of its rules n keys and
// m rules to it n·m work. The conflicts found are the same.
func nameKeys(rules []*Rule, maps nameMaps) map[string][]overlapKey {
	direct := map[netip.Addr]bool{} // addresses rules stand under themselves
	users := map[netip.Addr]int{}   // names of rules mapped to each address
	names := map[string]bool{}
	for _, r := range rules {
		h := r.Host
		switch {
		case h.Kind == NameHost:
			if !names[h.Name] {
				names[h.Name] = true
				for _, a := range maps[h.Name] {
					users[a]++
				}
			}
			if r.HostMap.IsValid() && !maps.has(h.Name, r.HostMap) {
				direct[r.HostMap] = true
			}
		case h.Kind == AddressHost && h.Prefix.IsSingleIP():
			direct[h.Prefix.Addr()] = true
		}
	}
	keys := make(map[string][]overlapKey, len(names))
	for name := range names {
		ks := []overlapKey{{kind: 'n', name: name}}
		var first *overlapKey // the first address of the name's alone
		for _, a := range maps[name] {
			k := overlapKey{kind: 'a', addr: a}
			switch {
			case direct[a] || users[a] > 1:
				ks = append(ks, k)
			case first == nil || compareKeys(k, *first) < 0:
				first = &k
			}
		}
		if first != nil {
			ks = append(ks, *first)
		}
		keys[name] = ks
	}
	return keys
}

// hostsOverlap reports whether one request could match rules a and b (of
// one kind), as described on conflicts.
func hostsOverlap(a, b *Rule, maps nameMaps) bool {
	if !a.Families.Overlaps(b.Families) {
		return false
	}
	ha, hb := a.Host, b.Host
	if ha.Kind == AnyHost || hb.Kind == AnyHost {
		return true
	}
	if ha.Kind > hb.Kind {
		a, b, ha, hb = b, a, hb, ha
	}
	switch {
	case ha.Kind == AddressHost && hb.Kind == AddressHost:
		return ha.Prefix.Overlaps(hb.Prefix)
	case ha.Kind == AddressHost && hb.Kind == LocalhostHost:
		return ha.Prefix.Overlaps(Loopback4) || ha.Prefix.Overlaps(Loopback6)
	case ha.Kind == AddressHost && hb.Kind.IsName():
		return maps.mapsInto(b, ha.Prefix, a.Families&b.Families)
	case ha.Kind == InterfaceHost || hb.Kind == InterfaceHost:
		return ha == hb
	case ha.Kind.IsName() && hb.Kind.IsName():
		return namesOverlap(ha, hb)
	}
	return false
}

// portConflict reports whether mapping rules a and b (a first) conflict.
func portConflict(a, b *Rule, hostSide bool, maps nameMaps) (diag.Diagnostic, bool) {
	ma, mb := a.PortMap, b.PortMap
	if ma.Offset() == mb.Offset() || !hostsOverlap(a, b, maps) {
		return diag.Diagnostic{}, false
	}
	where := fmt.Sprintf("the other rule is at %s", a.Range())
	if !hostSide {
		lo, hi := max(ma.From.Lo, mb.From.Lo), min(ma.From.Hi, mb.From.Hi)
		if lo > hi {
			return diag.Diagnostic{}, false
		}
		return conflictDiag(b, portMapRange(b),
			fmt.Sprintf("guest port %d is mapped to two host ports: %d here and %d by %s", lo, mb.Map(lo), ma.Map(lo), a.Text()),
			where+"; both rules can match one request, so the host port would be ambiguous"), true
	}
	lo, hi := max(ma.To.Lo, mb.To.Lo), min(ma.To.Hi, mb.To.Hi)
	if lo > hi {
		return diag.Diagnostic{}, false
	}
	ga, gb := lo-ma.To.Lo+ma.From.Lo, lo-mb.To.Lo+mb.From.Lo
	return conflictDiag(b, portMapRange(b),
		fmt.Sprintf("guest ports %d and %d are both mapped onto host port %d (here and by %s)", gb, ga, lo, a.Text()),
		where+"; the host can listen on a port only once"), true
}
