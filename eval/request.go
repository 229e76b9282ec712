package eval

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// Op is what a request asks for.
type Op uint8

// The operations of §3.6.
const (
	Lookup  Op = iota + 1 // lookup NAME [ipv4|ipv6]: a DNS lookup (resolve rules)
	Connect               // connect tcp HOST:PORT: a TCP connect (outbound rules)
	Send                  // send udp HOST:PORT: a UDP send (outbound rules)
	Listen                // listen tcp LOCAL:PORT: a TCP listen (inbound rules)
	Bind                  // bind udp LOCAL:PORT: a UDP bind (inbound rules)
)

var opNames = [...]string{"", "lookup", "connect", "send", "listen", "bind"}

// String returns the request word: lookup, connect, send, listen or bind.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "unknown"
}

// Protocol returns the protocol of the operation: tcp for connect and
// listen, udp for send and bind, none for lookup.
func (o Op) Protocol() ast.Protocol {
	switch o {
	case Connect, Listen:
		return ast.TCP
	case Send, Bind:
		return ast.UDP
	}
	return ast.NoProtocol
}

// Kind returns the kind of rule that decides the operation.
func (o Op) Kind() ast.Kind {
	switch o {
	case Connect, Send:
		return ast.Outbound
	case Listen, Bind:
		return ast.Inbound
	}
	return ast.Resolve
}

// LocalKind says what the local side of a listen or bind is.
type LocalKind uint8

// The local sides.
const (
	LocalAddr      LocalKind = iota // an address (0.0.0.0 and [::] mean every interface of a family)
	LocalAny                        // "*": every interface, any family
	LocalLocalhost                  // "localhost": the loopback interfaces
	LocalInterface                  // a named interface (Request.Name)
)

// Request is one request to decide (§3.6). Names are normalized by Decide
// (case, trailing dot, IDN to A-labels); addresses are unmapped and lose
// their zone, so that a request is compared in the form of the rules.
type Request struct {
	Op Op
	// Name is, for a lookup, the name looked up (empty when Addr is an IP
	// literal); for a connect or send, the name the address was resolved
	// from ("via NAME"), or the host name when Addr is not set; for a listen
	// or bind on LocalInterface, the interface name.
	Name string
	// Addr is the remote address of a connect or send, the local address of
	// a listen or bind on LocalAddr, or the IP literal of a lookup.
	Addr netip.Addr
	// Port is the remote port of a connect or send, the local port of a
	// listen or bind (0: a port the system picks).
	Port uint16
	// Family is, for a lookup, the family asked for (0 for any).
	Family policy.Families
	// Local is the kind of local side of a listen or bind.
	Local LocalKind
}

// String writes the request as a request line, e.g.
// "connect tcp 93.184.216.34:80 via example.com".
func (q Request) String() string {
	var b strings.Builder
	b.WriteString(q.Op.String())
	if q.Op != Lookup {
		b.WriteByte(' ')
		b.WriteString(q.Op.Protocol().String())
	}
	b.WriteByte(' ')
	switch q.Op {
	case Lookup:
		if q.Addr.IsValid() {
			b.WriteString(q.Addr.String())
		} else {
			b.WriteString(q.Name)
		}
		if q.Family == policy.IPv4 || q.Family == policy.IPv6 {
			b.WriteByte(' ')
			b.WriteString(q.Family.String())
		}
		return b.String()
	case Connect, Send:
		if q.Addr.IsValid() {
			b.WriteString(AddrText(q.Addr))
		} else {
			b.WriteString(q.Name)
		}
	default:
		switch q.Local {
		case LocalAny:
			b.WriteByte('*')
		case LocalLocalhost:
			b.WriteString("localhost")
		case LocalInterface:
			b.WriteString(q.Name)
		default:
			b.WriteString(AddrText(q.Addr))
		}
	}
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(int(q.Port)))
	if (q.Op == Connect || q.Op == Send) && q.Addr.IsValid() && q.Name != "" {
		b.WriteString(" via ")
		b.WriteString(q.Name)
	}
	return b.String()
}

// AddrText writes an address as requests and rules do: IPv6 in brackets.
func AddrText(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// AddrPort writes "addr:port" with IPv6 in brackets.
func AddrPort(a netip.Addr, port uint16) string { return AddrText(a) + ":" + strconv.Itoa(int(port)) }

// cleanAddr unmaps an IPv4-mapped IPv6 address and drops any zone.
func cleanAddr(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return a
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Zone() != "" {
		a = a.WithZone("")
	}
	return a
}

// Normalize returns the request in the form rules are in: names as
// lowercase A-labels without a trailing dot (NormalizeName), addresses
// unmapped and without a zone, a lookup of a numeric name read as the IP
// literal it spells. A request that cannot be decided is an error; a name
// error is a *literal.Problem positioned in the name.
func (q Request) Normalize() (Request, error) {
	err := normalize(&q)
	return q, err
}

// normalize puts a request in the form rules are in. It allocates only
// when a name is not already canonical.
func normalize(q *Request) error {
	name, err := normalizeFields(q)
	if err != nil || !name {
		return err
	}
	n, err := NormalizeName(q.Name)
	if err != nil {
		return err
	}
	q.Name = n
	return nil
}

// normalizeFields is normalize but for the DNS name: it checks the
// request and puts all else in the form rules are in; name says that
// q.Name is a DNS name still to normalize (NormalizeName), the last step
// of normalize.
func normalizeFields(q *Request) (name bool, err error) {
	if q.Addr.Is6() { // (IPv4 and none are clean)
		q.Addr = cleanAddr(q.Addr)
	}
	switch q.Op {
	case Connect, Send:
		if !q.Addr.IsValid() && q.Name == "" {
			return false, errors.New("missing host")
		}
		return q.Name != "", nil
	case Lookup:
		switch {
		case q.Addr.IsValid():
			return q.Name != "", nil
		case q.Name == "":
			return false, errors.New("missing name")
		case literal.LooksLikeIPv4(q.Name) || strings.IndexByte(q.Name, ':') >= 0:
			a, err := ParseAddr(q.Name)
			if err != nil {
				return false, err
			}
			q.Addr, q.Name = a, ""
			return false, nil
		}
		return true, nil
	case Listen, Bind:
		if q.Local == LocalInterface {
			if p := literal.Interface(q.Name); p != nil {
				return false, p
			}
		} else if q.Local == LocalAddr && !q.Addr.IsValid() {
			return false, errors.New("missing local address")
		}
		return false, nil
	}
	return false, errors.New("unknown operation")
}
