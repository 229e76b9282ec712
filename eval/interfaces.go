package eval

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// Interfaces is the table of network interfaces inbound requests are
// decided with: which interface owns which address. It is read-only once
// made, so it is safe for concurrent use.
type Interfaces struct {
	addrs    map[string][]netip.Addr
	owners   map[netip.Addr][]string
	loopback []string // interfaces all of whose addresses are loopback
	names    []string
}

// NewInterfaces makes a table from interface names and their addresses,
// written as "ip addr" prints them: 10.0.0.5/24 means the interface owns
// 10.0.0.5 (not its subnet). Addresses are unmapped and lose their zones.
func NewInterfaces(table map[string][]netip.Prefix) *Interfaces {
	t := &Interfaces{addrs: map[string][]netip.Addr{}, owners: map[netip.Addr][]string{}}
	for name, ps := range table {
		t.names = append(t.names, name)
		for _, p := range ps {
			a := cleanAddr(p.Addr())
			if a.IsValid() && !slices.Contains(t.addrs[name], a) {
				t.addrs[name] = append(t.addrs[name], a)
			}
		}
	}
	slices.Sort(t.names)
	for _, name := range t.names {
		as := t.addrs[name]
		slices.SortFunc(as, netip.Addr.Compare)
		loop := len(as) > 0
		for _, a := range as {
			t.owners[a] = append(t.owners[a], name)
			loop = loop && policy.IsLoopback(a)
		}
		if loop {
			t.loopback = append(t.loopback, name)
		}
	}
	return t
}

// SystemInterfaces reads the running machine's interfaces.
func SystemInterfaces() (*Interfaces, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	table := map[string][]netip.Prefix{}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, err
		}
		table[ifc.Name] = nil
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					ones, _ := n.Mask.Size()
					table[ifc.Name] = append(table[ifc.Name], netip.PrefixFrom(ip.Unmap(), ones))
				}
			}
		}
	}
	return NewInterfaces(table), nil
}

// ParseInterface reads "NAME=CIDR[,CIDR]", e.g.
// "eth0=10.0.0.5/24,fe80::1/64" (the interface owns 10.0.0.5 and fe80::1).
// An address may omit its prefix length; IPv6 may be bracketed.
func ParseInterface(spec string) (string, []netip.Prefix, error) {
	name, list, ok := strings.Cut(spec, "=")
	if !ok {
		return "", nil, fmt.Errorf("%q: want NAME=ADDRESS/LEN[,ADDRESS/LEN]", spec)
	}
	if p := literal.Interface(name); p != nil {
		return "", nil, p
	}
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		addrText, lenText, hasLen := strings.Cut(item, "/")
		a, err := ParseAddr(addrText)
		if err != nil {
			return "", nil, fmt.Errorf("interface %s: %w", name, err)
		}
		bits := a.BitLen()
		if hasLen {
			p, err := netip.ParsePrefix(a.String() + "/" + lenText)
			if err != nil {
				return "", nil, fmt.Errorf("interface %s: bad prefix length in %q", name, item)
			}
			bits = p.Bits()
		}
		out = append(out, netip.PrefixFrom(a, bits))
	}
	if len(out) == 0 {
		return "", nil, errors.New("interface " + name + ": no address")
	}
	return name, out, nil
}

// Owners returns the interfaces that own address a.
func (t *Interfaces) Owners(a netip.Addr) []string {
	if t == nil {
		return nil
	}
	return t.owners[a]
}

// Addrs returns the addresses of an interface, sorted.
func (t *Interfaces) Addrs(name string) []netip.Addr {
	if t == nil {
		return nil
	}
	return t.addrs[name]
}

// Has reports whether the table knows the interface.
func (t *Interfaces) Has(name string) bool {
	if t == nil {
		return false
	}
	_, ok := t.addrs[name]
	return ok || slices.Contains(t.names, name)
}

// IsLoopback reports whether an interface is a loopback interface: all its
// addresses (at least one) are loopback addresses.
func (t *Interfaces) IsLoopback(name string) bool {
	return t != nil && slices.Contains(t.loopback, name)
}

// Loopback returns the loopback interfaces.
func (t *Interfaces) Loopback() []string {
	if t == nil {
		return nil
	}
	return t.loopback
}

// Names returns the interface names, sorted.
func (t *Interfaces) Names() []string {
	if t == nil {
		return nil
	}
	return t.names
}
