package ast

import "strings"

// Print writes a rule back as flag text, part by part, in the spelling it
// was written with. Parsing the result gives an equal rule.
func Print(r *Rule) string {
	var b strings.Builder
	b.WriteString(r.Flag.Kind.FlagName())
	if r.Flag.Form == TwoWords {
		b.WriteByte(' ')
	} else {
		b.WriteByte('=')
	}
	if r.Scheme != nil {
		b.WriteString(r.Scheme.Raw)
		b.WriteString("://")
	}
	if r.Ellipsis != nil {
		b.WriteString("...")
	}
	if r.Host != nil {
		b.WriteString(r.Host.Raw)
	}
	if r.HostMap != nil {
		b.WriteString("->")
		b.WriteString(r.HostMap.Raw)
	}
	if r.Ports != nil {
		b.WriteByte(':')
		b.WriteString(r.Ports.String())
	}
	if r.PortMap != nil {
		b.WriteString("->")
		b.WriteString(r.PortMap.Item.Raw)
	}
	if r.Family != nil {
		b.WriteString(r.Family.Raw)
	}
	return b.String()
}

// String writes the port list without its colon, as written: "*" or "80,443".
func (p *PortList) String() string {
	if p.Any {
		return "*"
	}
	parts := make([]string, len(p.Items))
	for i, it := range p.Items {
		parts[i] = it.Raw
	}
	return strings.Join(parts, ",")
}
