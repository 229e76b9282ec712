package policy

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/literal"
)

// This file is the one home of canonical spelling (SPEC §4.1, §4.2): what
// capspec fmt writes, what lint's CS305 asks for, and how explain and every
// other pass print a rule. Literals are spelled by package literal
// (FormatAddr, FormatPrefix); names are already canonical in a compiled rule.

// Spelling is the canonical spelling of a rule, part by part; each part
// carries its separator, so that the parts joined are the flag.
type Spelling struct {
	Flag    string // "--allow-outbound"
	Scheme  string // "tcp://"; "" for a resolve rule
	Host    string // "*", "example.com", "*.example.com", "localhost", "eth0", "10.0.0.0/8", "[::1]"
	HostMap string // "->172.17.0.14", or ""
	Ports   string // ":80-82,443", ":*", ":5432" (the guest side of a port mapping); "" for a resolve rule
	PortMap string // "->5433", or ""
	Family  string // "#ipv4-only", "#ipv6-only", or "" (none, or implied by an address)
}

// String joins the parts: "--allow-outbound=tcp://example.com:80-82,443#ipv4-only".
func (s Spelling) String() string { return s.Flag + "=" + s.Spec() }

// Spec joins the parts after the flag name and "=".
func (s Spelling) Spec() string {
	return s.Scheme + s.Host + s.HostMap + s.Ports + s.PortMap + s.Family
}

// Spelling returns the canonical spelling of the rule: the --allow-X=SPEC
// form; lowercase scheme; the host as Host.String writes it (lowercase
// A-labels without a trailing dot, RFC 5952 IPv6 in brackets, /32 and /128
// as the address, inbound 0.0.0.0 and [::] as "*" with their family); the
// ports sorted and merged, the full set of the direction as "*" ("..." is
// "*:*"); the family modifier unless a literal implies it.
func (r *Rule) Spelling() Spelling {
	s := Spelling{Flag: r.Kind.FlagName(), Host: r.Host.String()}
	if r.Kind != ast.Resolve {
		s.Scheme = r.Protocol.String() + "://"
	}
	if r.HostMap.IsValid() {
		s.HostMap = "->" + literal.FormatAddr(r.HostMap)
	}
	if r.Kind != ast.Resolve {
		if r.PortMap.IsMapped() {
			s.Ports = ":" + r.PortMap.From.String()
			s.PortMap = "->" + r.PortMap.To.String()
		} else {
			s.Ports = ":" + r.Ports.Spell(r.Kind == ast.Outbound)
		}
	}
	if r.Families != r.ImpliedFamilies() {
		s.Family = r.Families.Modifier()
	}
	return s
}

// String returns the canonical spelling of the rule as a flag (see Spelling).
func (r *Rule) String() string { return r.Spelling().String() }

// Spec returns the canonical spelling of the rule's value, without the flag name.
func (r *Rule) Spec() string { return r.Spelling().Spec() }
