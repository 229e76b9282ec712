package grammar

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/literal"
)

// hostSpan returns the span of a host as the grammar read it (a name
// without the colons of an interface name).
func (c *checker) hostSpan(h *host) ast.Span {
	switch {
	case h.Ellipsis != nil:
		return c.span(*h.Ellipsis)
	case h.Any != nil:
		return c.span(*h.Any)
	case h.Wildcard != nil:
		return c.span(*h.Wildcard)
	case h.IPv4CIDR != nil:
		return ast.Span{Start: c.span(h.IPv4CIDR.Addr).Start, End: c.span(h.IPv4CIDR.Len).End}
	case h.IPv4 != nil:
		return c.span(*h.IPv4)
	case h.IPv6CIDR != nil:
		return c.span(*h.IPv6CIDR)
	case h.IPv6 != nil:
		return c.span(*h.IPv6)
	case h.Localhost != nil:
		return c.span(*h.Localhost)
	}
	runs := h.Name.Runs
	return ast.Span{Start: c.span(runs[0]).Start, End: c.span(runs[len(runs)-1]).End}
}

// host checks a host and classifies it; nil when it has errors.
func (c *checker) host(t *host) *ast.Host {
	sp := c.hostSpan(t)
	h := &c.nodes.host
	*h = ast.Host{Span: sp, Raw: c.slice(sp)}
	switch {
	case t.Any != nil:
		h.Kind = ast.HostAny
		return h
	case t.Wildcard != nil:
		return c.wildcardHost(h, h.Raw)
	case t.IPv4CIDR != nil:
		return c.ipv4CIDR(h, t.IPv4CIDR)
	case t.IPv4 != nil:
		a, p := literal.IPv4(h.Raw)
		if p != nil {
			c.literalProblem(sp.Start, *p)
			return nil
		}
		h.Kind, h.Addr = ast.HostIPv4, a
		return h
	case t.IPv6 != nil || t.IPv6CIDR != nil:
		return c.ipv6Host(h)
	}
	return c.nameHost(h)
}

// nameHost checks a name (or "localhost"): a domain, or in an inbound
// rule an interface, classified by its meaning after mapping to A-labels
// (literal.Name): "ｌｏｃａｌｈｏｓｔ" is localhost, and "１２７.０.０.１" is an
// error, never a name.
func (c *checker) nameHost(h *ast.Host) *ast.Host {
	raw, sp := h.Raw, h.Span
	if strings.Contains(raw, "*") {
		return c.wildcardHost(h, raw)
	}
	if literal.LooksLikeIPv4(raw) {
		a, p := literal.IPv4(raw)
		if p != nil {
			c.literalProblem(sp.Start, *p)
			return nil
		}
		h.Kind, h.Addr = ast.HostIPv4, a
		return h
	}
	name, probs := literal.Name(raw)
	if len(probs) == 0 && name == literal.Localhost {
		h.Kind, h.Name = ast.HostLocalhost, literal.Localhost
		return h
	}
	if c.kind == ast.Inbound {
		// An inbound name is an interface, never a domain; but a spelling
		// that maps to an address is reported as what it reads as.
		if len(probs) > 0 && probs[0].ID == "CS004" && !literal.IsASCII(raw) {
			c.literalProblem(sp.Start, probs[0])
			return nil
		}
		if p := literal.Interface(raw); p != nil {
			c.literalProblem(sp.Start, *p)
			return nil
		}
		h.Kind, h.Iface = ast.HostInterface, raw
		return h
	}
	if len(probs) > 0 {
		for _, p := range probs {
			c.literalProblem(sp.Start, p)
		}
		return nil
	}
	h.Kind, h.Name = ast.HostDomain, name
	return h
}

// literalProblem reports a problem of package literal found in text at base.
func (c *checker) literalProblem(base int, p literal.Problem) {
	var fixes []fix
	if p.Fix != "" {
		fixes = append(fixes, replace("write "+p.Fix, base, base+literalLen(c.text[base:], p), p.Fix))
	}
	c.report(p.ID, base+p.Start, base+max(p.End, p.Start+1), p.Message, fixes...)
}

// literalLen is the length of the literal a whole-literal fix replaces: up
// to the next delimiter of the flag.
func literalLen(rest string, p literal.Problem) int {
	if p.End > 0 && p.Start == 0 {
		return p.End
	}
	n := strings.IndexAny(rest, ":#")
	if n < 0 {
		n = len(rest)
	}
	return n
}

// wildcardHost checks a host containing "*".
func (c *checker) wildcardHost(h *ast.Host, raw string) *ast.Host {
	start := h.Start
	if raw == "*" {
		h.Kind = ast.HostAny
		return h
	}
	if c.kind == ast.Inbound {
		c.report("CS008", start, start+len(raw), fmt.Sprintf("inbound rules take *, localhost, an interface or an address, not the name pattern %q", raw))
		return nil
	}
	if strings.HasPrefix(raw, "*.") && !strings.Contains(raw[2:], "*") {
		rest := raw[2:]
		if literal.LooksLikeIPv4(rest) {
			c.report("CS008", start, start+len(raw), fmt.Sprintf("%q is not a name pattern: a wildcard stands for labels of a name, not parts of an IPv4 address; use a CIDR such as 10.0.0.0/8", raw))
			return nil
		}
		name, probs := literal.Name(rest)
		if len(probs) > 0 {
			for _, p := range probs {
				c.literalProblem(start+2, p)
			}
			return nil
		}
		h.Kind, h.Name = ast.HostWildcard, name
		return h
	}
	i := strings.IndexByte(raw, '*')
	if strings.HasPrefix(raw, "*.") {
		i = 2 + strings.IndexByte(raw[2:], '*')
	}
	msg := fmt.Sprintf("wildcard in %q: a wildcard is a lone * or a whole leading label (*.example.com)", raw)
	var fixes []fix
	if i == 0 && len(raw) > 1 && raw[1] != '.' && raw[1] != '*' && !strings.Contains(raw[1:], "*") {
		fixes = append(fixes, replace("match the names below "+raw[1:], start, start+len(raw), "*."+strings.TrimLeft(raw[1:], ".")))
	}
	c.report("CS008", start+i, start+i+1, msg, fixes...)
	return nil
}

// ipv4CIDR checks "a.b.c.d/len".
func (c *checker) ipv4CIDR(h *ast.Host, n *iPv4CIDR) *ast.Host {
	a, p := literal.IPv4(c.tok(n.Addr).Value)
	if p != nil {
		c.literalProblem(h.Start, *p)
		return nil
	}
	sp := c.span(n.Len)
	bits, ok := c.prefixLen(c.slice(sp), sp.Start, 32)
	if !ok {
		return nil
	}
	return c.network(h, a, bits, "", "")
}

// prefixLen reads the length s of a CIDR written at offset at, at most limit.
func (c *checker) prefixLen(s string, at, limit int) (int, bool) {
	n, ok := smallNumber(s)
	if !ok || n > limit || len(s) > 1 && s[0] == '0' {
		c.report("CS004", at, at+len(s), fmt.Sprintf("prefix length %q is not a number from 0 to %d", s, limit))
		return 0, false
	}
	return n, true
}

// smallNumber reads a decimal number of at most 6 digits.
func smallNumber(s string) (int, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// ipv6Host checks a bracketed host: "[addr]" or "[addr/len]".
func (c *checker) ipv6Host(h *ast.Host) *ast.Host {
	sp := h.Span
	inner := h.Raw[1 : len(h.Raw)-1]
	at := sp.Start + 1
	addrText, lenText, isCIDR := strings.Cut(inner, "/")
	a, p := literal.IPv6(addrText)
	if p != nil {
		if p.ID == "CS005" && isCIDR {
			// An IPv4-mapped network: the fix is the IPv4 network.
			if n, ok := smallNumber(lenText); ok && n >= 96 && n <= 128 {
				v4 := p.Fix + "/" + fmt.Sprint(n-96)
				c.report("CS005", sp.Start, sp.End, fmt.Sprintf("IPv4-mapped IPv6 network %s stands for the IPv4 network %s; write %s", h.Raw, v4, v4),
					replace("write "+v4, sp.Start, sp.End, v4))
				return nil
			}
		}
		var fixes []fix
		if p.Fix != "" {
			fixText := p.Fix
			if p.ID == "CS004" && strings.Contains(p.Message, "zone") {
				fixText = "[" + p.Fix + suffixIf(isCIDR, "/"+lenText) + "]"
			}
			fixes = append(fixes, replace("write "+fixText, sp.Start, sp.End, fixText))
		}
		c.report(p.ID, at+p.Start, at+max(p.End, p.Start+1), p.Message, fixes...)
		return nil
	}
	if !isCIDR {
		h.Kind, h.Addr = ast.HostIPv6, a
		return h
	}
	bits, ok := c.prefixLen(lenText, at+len(addrText)+1, 128)
	if !ok {
		return nil
	}
	return c.network(h, a, bits, "[", "]")
}

func suffixIf(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}

// network makes a cidr host, reporting host bits below the mask (CS006).
func (c *checker) network(h *ast.Host, a netip.Addr, bits int, open, close string) *ast.Host {
	p := netip.PrefixFrom(a, bits)
	if m := p.Masked(); m != p {
		fixText := open + m.String() + close
		c.report("CS006", h.Start, h.End, fmt.Sprintf("%s has host bits set below the /%d mask; the network is %s", h.Raw, bits, fixText),
			replace("write the network address", h.Start, h.End, fixText))
		return nil
	}
	h.Kind, h.Prefix = ast.HostCIDR, p
	return h
}

// bareIPv6 reports an IPv6 address written without brackets, which the
// grammar read as a name with colons and ports.
func (c *checker) bareIPv6(v *value) bool {
	if v.Ports == nil {
		return false
	}
	start := c.span(v.Ports.Colon).Start
	if h := v.Host; h != nil {
		if h.IPv6 != nil || h.IPv6CIDR != nil || h.Ellipsis != nil || h.IPv4CIDR != nil {
			return false
		}
		start = c.hostSpan(h).Start
	}
	end := c.portListEnd(v.Ports)
	seg := c.text[start:end]
	if strings.Count(seg, ":") < 2 {
		return false
	}
	fixed, ok := bareIPv6(seg)
	if !ok {
		return false
	}
	c.report("CS004", start, end, fmt.Sprintf("IPv6 address must be written in brackets: %s", fixed),
		replace("put the address in brackets", start, end, fixed))
	return true
}

// hostMapping checks "->IP" after a host.
func (c *checker) hostMapping(r *ast.Rule, m *hostMapping) *ast.HostMapping {
	arrow := c.span(m.Arrow)
	end := c.hostMappingEnd(m)
	hm := &ast.HostMapping{Span: ast.Span{Start: arrow.Start, End: end}, Arrow: arrow, Raw: c.text[arrow.End:end]}
	switch {
	case c.kind == ast.Inbound:
		c.report("CS009", arrow.Start, end, "an inbound rule cannot map a host; map the port instead (tcp://*:80->8080)")
		return nil
	case r.Host == nil:
		if r.Ellipsis != nil {
			c.report("CS009", arrow.Start, end, "'...' cannot be mapped; a host mapping takes one exact name")
		}
		return nil
	case r.Host.Kind != ast.HostDomain:
		c.report("CS009", r.Host.Start, end, fmt.Sprintf("a host mapping maps one exact name to one IP address; %s %q cannot be mapped", hostKindWords(r.Host.Kind), r.Host.Raw))
		return nil
	case m.To == nil:
		c.report("CS009", arrow.Start, arrow.End, "missing IP address after '->'")
		return nil
	}
	if c.tok(*m.To).Type == tIPv6 {
		a, p := literal.IPv6(hm.Raw[1 : len(hm.Raw)-1])
		if p != nil {
			var fixes []fix
			if p.Fix != "" {
				fixes = append(fixes, replace("write "+p.Fix, arrow.End, end, p.Fix))
			}
			c.report(p.ID, arrow.End, end, p.Message, fixes...)
			return nil
		}
		hm.Addr = a
		return hm
	}
	a, p := literal.IPv4(hm.Raw)
	if p != nil {
		c.literalProblem(arrow.End, *p)
		return nil
	}
	hm.Addr = a
	return hm
}

func hostKindWords(k ast.HostKind) string {
	switch k {
	case ast.HostAny:
		return "the wildcard"
	case ast.HostWildcard:
		return "the name pattern"
	case ast.HostLocalhost:
		return "the name"
	case ast.HostInterface:
		return "the interface"
	case ast.HostIPv4, ast.HostIPv6:
		return "the address"
	case ast.HostCIDR:
		return "the network"
	}
	return "the name"
}

// hostMappingEnd returns the end of a host mapping (its address, or its arrow).
func (c *checker) hostMappingEnd(m *hostMapping) int {
	if m.To != nil {
		return c.span(*m.To).End
	}
	return c.span(m.Arrow).End
}
