package eval

import (
	"net/netip"
	"slices"

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
