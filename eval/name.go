package eval

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/capspec/capspec/literal"
)

// NormalizeName returns a DNS name of a request as rules spell it:
// lowercase A-labels without a trailing dot. It is literal.Name, the one
// name normalization of rules and requests (invisible characters and names
// that map to an address are errors; a name already canonical is returned
// without allocating). Errors are *literal.Problem, positioned in s.
func NormalizeName(s string) (string, error) {
	n, probs := literal.Name(s)
	if len(probs) > 0 {
		return "", &probs[0]
	}
	return n, nil
}

// ParseAddr reads an IP address of a request: the four-decimal-octet IPv4
// form, or IPv6 with or without brackets. Legacy IPv4 spellings (127.1,
// 0x7f.0.0.1, 2130706433, leading zeros) and zones are errors, never
// guessed; an IPv4-mapped IPv6 address is unmapped.
func ParseAddr(s string) (netip.Addr, error) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	} else if !strings.Contains(s, ":") {
		a, p := literal.IPv4(s)
		if p != nil {
			return netip.Addr{}, p
		}
		return a, nil
	}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		return netip.Addr{}, errors.New("IPv6 zone " + strconv.Quote(s[i:]) + " is not allowed in a request; give the address alone")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, errors.New(strconv.Quote(s) + " is not a valid IPv6 address")
	}
	return a.Unmap(), nil
}
