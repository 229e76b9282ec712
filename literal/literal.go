// Package literal checks and normalizes the literals of the flag language
// and of requests: DNS names (with IDN), IPv4 and IPv6 addresses, and
// interface names. Rules and requests share it, so that a request is spelled
// into the same form as the rules it is matched against: lowercase A-labels
// without a trailing dot, strict dotted-quad IPv4, unmapped IPv6.
package literal

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Problem is something wrong with a literal, at bytes [Start, End) of it.
type Problem struct {
	ID      string // CS004 (bad IP literal) or CS007 (bad name)
	Start   int
	End     int
	Message string
	// Fix, when not empty, is the text that should replace the whole literal.
	Fix string
}

// Error formats the problem's message.
func (p Problem) Error() string { return p.Message }

// MaxNameLength is the longest DNS name in octets, without the trailing dot.
const MaxNameLength = 253

// MaxLabelLength is the longest DNS label in octets.
const MaxLabelLength = 63

// isDot reports whether r separates labels (IDNA maps the ideographic and
// fullwidth full stops to ".").
func isDot(r rune) bool { return r == '.' || r == '\u3002' || r == '\uff0e' || r == '\uff61' }

// label is one label of a name and its byte range in the name.
type label struct {
	text       string
	start, end int
}

// splitLabels splits s at dots, returning the labels and whether a final
// dot was present. An empty label other than the last is kept (as empty).
func splitLabels(s string) (labels []label, trailingDot bool) {
	start := 0
	for i, r := range s {
		if isDot(r) {
			labels = append(labels, label{s[start:i], start, i})
			start = i + utf8.RuneLen(r)
		}
	}
	labels = append(labels, label{s[start:], start, len(s)})
	if len(labels) > 1 && labels[len(labels)-1].text == "" {
		return labels[:len(labels)-1], true
	}
	return labels, false
}

// Name checks a DNS name and returns it in canonical form: lowercase
// A-labels joined by ".", without a trailing dot. Underscores are accepted
// (the caller may warn about them). A name that is numeric like an IPv4
// address but is not one, or whose last label is all digits, is a problem.
func Name(s string) (string, []Problem) {
	if s == "" {
		return "", []Problem{{ID: "CS007", Message: "empty name"}}
	}
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return "", []Problem{{ID: "CS007", Start: i, End: i + 1, Message: fmt.Sprintf("invalid UTF-8 byte 0x%02X in a name", s[i])}}
	}
	if len(s) > 4*(MaxNameLength+1) {
		// No spelling this long can be a name of at most 253 octets; stop
		// before splitting megabytes of labels.
		return "", []Problem{{ID: "CS007", Start: 0, End: len(s),
			Message: fmt.Sprintf("name is %d bytes long; a name has at most %d octets", len(s), MaxNameLength)}}
	}
	labels, _ := splitLabels(s)
	if p, ok := numericName(s, labels); ok {
		return "", []Problem{p}
	}
	var probs []Problem
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		a, p := labelToASCII(l)
		if p != nil {
			probs = append(probs, *p)
			continue
		}
		out = append(out, a)
	}
	if len(probs) > 0 {
		return "", probs
	}
	name := strings.Join(out, ".")
	if len(name) > MaxNameLength {
		return "", []Problem{{ID: "CS007", Start: 0, End: len(s),
			Message: fmt.Sprintf("name is %d octets long (at most %d)", len(name), MaxNameLength)}}
	}
	return name, nil
}

// labelToASCII checks one label and returns its lowercase A-label.
func labelToASCII(l label) (string, *Problem) {
	bad := func(msg string, args ...any) *Problem {
		return &Problem{ID: "CS007", Start: l.start, End: max(l.end, l.start+1), Message: fmt.Sprintf(msg, args...)}
	}
	if l.text == "" {
		return "", &Problem{ID: "CS007", Start: max(l.start-1, 0), End: l.start + 1, Message: "empty label in name"}
	}
	var a string
	if isASCII(l.text) {
		a = strings.ToLower(l.text)
		for i := 0; i < len(a); i++ {
			c := a[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", &Problem{ID: "CS007", Start: l.start + i, End: l.start + i + 1,
					Message: fmt.Sprintf("character %q is not allowed in a name", c)}
			}
		}
		if strings.HasPrefix(a, "xn--") {
			if _, err := idna.Lookup.ToUnicode(a); err != nil {
				return "", bad("label %q is not a valid IDN A-label", l.text)
			}
		}
	} else {
		var err error
		a, err = idna.Lookup.ToASCII(l.text)
		if err != nil || a == "" || strings.ContainsRune(a, '.') {
			return "", bad("label %q is not a valid international name", l.text)
		}
	}
	if len(a) > MaxLabelLength {
		return "", bad("label is %d octets long (at most %d)", len(a), MaxLabelLength)
	}
	if a[0] == '-' {
		return "", bad("label %q starts with '-'", l.text)
	}
	if a[len(a)-1] == '-' {
		return "", bad("label %q ends with '-'", l.text)
	}
	return a, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// numericName reports a name that is numeric: all its labels are numbers
// (an attempt at an IPv4 address that is not a valid one), or its last label
// is all digits.
func numericName(s string, labels []label) (Problem, bool) {
	whole := Problem{ID: "CS004", Start: 0, End: len(s)}
	allNumeric := true
	for _, l := range labels {
		if !isNumberPart(l.text) {
			allNumeric = false
			break
		}
	}
	if allNumeric {
		if strings.TrimRight(s, ".") != s {
			whole.Message = fmt.Sprintf("%q is not a name: an IPv4 address has no trailing dot", s)
			whole.Fix = strings.TrimRight(s, ".")
			if _, err := netip.ParseAddr(whole.Fix); err == nil {
				return whole, true
			}
			whole.Fix = ""
		}
		whole.Message, whole.Fix = describeBadIPv4(strings.TrimRight(s, "."))
		return whole, true
	}
	last := labels[len(labels)-1].text
	if last != "" && IsDigits(last) {
		l := labels[len(labels)-1]
		return Problem{ID: "CS004", Start: l.start, End: l.end,
			Message: fmt.Sprintf("the last label of a name cannot be all digits (%q); this is neither a name nor an IPv4 address", last)}, true
	}
	return Problem{}, false
}

// IsDigits reports whether s is a non-empty run of ASCII digits.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isNumberPart reports whether s is a number as inet_aton reads one:
// decimal, octal with a leading 0, or hex with 0x.
func isNumberPart(s string) bool {
	if IsDigits(s) {
		return true
	}
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		for i := 2; i < len(s); i++ {
			if !isHex(s[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// describeBadIPv4 explains why s (all numeric parts) is not a valid IPv4
// literal, and gives the dotted form when s is a legacy form of one.
func describeBadIPv4(s string) (msg, fix string) {
	parts := strings.Split(s, ".")
	if legacy, ok := ParseLegacyIPv4(s); ok {
		if len(parts) == 4 && allDecimal(parts) {
			return fmt.Sprintf("IPv4 address %q has leading zeros, which some systems read as octal (%s); write it without them", s, legacy),
				""
		}
		return fmt.Sprintf("%q is a legacy numeric form of the IPv4 address %s; only the four-part decimal form is accepted", s, legacy),
			legacy.String()
	}
	if len(parts) == 4 && allDecimal(parts) {
		for _, p := range parts {
			if n, err := strconv.Atoi(p); err == nil && n > 255 {
				return fmt.Sprintf("%q is not a valid IPv4 address: %s is above 255", s, p), ""
			}
		}
	}
	if len(parts) > 4 {
		return fmt.Sprintf("%q is not a valid IPv4 address: it has %d parts (want 4)", s, len(parts)), ""
	}
	return fmt.Sprintf("%q is not a valid IPv4 address or name", s), ""
}

func allDecimal(parts []string) bool {
	for _, p := range parts {
		if !IsDigits(p) {
			return false
		}
	}
	return true
}

// ParseLegacyIPv4 reads s as inet_aton does (1 to 4 parts, each decimal,
// octal with a leading 0 or hex with 0x, the last part filling the rest of
// the address). It exists to explain and reject such spellings, never to
// accept them.
func ParseLegacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseCNumber(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var ip uint64
	n := len(vals)
	for i := 0; i < n-1; i++ {
		if vals[i] > 255 {
			return netip.Addr{}, false
		}
		ip |= vals[i] << (8 * (3 - i))
	}
	lastBits := 8 * (5 - n)
	if vals[n-1] >= 1<<lastBits {
		return netip.Addr{}, false
	}
	ip |= vals[n-1]
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

func parseCNumber(p string) (uint64, bool) {
	if p == "" || len(p) > 12 {
		return 0, false
	}
	base := 10
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	v, err := strconv.ParseUint(p, base, 64)
	return v, err == nil
}

// IPv4 parses the four-decimal-octet form of an IPv4 address. Other forms
// (leading zeros, fewer parts, hex, octal) are problems.
func IPv4(s string) (netip.Addr, *Problem) {
	a, err := netip.ParseAddr(s)
	if err == nil && a.Is4() {
		return a, nil
	}
	msg, fix := describeBadIPv4(s)
	return netip.Addr{}, &Problem{ID: "CS004", Start: 0, End: len(s), Message: msg, Fix: fix}
}

// LooksLikeIPv4 reports whether s is made of dot-separated numbers only, so
// that it must be read as an IPv4 address (valid or not) and never as a name.
func LooksLikeIPv4(s string) bool {
	labels, _ := splitLabels(s)
	for _, l := range labels {
		if !isNumberPart(l.text) {
			return false
		}
	}
	return true
}

// IPv6 parses the text between the brackets of an IPv6 literal. A zone is a
// problem (fix: without it); an IPv4-mapped address is a problem whose fix
// is the IPv4 form; an IPv4 address in brackets is a problem whose fix is
// the address without them.
func IPv6(s string) (netip.Addr, *Problem) {
	whole := &Problem{ID: "CS004", Start: 0, End: len(s)}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		whole.Message = fmt.Sprintf("IPv6 zone %q is not allowed: rules name addresses, not links", s[i:])
		whole.Start = i
		if a, err := netip.ParseAddr(s[:i]); err == nil && a.Is6() {
			whole.Fix = s[:i]
		}
		return netip.Addr{}, whole
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		whole.Message = fmt.Sprintf("%q is not a valid IPv6 address", s)
		return netip.Addr{}, whole
	}
	if a.Is4() {
		whole.Message = fmt.Sprintf("IPv4 address %s must not be written in brackets", s)
		whole.Fix = a.String()
		return netip.Addr{}, whole
	}
	if a.Is4In6() {
		v4 := a.Unmap()
		return netip.Addr{}, &Problem{ID: "CS005", Start: 0, End: len(s),
			Message: fmt.Sprintf("IPv4-mapped IPv6 address [%s] stands for the IPv4 address %s; write %s", s, v4, v4),
			Fix:     v4.String()}
	}
	return a, nil
}

// Interface checks an interface name: 1 to 15 characters of
// [A-Za-z0-9_.:-], starting with a letter.
func Interface(s string) *Problem {
	if s == "" {
		return &Problem{ID: "CS007", Message: "empty interface name"}
	}
	if len(s) > 15 {
		return &Problem{ID: "CS007", Start: 0, End: len(s),
			Message: fmt.Sprintf("interface name %q is %d characters long (at most 15)", s, len(s))}
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return &Problem{ID: "CS007", Start: 0, End: 1, Message: fmt.Sprintf("interface name %q must start with a letter", s)}
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return &Problem{ID: "CS007", Start: i, End: i + utf8.RuneLen(c), Message: fmt.Sprintf("character %q is not allowed in an interface name", c)}
		}
	}
	return nil
}

// Unmap returns the IPv4 address of an IPv4-mapped IPv6 address, and any
// other address unchanged, without a zone.
func Unmap(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }
