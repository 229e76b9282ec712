package grammar

import (
	"fmt"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/literal"
)

// portListEnd returns the end of ":ports" without its mapping.
func (c *checker) portListEnd(p *ports) int {
	if p.List != nil {
		return c.listSpan(p.List).End
	}
	return c.span(p.Colon).End
}

// portsEnd returns the end of ":ports" with its mapping.
func (c *checker) portsEnd(p *ports) int {
	if m := p.Map; m != nil {
		if m.To != nil {
			return c.listSpan(m.To).End
		}
		return c.span(m.Arrow).End
	}
	return c.portListEnd(p)
}

// listSpan returns the span of a port list, without a colon.
func (c *checker) listSpan(l *portList) ast.Span {
	if l.Any != nil {
		return c.span(*l.Any)
	}
	return ast.Span{Start: c.itemSpan(l.Items[0]).Start, End: c.itemSpan(l.Items[len(l.Items)-1]).End}
}

// itemSpan returns the span of a port or range.
func (c *checker) itemSpan(it *portItem) ast.Span {
	s := c.span(it.Lo)
	if it.Hi != nil {
		s.End = c.span(*it.Hi).End
	}
	return s
}

// ports checks the port part of a rule: ":ports" and an optional "->ports".
func (c *checker) ports(r *ast.Rule, v *value, hostEnd int) {
	p := v.Ports
	if p == nil {
		if c.kind != ast.Resolve {
			c.report("CS001", hostEnd, hostEnd, "missing port; write :PORT, a list (:80,443), a range (:8000-8999) or :* for any port")
		}
		return
	}
	if c.kind == ast.Resolve {
		start := c.span(p.Colon).Start
		if v.Host != nil && v.Host.Name != nil && len(v.Host.Name.Colons) > 0 {
			start = c.span(v.Host.Name.Colons[0].Colon).Start
		}
		end := c.portsEnd(p)
		c.report("CS001", start, end, "--allow-resolve takes no port: a lookup is of a name, not a service",
			replace("remove the port", start, end, ""))
		return
	}
	if v.Host != nil && v.Host.Name != nil && len(v.Host.Name.Colons) > 0 && !c.interfaceColons(r, v.Host.Name, p) {
		return
	}
	colon := c.span(p.Colon)
	if p.List == nil {
		c.report("CS001", colon.Start, colon.End, "missing port after ':'; write a port, a list (80,443), a range (8000-8999) or * for any port")
		return
	}
	r.Ports = c.portList(p.List, colon.Start)
	if p.Map != nil {
		r.PortMap = c.portMapping(p.Map)
	}
}

// interfaceColons takes the colons of a name into an inbound interface
// name ("eth0:1"): the ports follow the last colon. Anywhere else the
// first port part is taken and the colon after it is reported.
func (c *checker) interfaceColons(r *ast.Rule, n *name, p *ports) bool {
	if c.kind == ast.Inbound && r.Host != nil && r.Host.Kind == ast.HostInterface {
		last := n.Colons[len(n.Colons)-1]
		ifEnd := c.span(last.Part).End
		raw := c.text[r.Host.Start:ifEnd]
		if prob := literal.Interface(raw); prob != nil {
			c.literalProblem(r.Host.Start, *prob)
			return false
		}
		r.Host.Raw, r.Host.Iface, r.Host.End = raw, raw, ifEnd
		return true
	}
	next := p.Colon
	if len(n.Colons) > 1 {
		next = n.Colons[1].Colon
	}
	at := c.span(next).Start
	c.report("CS001", at, at+1, "unexpected ':' after the ports")
	return false
}

// portList checks "*" or "item,item,..." written after a colon at colon.
func (c *checker) portList(l *portList, colon int) *ast.PortList {
	end := c.listSpan(l).End
	pl := c.portsNode()
	*pl = ast.PortList{Span: ast.Span{Start: colon, End: end}}
	if l.Any != nil {
		pl.Any = true
		return pl
	}
	items := c.portItems(l)
	var slab []ast.PortItem // the items of a long list, allocated together
	pl.Items = c.itemList(len(items))
	if len(items) > 1 {
		slab = make([]ast.PortItem, len(items))
	}
	for i, it := range items {
		var into *ast.PortItem
		if slab != nil {
			into = &slab[i]
		}
		item := c.portItem(it, into)
		if item == nil {
			return nil
		}
		pl.Items = append(pl.Items, item)
	}
	return pl
}

// portItem checks one port or range "lo-hi", written into item (nil: a
// new one).
func (c *checker) portItem(it *portItem, item *ast.PortItem) *ast.PortItem {
	sp := c.itemSpan(it)
	if item == nil {
		item = c.newPortItem()
	}
	*item = ast.PortItem{Span: sp, Raw: c.slice(sp)}
	loSpan := c.span(it.Lo)
	lo, ok := c.port(c.slice(loSpan), loSpan.Start)
	if it.Hi == nil {
		if !ok {
			return nil
		}
		item.Lo, item.Hi = lo, lo
		return item
	}
	hiSpan := c.span(*it.Hi)
	hi, ok2 := c.port(c.slice(hiSpan), hiSpan.Start)
	if !ok || !ok2 {
		return nil
	}
	if lo > hi {
		fixed := c.slice(hiSpan) + "-" + c.slice(loSpan)
		c.report("CS002", sp.Start, sp.End, fmt.Sprintf("port range %s is backwards: its low end is above its high end", item.Raw),
			replace("write "+fixed, sp.Start, sp.End, fixed))
		return nil
	}
	item.Lo, item.Hi = lo, hi
	return item
}

// port checks one decimal port number s written at offset at.
func (c *checker) port(s string, at int) (int, bool) {
	i := 0
	for i < len(s)-1 && s[i] == '0' {
		i++
	}
	n, ok := smallNumber(s[i:])
	if !ok || n > 65535 {
		c.report("CS002", at, at+len(s), fmt.Sprintf("port %s is out of range (0-65535)", s))
		return 0, false
	}
	return n, true
}

// portMapping checks "->port" or "->lo-hi" after the ports.
func (c *checker) portMapping(m *portMapping) *ast.PortMapping {
	arrow := c.span(m.Arrow)
	if m.To == nil {
		c.report("CS009", arrow.Start, arrow.End, "missing port after '->'")
		return nil
	}
	to := c.listSpan(m.To)
	pm := &ast.PortMapping{Span: ast.Span{Start: arrow.Start, End: to.End}, Arrow: arrow}
	switch {
	case m.To.Any != nil:
		c.report("CS009", to.Start, to.End, "'*' cannot be mapped; a port mapping maps one port or one range")
		return nil
	case len(m.To.Items) > 1:
		at := c.itemSpan(m.To.Items[0]).End
		c.report("CS009", at, at+1, "a port mapping maps one port or one range, not a list")
		return nil
	}
	pm.Item = c.portItem(m.To.Items[0], nil)
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
