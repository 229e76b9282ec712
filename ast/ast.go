// Package ast defines the syntax tree of capspec flags. Every node carries
// its byte range (Span) in the text of its flag; a Rule's Loc maps those
// spans to positions in the origin the flag was read from.
package ast

import (
	"net/netip"

	"github.com/capspec/capspec/diag"
)

// Span is the half-open byte range [Start, End) of a node in its flag's text.
type Span struct {
	Start int
	End   int
}

// Bounds returns the span itself, so that every node embedding a Span is a Node.
func (s Span) Bounds() Span { return s }

// Len returns the length of the span in bytes.
func (s Span) Len() int { return s.End - s.Start }

// Kind is the kind of a flag.
type Kind uint8

// The three flag kinds.
const (
	Resolve  Kind = iota // --allow-resolve
	Outbound             // --allow-outbound
	Inbound              // --allow-inbound
)

// Kinds lists every kind in canonical order.
var Kinds = [...]Kind{Resolve, Outbound, Inbound}

// String returns "resolve", "outbound" or "inbound".
func (k Kind) String() string {
	switch k {
	case Resolve:
		return "resolve"
	case Outbound:
		return "outbound"
	case Inbound:
		return "inbound"
	}
	return "unknown"
}

// FlagName returns the flag that introduces a rule of this kind, e.g. "--allow-resolve".
func (k Kind) FlagName() string { return "--allow-" + k.String() }

// FlagNames returns the three flag names of the language in canonical
// order: --allow-resolve, --allow-outbound, --allow-inbound.
func FlagNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = k.FlagName()
	}
	return out
}

// KindOfFlag returns the kind a flag name introduces ("--allow-outbound"
// is Outbound), and whether the name is one of the three.
func KindOfFlag(name string) (Kind, bool) {
	for _, k := range Kinds {
		if name == k.FlagName() {
			return k, true
		}
	}
	return 0, false
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Protocol is the transport of an outbound or inbound rule.
type Protocol uint8

// The protocols. NoProtocol is the protocol of resolve rules.
const (
	NoProtocol Protocol = iota
	TCP
	UDP
)

// String returns "tcp", "udp", or "" for NoProtocol.
func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return ""
}

// MarshalText writes the protocol's name.
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Family is the address family a rule is restricted to.
type Family uint8

// The families. AnyFamily means no modifier.
const (
	AnyFamily Family = iota
	IPv4Only
	IPv6Only
)

// String returns "", "ipv4-only" or "ipv6-only".
func (f Family) String() string {
	switch f {
	case IPv4Only:
		return "ipv4-only"
	case IPv6Only:
		return "ipv6-only"
	}
	return ""
}

// MarshalText writes the family's name ("" for AnyFamily).
func (f Family) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// HostKind says what a rule's host is.
type HostKind uint8

// The host kinds.
const (
	HostAny       HostKind = iota // "*": every name, address or interface
	HostWildcard                  // "*.example.com": names below a domain
	HostDomain                    // "example.com"
	HostLocalhost                 // "localhost"
	HostInterface                 // "eth0" (inbound only)
	HostIPv4                      // "10.0.0.1"
	HostIPv6                      // "[::1]"
	HostCIDR                      // "10.0.0.0/8", "[2001:db8::/32]"
)

var hostKindNames = [...]string{"any", "wildcard", "domain", "localhost", "interface", "ipv4", "ipv6", "cidr"}

// String returns the kind's name: any, wildcard, domain, localhost,
// interface, ipv4, ipv6 or cidr.
func (k HostKind) String() string {
	if int(k) < len(hostKindNames) {
		return hostKindNames[k]
	}
	return "unknown"
}

// MarshalText writes the host kind's name.
func (k HostKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// IsName reports whether the host kind matches by DNS name (domain,
// wildcard or localhost).
func (k HostKind) IsName() bool { return k == HostWildcard || k == HostDomain || k == HostLocalhost }

// IsAddress reports whether the host kind is an IP literal or CIDR.
func (k HostKind) IsAddress() bool { return k == HostIPv4 || k == HostIPv6 || k == HostCIDR }

// FlagForm is how the flag and its value were joined.
type FlagForm uint8

// The two flag forms.
const (
	Equals   FlagForm = iota // --allow-X=SPEC
	TwoWords                 // --allow-X SPEC
)

// Node is any node of the tree.
type Node interface {
	Bounds() Span
}

// Rule is one flag: its kind, and the parts of its SPEC. Parts that a form
// does not have are nil (a resolve rule has no Scheme or Ports; the "..."
// form has Ellipsis and no Host or Ports).
type Rule struct {
	Span
	Text     string       // the flag's text as parsed
	Flag     *FlagName    // "--allow-outbound"
	Scheme   *Scheme      // "tcp://"; nil for resolve
	Ellipsis *Ellipsis    // "..." standing for "*:*"
	Host     *Host        // the name pattern, target or local host
	HostMap  *HostMapping // "->172.17.0.14" after the host
	Ports    *PortList    // ":80,443"
	PortMap  *PortMapping // "->5433" after the ports
	Family   *FamilyMod   // "#ipv4-only"
	// Loc locates spans of Text in the origin; nil means the text is its own origin.
	Loc diag.Locator
	// Index is the rule's position in its policy, from 0.
	Index int
}

// Kind returns the rule's kind.
func (r *Rule) Kind() Kind { return r.Flag.Kind }

// Protocol returns the rule's protocol (NoProtocol for resolve).
func (r *Rule) Protocol() Protocol {
	if r.Scheme == nil {
		return NoProtocol
	}
	return r.Scheme.Protocol
}

// FamilyValue returns the rule's family modifier, AnyFamily when absent.
func (r *Rule) FamilyValue() Family {
	if r.Family == nil {
		return AnyFamily
	}
	return r.Family.Family
}

// Range returns the origin range of a node of this rule.
func (r *Rule) Range(n Node) diag.Range {
	s := n.Bounds()
	return r.RangeOf(s.Start, s.End)
}

// RangeOf returns the origin range of bytes [start, end) of the rule's text.
func (r *Rule) RangeOf(start, end int) diag.Range {
	if r.Loc == nil {
		return diag.NewFile("", r.Text).Range(start, end)
	}
	return r.Loc.Range(start, end)
}

// FlagName is the flag word, e.g. "--allow-outbound", and how its value follows.
type FlagName struct {
	Span
	Kind Kind
	Form FlagForm
}

// Scheme is the protocol prefix, e.g. "tcp://".
type Scheme struct {
	Span
	Protocol Protocol
	Raw      string // as written, e.g. "TCP"
}

// Ellipsis is the "..." form: any host, any port.
type Ellipsis struct {
	Span
}

// Host is a rule's host: a name pattern, an address, a CIDR, localhost, an
// interface or "*".
type Host struct {
	Span
	Kind HostKind
	Raw  string // as written
	// Name is the domain in A-label form, lowercase, without a trailing dot.
	// For a wildcard it is the part after "*."; for localhost "localhost".
	Name string
	// Addr is the address of an ipv4 or ipv6 host.
	Addr netip.Addr
	// Prefix is the network of a cidr host (masked).
	Prefix netip.Prefix
	// Iface is the interface name of an interface host.
	Iface string
}

// HostMapping is "->IP" after a name: the name resolves to Addr.
type HostMapping struct {
	Span       // from the arrow to the end of the address
	Arrow Span // the "->"
	Addr  netip.Addr
	Raw   string // the address as written
}

// PortList is ":ports": "*" or a list of items.
type PortList struct {
	Span       // from the colon to the end of the list
	Any   bool // "*"
	Items []*PortItem
}

// PortItem is one port or an inclusive range of ports.
type PortItem struct {
	Span
	Lo, Hi int // equal for a single port
	Raw    string
}

// IsRange reports whether the item was written as a range "lo-hi".
func (p *PortItem) IsRange() bool { return p.Lo != p.Hi || len(p.Raw) > 0 && containsDash(p.Raw) }

func containsDash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			return true
		}
	}
	return false
}

// PortMapping is "->ports" after the guest ports: the host-side port or range.
type PortMapping struct {
	Span       // from the arrow to the end
	Arrow Span // the "->"
	Item  *PortItem
}

// FamilyMod is "#ipv4-only" or "#ipv6-only".
type FamilyMod struct {
	Span
	Family Family
	Raw    string
}

// Policy is an ordered list of rules read from one source.
type Policy struct {
	Name  string // e.g. "policy.flags", "argv", "run.sh:4 wasmtime"
	Rules []*Rule
}
