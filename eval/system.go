package eval

import (
	"net"
	"net/netip"
)

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
