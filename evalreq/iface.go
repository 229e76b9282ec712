package evalreq

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/literal"
)

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
		a, err := eval.ParseAddr(addrText)
		if err != nil {
			return "", nil, fmt.Errorf("interface %s: %w", name, err)
		}
		bits := a.BitLen()
		if hasLen {
			n, err := strconv.Atoi(lenText)
			if err != nil || lenText != strconv.Itoa(n) {
				return "", nil, fmt.Errorf("interface %s: bad prefix length in %q", name, item)
			}
			if a.Is4() && strings.Contains(addrText, ":") {
				n -= 96 // an IPv4-mapped network
			}
			if n < 0 || n > a.BitLen() {
				return "", nil, fmt.Errorf("interface %s: bad prefix length in %q", name, item)
			}
			bits = n
		}
		out = append(out, netip.PrefixFrom(a, bits))
	}
	if len(out) == 0 {
		return "", nil, errors.New("interface " + name + ": no address")
	}
	return name, out, nil
}
