package grammar

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/literal"
)

// ports checks the port part of a rule: ":ports" and an optional "->ports".
func (c *checker) ports(r *ast.Rule, s *Spec, hostEnd int) {
	parts := s.Ports
	if len(parts) == 0 {
		if c.kind != ast.Resolve {
			c.report("CS001", hostEnd, hostEnd, "missing port; write :PORT, a list (:80,443), a range (:8000-8999) or :* for any port")
		}
		return
	}
	last := parts[len(parts)-1]
	end := tokSpan(last.List).End
	if last.Map != nil {
		end = c.mappingEnd(last.Map)
	}
	if c.kind == ast.Resolve {
		start := tokSpan(parts[0].List).Start
		c.report("CS001", start, end, "--allow-resolve takes no port: a lookup is of a name, not a service",
			replace("remove the port", start, end, ""))
		return
	}
	if len(parts) > 1 {
		// An interface name may contain ':' ("eth0:1"); the ports come
		// after the last colon.
		if c.kind == ast.Inbound && r.Host != nil && r.Host.Kind == ast.HostInterface && noMaps(parts[:len(parts)-1]) {
			ifEnd := tokSpan(parts[len(parts)-2].List).End
			raw := c.text[r.Host.Start:ifEnd]
			if p := literal.Interface(raw); p != nil {
				c.literalProblem(r.Host.Start, *p)
				return
			}
			r.Host.Raw, r.Host.Iface, r.Host.End = raw, raw, ifEnd
			parts = parts[len(parts)-1:]
		} else {
			sp := tokSpan(parts[1].List)
			c.report("CS001", sp.Start, sp.Start+1, "unexpected ':' after the ports")
			return
		}
	}
	p := parts[0]
	r.Ports = c.portList(p.List)
	if p.Map != nil {
		r.PortMap = c.portMapping(p.Map)
	}
}

func noMaps(ps []*Ports) bool {
	for _, p := range ps {
		if p.Map != nil {
			return false
		}
	}
	return true
}

// portList checks ":*" or ":item,item,...".
func (c *checker) portList(t lexer.Token) *ast.PortList {
	sp := tokSpan(t)
	pl := &ast.PortList{Span: sp}
	body := t.Value[1:]
	at := sp.Start + 1
	if body == "" {
		c.report("CS001", sp.Start, sp.End, "missing port after ':'; write a port, a list (80,443), a range (8000-8999) or * for any port")
		return nil
	}
	if body == "*" {
		pl.Any = true
		return pl
	}
	items := strings.Split(body, ",")
	ok := true
	off := at
	for i, raw := range items {
		switch {
		case raw == "*":
			c.report("CS001", off, off+1, "'*' already means every port; it cannot be part of a list",
				replace("allow every port", at, sp.End, "*"))
			ok = false
		case raw == "":
			// Remove the comma before (or, for the first item, after) the empty item.
			cs, ce := off-1, off
			if i == 0 {
				cs, ce = off, off+1
			}
			c.report("CS001", cs, ce, "empty item in port list", replace("remove the extra comma", cs, ce, ""))
			ok = false
		default:
			item := c.portItem(raw, off)
			if item == nil {
				ok = false
			} else {
				pl.Items = append(pl.Items, item)
			}
		}
		off += len(raw) + 1
	}
	if !ok {
		return nil
	}
	return pl
}

// portItem checks one port or range "lo-hi" written at offset at.
func (c *checker) portItem(raw string, at int) *ast.PortItem {
	item := &ast.PortItem{Span: ast.Span{Start: at, End: at + len(raw)}, Raw: raw}
	if lo, hi, ok := strings.Cut(raw, ".."); ok && literal.IsDigits(lo) && literal.IsDigits(strings.TrimLeft(hi, ".")) {
		hi = strings.TrimLeft(hi, ".")
		c.report("CS001", at, at+len(raw), fmt.Sprintf("%q is not a port range; write %s-%s", raw, lo, hi),
			replace("write "+lo+"-"+hi, at, at+len(raw), lo+"-"+hi))
		return nil
	}
	loText, hiText, isRange := strings.Cut(raw, "-")
	lo, ok := c.port(loText, at)
	if !isRange {
		if !ok {
			return nil
		}
		item.Lo, item.Hi = lo, lo
		return item
	}
	if loText == "" || hiText == "" {
		c.report("CS001", at, at+len(raw), fmt.Sprintf("port range %q needs a port on each side of '-'", raw))
		return nil
	}
	hiAt := at + len(loText) + 1
	hi, ok2 := c.port(hiText, hiAt)
	if !ok || !ok2 {
		return nil
	}
	if lo > hi {
		fixed := hiText + "-" + loText
		c.report("CS002", at, at+len(raw), fmt.Sprintf("port range %s is backwards: its low end is above its high end", raw),
			replace("write "+fixed, at, at+len(raw), fixed))
		return nil
	}
	item.Lo, item.Hi = lo, hi
	return item
}

// port checks one decimal port number written at offset at.
func (c *checker) port(s string, at int) (int, bool) {
	if !literal.IsDigits(s) {
		if s == "*" {
			c.report("CS001", at, at+1, "'*' cannot be part of a port range")
		} else {
			c.report("CS001", at, at+len(s), fmt.Sprintf("port %q is not a number", s))
		}
		return 0, false
	}
	trimmed := strings.TrimLeft(s, "0")
	n, ok := smallNumber(trimmed)
	if trimmed == "" {
		n, ok = 0, true
	}
	if !ok || n > 65535 {
		c.report("CS002", at, at+len(s), fmt.Sprintf("port %s is out of range (0-65535)", s))
		return 0, false
	}
	return n, true
}

// portMapping checks "->port" or "->lo-hi" after the ports.
func (c *checker) portMapping(m *Mapping) *ast.PortMapping {
	arrow := tokSpan(m.Arrow)
	end := c.mappingEnd(m)
	pm := &ast.PortMapping{Span: ast.Span{Start: arrow.Start, End: end}, Arrow: arrow}
	raw := c.text[arrow.End:end]
	switch {
	case m.Bracketed != nil:
		c.report("CS009", arrow.End, end, "a port mapping maps ports to ports; the host side is a port or a range")
		return nil
	case raw == "":
		c.report("CS009", arrow.Start, arrow.End, "missing port after '->'")
		return nil
	case raw == "*":
		c.report("CS009", arrow.End, end, "'*' cannot be mapped; a port mapping maps one port or one range")
		return nil
	}
	pm.Item = c.portItem(raw, arrow.End)
	if pm.Item == nil {
		return nil
	}
	return pm
}

// crossChecks checks what depends on several parts of the rule: port 0,
// mapping shapes, family conflicts, unspecified destinations, and hosts
// a kind does not take.
func (c *checker) crossChecks(r *ast.Rule) {
	if r.Host != nil {
		c.hostForKind(r)
	}
	c.portZero(r)
	if r.PortMap != nil && r.Ports != nil {
		c.portMapShape(r)
	}
	c.familyConflicts(r)
}

// hostForKind reports hosts that a flag kind does not take.
func (c *checker) hostForKind(r *ast.Rule) {
	h := r.Host
	switch c.kind {
	case ast.Resolve:
		if h.Kind.IsAddress() {
			c.report("CS001", h.Start, h.End, fmt.Sprintf("a lookup of an IP address needs no permission; --allow-resolve takes a name pattern, not %s", h.Raw))
		}
	case ast.Outbound:
		if unspecified(h) {
			c.report("CS011", h.Start, h.End, fmt.Sprintf("%s is not a destination: connecting to it reaches this host on Linux, and the WASI API rejects it", h.Raw))
		}
	case ast.Inbound:
		if h.Kind == ast.HostCIDR {
			c.report("CS001", h.Start, h.End, fmt.Sprintf("an inbound rule takes one local address, not the network %s", h.Raw))
		}
	}
	if r.HostMap != nil && r.HostMap.Addr.IsUnspecified() {
		c.report("CS011", r.HostMap.Arrow.End, r.HostMap.End, fmt.Sprintf("%s is not an address a name can resolve to: connecting to it reaches this host", r.HostMap.Raw))
	}
}

// unspecified reports a host that is 0.0.0.0 or [::] (or their /32, /128).
func unspecified(h *ast.Host) bool {
	switch h.Kind {
	case ast.HostIPv4, ast.HostIPv6:
		return h.Addr.IsUnspecified()
	case ast.HostCIDR:
		return h.Prefix.IsSingleIP() && h.Prefix.Addr().IsUnspecified()
	}
	return false
}

// portZero reports port 0 anywhere but alone in an inbound rule (CS003).
func (c *checker) portZero(r *ast.Rule) {
	if r.Ports == nil {
		return
	}
	for _, it := range r.Ports.Items {
		if it.Lo != 0 {
			continue
		}
		switch {
		case c.kind == ast.Outbound:
			c.report("CS003", it.Start, it.End, "port 0 is not a destination; it is valid only alone in an inbound rule (a port the system picks)")
		case len(r.Ports.Items) > 1 || it.IsRange():
			c.report("CS003", it.Start, it.End, "port 0 means a port the system picks; it must stand alone (tcp://*:0), not in a list or range")
		case r.PortMap != nil:
			c.report("CS003", it.Start, it.End, "port 0 (a port the system picks) cannot be mapped")
		}
	}
	if r.PortMap != nil && r.PortMap.Item != nil && r.PortMap.Item.Lo == 0 {
		it := r.PortMap.Item
		c.report("CS003", it.Start, it.End, "port 0 cannot be the host side of a mapping")
	}
}

// portMapShape checks that a port mapping maps one port or range onto one
// of the same size.
func (c *checker) portMapShape(r *ast.Rule) {
	pl, to := r.Ports, r.PortMap.Item
	switch {
	case pl.Any:
		c.report("CS009", pl.Start, r.PortMap.End, "'*' cannot be mapped; a port mapping maps one port or one range")
	case len(pl.Items) != 1:
		c.report("CS009", pl.Start, r.PortMap.End, fmt.Sprintf("a port mapping maps one port or one range; %s is a list", c.text[pl.Start+1:pl.End]))
	default:
		from := pl.Items[0]
		if from.Lo == 0 {
			return // reported as CS003
		}
		if n, m := from.Hi-from.Lo+1, to.Hi-to.Lo+1; n != m {
			c.report("CS009", from.Start, to.End, fmt.Sprintf("the sides of a port mapping differ in size: %s is %s, %s is %s", from.Raw, portCount(n), to.Raw, portCount(m)))
		}
	}
}

func portCount(n int) string {
	if n == 1 {
		return "1 port"
	}
	return fmt.Sprintf("%d ports", n)
}

// familyConflicts reports a family modifier that contradicts an address.
func (c *checker) familyConflicts(r *ast.Rule) {
	if r.Family == nil {
		return
	}
	want := r.Family.Family
	check := func(is4 bool, what string) {
		if is4 && want == ast.IPv6Only || !is4 && want == ast.IPv4Only {
			c.report("CS010", r.Family.Start, r.Family.End, fmt.Sprintf("%s contradicts the %s %s: the rule would allow nothing", r.Family.Raw, familyWord(is4), what))
		}
	}
	if h := r.Host; h != nil {
		switch h.Kind {
		case ast.HostIPv4, ast.HostIPv6:
			check(h.Addr.Is4(), "address "+h.Raw)
		case ast.HostCIDR:
			check(h.Prefix.Addr().Is4(), "network "+h.Raw)
		}
	}
	if r.HostMap != nil {
		check(r.HostMap.Addr.Is4(), "mapped address "+r.HostMap.Raw)
	}
}

func familyWord(is4 bool) string {
	if is4 {
		return "IPv4"
	}
	return "IPv6"
}
