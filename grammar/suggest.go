package grammar

import (
	"net/netip"
	"strings"

	"github.com/capspec/capspec/internal/suggest"
	"github.com/capspec/capspec/literal"
)

// suggestFamily returns the family modifier a misspelled one most likely meant.
func suggestFamily(raw string) string {
	s := strings.ToLower(strings.TrimLeft(raw, "#"))
	has4, has6 := strings.Contains(s, "4"), strings.Contains(s, "6")
	switch {
	case has4 && !has6:
		return "#ipv4-only"
	case has6 && !has4:
		return "#ipv6-only"
	}
	return ""
}

// schemeTypo recognizes a value that starts with a protocol name followed
// by a malformed separator ("tcp:/h", "tcp:h", "tcp//h", "tcp:///h") and
// returns the length of the malformed prefix and its replacement.
func schemeTypo(value string) (n int, fix string) {
	i := 0
	for i < len(value) && (value[i] >= 'a' && value[i] <= 'z' || value[i] >= 'A' && value[i] <= 'Z') {
		i++
	}
	if i == 0 {
		return 0, ""
	}
	proto := strings.ToLower(value[:i])
	if proto != "tcp" && proto != "udp" {
		proto = suggest.Closest(proto, 1, "tcp", "udp")
		if proto == "" {
			return 0, ""
		}
	}
	j := i
	for j < len(value) && (value[j] == ':' || value[j] == '/') {
		j++
	}
	sep := value[i:j]
	if strings.HasPrefix(sep, "://") && (len(sep) == 3 || sep[3] == ':') || sep == "" || !strings.Contains(sep, ":") && !strings.Contains(sep, "/") {
		return 0, ""
	}
	if sep == ":" {
		// "tcp:80" could be a host named tcp with port 80; only call it a
		// scheme when what follows does not look like a port list.
		rest := value[j:]
		if rest == "" || strings.IndexFunc(rest, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r == ',' || r == '-' || r == '*')
		}) < 0 {
			return 0, ""
		}
	}
	return j, proto + "://"
}

// bareIPv6 recognizes an unbracketed IPv6 address (with an optional port
// list after its last colon) in text and returns its bracketed spelling.
func bareIPv6(text string) (string, bool) {
	if strings.Count(text, ":") < 2 {
		return "", false
	}
	if i := strings.LastIndexByte(text, ':'); i > 0 {
		addr, ports := text[:i], text[i+1:]
		if isPortText(ports) && ports != "" {
			if a, err := netip.ParseAddr(addr); err == nil && a.Is6() {
				return literal.FormatAddr(a.WithZone("")) + ":" + ports, true
			}
		}
	}
	if a, err := netip.ParseAddr(text); err == nil && a.Is6() {
		return literal.FormatAddr(a.WithZone("")), true
	}
	if i := strings.IndexByte(text, '%'); i > 0 {
		// A zone: suggest the address without it.
		rest := text[i:]
		zoneEnd := strings.IndexByte(rest, ':')
		if zoneEnd < 0 {
			zoneEnd = len(rest)
		}
		if a, err := netip.ParseAddr(text[:i]); err == nil && a.Is6() {
			out := literal.FormatAddr(a)
			if zoneEnd < len(rest) {
				out += rest[zoneEnd:]
			}
			return out, true
		}
	}
	return "", false
}

func isPortText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == ',' || c == '-' || c == '*') {
			return false
		}
	}
	return true
}
