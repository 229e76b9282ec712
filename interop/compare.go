package interop

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"go4.org/netipx"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Verdict is how one side decides a request: per family (index 0 IPv4, 1
// IPv6) the entry that allows it — a rule index of a policy, an entry
// index of a runtime configuration — or -1 where it is denied. Mapped
// says, per family, that the host side of an allowed request differs from
// what the guest asked for (a capspec host or port mapping).
type Verdict struct {
	Entry  [2]int
	Mapped [2]bool
}

// Deny is the verdict that allows nothing.
func Deny() Verdict { return Verdict{Entry: [2]int{-1, -1}} }

// Families returns the families in which the verdict allows the request.
func (v Verdict) Families() policy.Families {
	var f policy.Families
	for i, e := range v.Entry {
		if e >= 0 {
			f |= fams[i]
		}
	}
	return f
}

// allow records that entry allows the request in the families f.
func (v *Verdict) allow(f policy.Families, entry int) {
	for i, g := range fams {
		if f&g != 0 && v.Entry[i] < 0 {
			v.Entry[i] = entry
		}
	}
}

var fams = [2]policy.Families{policy.IPv4, policy.IPv6}

func famIndex(f policy.Families) int {
	if f == policy.IPv6 {
		return 1
	}
	return 0
}

// Decider decides requests: a capspec policy, or a runtime's configuration
// modelled from the runtime's source.
type Decider interface {
	Decide(q eval.Request) Verdict
}

// form is the shape of a request, one of the five ways §3.6 can say it.
type form uint8

const (
	formLookup form = iota // lookup NAME FAMILY
	formAddr               // connect|send ADDR:PORT
	formName               // connect|send NAME:PORT (the address DNS gives)
	formVia                // connect|send ADDR:PORT via NAME
	formLocal              // listen|bind LOCAL:PORT
)

// cell is one cell of a space: the atoms of a request in one family. Two
// requests in one cell are decided alike by both sides.
type cell struct {
	form  form
	op    eval.Op
	fam   policy.Families
	name  int
	addr  int
	port  int
	local eval.LocalKind
	iface int
}

// cellOf returns the cell of a normalized request in family f, or false
// when the request falls outside every probed atom (a name whose
// signature no probe has).
func (s *space) cellOf(q eval.Request, f policy.Families) (cell, bool) {
	c := cell{op: q.Op, fam: f, name: -1, addr: -1, port: -1, iface: -1}
	switch q.Op {
	case eval.Lookup:
		c.form = formLookup
	case eval.Connect, eval.Send:
		c.port = s.portAtom(q.Port)
		switch {
		case q.Addr.IsValid() && q.Name != "":
			c.form = formVia
		case q.Addr.IsValid():
			c.form = formAddr
		default:
			c.form = formName
		}
	default:
		c.form = formLocal
		c.port = s.portAtom(q.Port)
		c.local = q.Local
		switch q.Local {
		case eval.LocalAddr:
			if q.Addr.IsUnspecified() {
				c.local = eval.LocalAny
				c.fam = policy.FamilyOf(q.Addr)
			} else {
				c.addr = s.addrAtom(q.Addr)
			}
		case eval.LocalInterface:
			c.iface = s.ifaceAtom(q.Name)
		}
		return c, true
	}
	if q.Addr.IsValid() {
		c.addr = s.addrAtom(q.Addr)
	}
	if q.Name != "" {
		c.name = s.nameAtom(q.Name)
		if c.name < 0 {
			return c, false
		}
	}
	return c, true
}

// probes calls visit with one request per cell of the space, in the order
// examples are best read: lookups, connects to addresses, connects by
// name, connects to addresses via names, listens and binds.
func (s *space) probes(visit func(q eval.Request)) {
	for _, n := range s.names {
		for _, f := range fams {
			visit(eval.Request{Op: eval.Lookup, Name: n, Family: f})
		}
	}
	ops := []eval.Op{eval.Connect, eval.Send}
	for _, op := range ops {
		for _, a := range s.addrs {
			for _, p := range s.ports {
				if p > 0 {
					visit(eval.Request{Op: op, Addr: a, Port: uint16(p)})
				}
			}
		}
	}
	for _, op := range ops {
		for _, n := range s.names {
			for _, p := range s.ports {
				if p > 0 {
					visit(eval.Request{Op: op, Name: n, Port: uint16(p)})
				}
			}
		}
	}
	for _, op := range ops {
		for _, n := range s.names {
			for _, a := range s.addrs {
				for _, p := range s.ports {
					if p > 0 {
						visit(eval.Request{Op: op, Name: n, Addr: a, Port: uint16(p)})
					}
				}
			}
		}
	}
	for _, op := range []eval.Op{eval.Listen, eval.Bind} {
		for _, p := range s.ports {
			port := uint16(p)
			visit(eval.Request{Op: op, Local: eval.LocalAny, Port: port})
			visit(eval.Request{Op: op, Local: eval.LocalLocalhost, Port: port})
			for _, a := range s.addrs {
				if !a.IsUnspecified() {
					visit(eval.Request{Op: op, Local: eval.LocalAddr, Addr: a, Port: port})
				}
			}
			for _, i := range s.ifaces {
				visit(eval.Request{Op: op, Local: eval.LocalInterface, Name: i, Port: port})
			}
		}
	}
}

// famsOf returns the families a request can be allowed in.
func famsOf(q eval.Request) policy.Families {
	switch {
	case q.Op == eval.Lookup && q.Family != 0:
		return q.Family
	case q.Op == eval.Connect || q.Op == eval.Send:
		if q.Addr.IsValid() {
			return policy.FamilyOf(q.Addr)
		}
	case q.Local == eval.LocalAddr:
		return policy.FamilyOf(q.Addr)
	}
	return policy.AllFamilies
}

// Side says which side of a comparison a difference belongs to.
type Side uint8

// The sides of a comparison of A and B.
const (
	OnlyA   Side = iota // A allows, B denies
	OnlyB               // B allows, A denies
	MappedA             // both allow; A sends it elsewhere on the host (a capspec mapping)
)

// Part is one computed difference between two deciders: the requests of
// one operation that one side allows and the other denies (or maps), all
// charged to one entry of the side that allows them.
type Part struct {
	Side Side
	// Entry is the allowing side's entry (rule or runtime entry) the part
	// is charged to.
	Entry int
	Op    eval.Op
	// Example is one request of the part, with the family it differs in
	// (0 when the request's own family says it).
	Example       eval.Request
	ExampleFamily policy.Families
	// Ports, Families and Hosts sum the part up for people.
	Ports    policy.PortSet
	Families policy.Families
	Hosts    []string
	// Unspecified marks the one part of a comparison that holds every
	// connect and send to an unspecified address (0.0.0.0/8, [::]) that
	// the runtime allows: capspec denies them whatever the rules say (SPEC
	// §3.3), so they are reported once, not per entry and operation. Its
	// Entry is the first entry that allows one; Ops are its operations.
	Unspecified bool
	Ops         []eval.Op
	cells       map[cell]bool
	addrs       map[int]bool // address atoms, summed up in Hosts at the end
	entries     []int        // the entries of a merged or unspecified part, sorted
}

// Contains reports whether the part holds a request in family f.
func (p *Part) Contains(s *Space, q eval.Request, f policy.Families) bool {
	c, ok := s.s.cellOf(q, f)
	return ok && p.cells[c]
}

// Space is the set of probe cells a comparison used; tests use it to place
// other requests in the parts.
type Space struct{ s *space }

// Cell reports whether a request falls in a probed cell.
func (s *Space) Covers(q eval.Request, f policy.Families) bool {
	_, ok := s.s.cellOf(q, f)
	return ok
}

// unspecifiedDest reports whether a request is a connect or send to an
// unspecified address, which capspec denies whatever the rules say (SPEC
// §3.3; policy.IsUnspecifiedDestination).
func unspecifiedDest(q eval.Request) bool {
	return (q.Op == eval.Connect || q.Op == eval.Send) && q.Addr.IsValid() && policy.IsUnspecifiedDestination(q.Addr)
}

// compare decides every probe of the space with both sides and returns the
// parts where they differ. A is capspec's side (a policy), B the
// runtime's. The connects and sends to unspecified addresses that B allows
// (A never does) make one part of their own (Part.Unspecified); every
// other part holds requests of one operation charged to one entry.
func compare(sp *space, a, b Decider) []*Part {
	type key struct {
		side   Side
		entry  int
		op     eval.Op
		unspec bool
	}
	parts := map[key]*Part{}
	var order []key
	add := func(side Side, entry int, q eval.Request, f policy.Families) {
		k := key{side, entry, q.Op, false}
		if side == OnlyB && unspecifiedDest(q) {
			k = key{side: side, entry: -1, unspec: true}
		}
		p := parts[k]
		if p == nil {
			p = &Part{Side: side, Entry: entry, Op: q.Op, Example: q, Unspecified: k.unspec, cells: map[cell]bool{}, addrs: map[int]bool{}}
			if famsOf(q) != f {
				p.ExampleFamily = f
			}
			parts[k] = p
			order = append(order, k)
		}
		if p.Unspecified {
			if !slices.Contains(p.entries, entry) {
				p.entries = append(p.entries, entry)
			}
			if !slices.Contains(p.Ops, q.Op) {
				p.Ops = append(p.Ops, q.Op)
			}
		}
		c, _ := sp.cellOf(q, f)
		if !p.cells[c] {
			p.cells[c] = true
			p.Families |= f
			if c.port >= 0 {
				p.Ports = p.Ports.Union(policy.PortSet{sp.portSpan(c.port)})
			}
			if c.addr >= 0 && (c.form == formAddr || c.form == formVia || c.form == formLocal && c.local == eval.LocalAddr) {
				p.addrs[c.addr] = true
			} else if h := sp.hostLabel(c, q); h != "" && len(p.Hosts) <= maxHosts && !contains(p.Hosts, h) {
				p.Hosts = append(p.Hosts, h)
			}
		}
	}
	sp.probes(func(q eval.Request) {
		va, vb := a.Decide(q), b.Decide(q)
		for i, f := range fams {
			if famsOf(q)&f == 0 {
				continue
			}
			ea, eb := va.Entry[i], vb.Entry[i]
			switch {
			case ea >= 0 && eb < 0:
				add(OnlyA, ea, q, f)
			case eb >= 0 && ea < 0:
				add(OnlyB, eb, q, f)
			case ea >= 0 && eb >= 0 && va.Mapped[i] != vb.Mapped[i]:
				add(MappedA, ea, q, f)
			}
		}
	})
	out := make([]*Part, 0, len(order))
	for _, k := range order {
		p := parts[k]
		p.Hosts = append(p.Hosts, sp.addrSummary(p.addrs, (p.Op == eval.Connect || p.Op == eval.Send) && !p.Unspecified)...)
		if p.Unspecified {
			slices.Sort(p.entries)
			slices.Sort(p.Ops)
			p.Entry = p.entries[0]
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Side != out[j].Side {
			return out[i].Side < out[j].Side
		}
		return out[i].Entry < out[j].Entry
	})
	return out
}

const maxHosts = 4

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// hostLabel names the host side of a cell for a summary.
func (s *space) hostLabel(c cell, q eval.Request) string {
	switch {
	case c.local == eval.LocalInterface && c.form == formLocal && q.Name == otherIface:
		return "other interfaces"
	case q.Name == otherName:
		return "other names"
	}
	switch c.form {
	case formLookup, formName:
		return q.Name
	case formAddr:
		return s.addrLabel(c.addr)
	}
	switch c.local {
	case eval.LocalAny:
		return "*"
	case eval.LocalLocalhost:
		return "localhost"
	case eval.LocalInterface:
		return q.Name
	}
	return s.addrLabel(c.addr)
}

// addrSummary writes a set of address atoms as the networks they make up,
// a few of them and a count of the rest. With destinations true (the
// atoms are destinations of connects or sends, never unspecified ones:
// those are left to the Unspecified part), every address of a family but
// the unspecified ones reads "any IPv4 address", not "1.0.0.0/8,
// 2.0.0.0/7, …".
func (s *space) addrSummary(atoms map[int]bool, destinations bool) []string {
	if len(atoms) == 0 {
		return nil
	}
	var b netipx.IPSetBuilder
	for i := range atoms {
		lo, hi := s.addrSpan(i)
		b.AddRange(netipx.IPRangeFrom(lo, hi))
	}
	set, _ := b.IPSet()
	ps := set.Prefixes()
	if destinations {
		for _, u := range []netip.Prefix{policy.Unspecified4, policy.Unspecified6} {
			whole := netip.PrefixFrom(u.Addr(), 0)
			if set.ContainsRange(netipx.IPRangeFrom(lastAddr(u).Next(), lastAddr(whole))) {
				ps = slices.DeleteFunc(ps, func(p netip.Prefix) bool { return p.Addr().Is4() == u.Addr().Is4() })
				ps = append(ps, whole)
			}
		}
		slices.SortFunc(ps, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	}
	var out []string
	for i, p := range ps {
		if i == 3 {
			out = append(out, fmt.Sprintf("%d more networks", len(ps)-3))
			break
		}
		switch {
		case p.Bits() == 0 && p.Addr().Is4():
			out = append(out, "any IPv4 address")
		case p.Bits() == 0:
			out = append(out, "any IPv6 address")
		case p.IsSingleIP():
			out = append(out, addrText(p.Addr()))
		case p.Addr().Is6():
			out = append(out, "["+p.String()+"]")
		default:
			out = append(out, p.String())
		}
	}
	return out
}

// addrLabel writes an address atom as the prefixes it spans.
func (s *space) addrLabel(i int) string {
	lo, hi := s.addrSpan(i)
	ps := prefixesOf(lo, hi)
	var b strings.Builder
	for j, p := range ps {
		if j == 2 {
			fmt.Fprintf(&b, " and %d more", len(ps)-2)
			break
		}
		if j > 0 {
			b.WriteString(", ")
		}
		if p.IsSingleIP() {
			b.WriteString(addrText(p.Addr()))
		} else if p.Addr().Is6() {
			b.WriteString("[" + p.String() + "]")
		} else {
			b.WriteString(p.String())
		}
	}
	return b.String()
}

// prefixesOf returns the fewest prefixes spanning lo..hi.
func prefixesOf(lo, hi netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for lo.IsValid() && lo.Compare(hi) <= 0 {
		bits := lo.BitLen()
		for bits > 0 {
			p := netip.PrefixFrom(lo, bits-1)
			if p.Masked().Addr() != lo || lastAddr(p).Compare(hi) > 0 {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(lo, bits)
		out = append(out, p)
		next := lastAddr(p).Next()
		if !next.IsValid() || next.Is4() != lo.Is4() || next.Compare(lo) <= 0 {
			break
		}
		lo = next
	}
	return out
}

// addrText writes an address with IPv6 in brackets.
func addrText(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// RequestText writes a request in §3.6 syntax, with the family of a
// request whose own text does not say it.
func RequestText(q eval.Request, f policy.Families) string {
	s := q.String()
	if f != 0 && q.Op != eval.Lookup && f != policy.AllFamilies {
		s += " (" + f.String() + ")"
	}
	return s
}
