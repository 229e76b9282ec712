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
	"unicode"
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

// Localhost is the name that always resolves to loopback (RFC 6761), in
// canonical form: Name("ＬＯＣＡＬＨＯＳＴ.") returns it too.
const Localhost = "localhost"

// Name checks a DNS name, as a rule or a request writes it, and returns it
// in canonical form: lowercase A-labels joined by ".", without a trailing
// dot. It is capspec's one name normalization; rules and requests both go
// through it, so that they can never disagree on what a name is.
//
// The name is checked after mapping to its A-label form, never before:
//
//   - invalid UTF-8 is a problem (CS007), and so is any invisible character
//     (CS012, see CheckInvisible): IDNA would silently drop a zero-width
//     space or a soft hyphen, so that "exam\u200bple.com" would be decided as
//     example.com;
//   - the name is split into labels at every form of full stop (".", "。",
//     "．", "｡"), and each label is mapped to its A-label (IDNA2008 lookup
//     profile: width mapping, case folding, NFKC), so "ｌｏｃａｌｈｏｓｔ" is
//     localhost;
//   - the mapped name as a whole must be a name: one that reads as an IPv4
//     address in any form (all labels numbers, "１２７.０.０.１", "①②⑦.⓪.⓪.①",
//     "0x7f.1"), one that is an IP address, or one whose last label is all
//     digits of any script ("ex.１２３") is a problem (CS004), never a name;
//   - then the label rules: letters, digits, '-' and '_' (the caller may
//     warn about '_'), 1 to 63 octets, no leading or trailing '-', at most
//     253 octets in all (CS007).
func Name(s string) (string, []Problem) {
	if isCanonicalName(s) {
		return s, nil
	}
	return mapName(s)
}

// maxInvisibleProblems bounds the invisible characters Name reports: a
// megabyte of zero-width spaces is refused in a few problems, not in a
// third of a million.
const maxInvisibleProblems = 10

// mapName is Name without the fast path: the whole mapping and checking.
func mapName(s string) (string, []Problem) {
	if s == "" {
		return "", []Problem{{ID: "CS007", Message: "empty name"}}
	}
	if p, bad := invalidUTF8(s); bad {
		return "", []Problem{p}
	}
	if ps := CheckInvisible(s, maxInvisibleProblems); len(ps) > 0 {
		return "", ps
	}
	if len(s) > 4*(MaxNameLength+1) {
		// No spelling this long can be a name of at most 253 octets; stop
		// before mapping megabytes of labels.
		return "", []Problem{{ID: "CS007", Start: 0, End: len(s),
			Message: fmt.Sprintf("name is %d bytes long; a name has at most %d octets", len(s), MaxNameLength)}}
	}
	labels, trailingDot := splitLabels(s)
	mapped := make([]string, len(labels))
	var probs []Problem
	for i, l := range labels {
		m, p := mapLabel(l)
		if p != nil {
			probs = append(probs, *p)
			continue
		}
		mapped[i] = m
	}
	if len(probs) > 0 {
		return "", probs
	}
	if p, ok := numericName(s, labels, mapped, trailingDot); ok {
		return "", []Problem{p}
	}
	for i, l := range labels {
		if p := checkLabel(l, mapped[i]); p != nil {
			probs = append(probs, *p)
		}
	}
	if len(probs) > 0 {
		return "", probs
	}
	name := strings.Join(mapped, ".")
	if len(name) > MaxNameLength {
		return "", []Problem{{ID: "CS007", Start: 0, End: len(s),
			Message: fmt.Sprintf("name is %d octets long (at most %d)", len(name), MaxNameLength)}}
	}
	return name, nil
}

// invalidUTF8 reports the first byte of s that is not UTF-8.
func invalidUTF8(s string) (Problem, bool) {
	if utf8.ValidString(s) {
		return Problem{}, false
	}
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return Problem{ID: "CS007", Start: i, End: i + 1, Message: fmt.Sprintf("invalid UTF-8 byte 0x%02X in a name", s[i])}, true
}

// LabelRanges returns the byte ranges [start, end) of the labels of a name
// as written, split at every form of full stop; a trailing dot ends no
// label. Label i of the canonical name (from Name) is label i here.
func LabelRanges(s string) [][2]int {
	labels, _ := splitLabels(s)
	out := make([][2]int, len(labels))
	for i, l := range labels {
		out[i] = [2]int{l.start, l.end}
	}
	return out
}

// mapLabel maps one label to its lowercase A-label: an ASCII label is
// lowercased (its characters are checked by checkLabel), any other goes
// through IDNA. An empty label maps to "" (checkLabel reports it).
func mapLabel(l label) (string, *Problem) {
	if l.text == "" {
		return "", nil
	}
	if isASCII(l.text) {
		return strings.ToLower(l.text), nil
	}
	a, err := idna.Lookup.ToASCII(l.text)
	if err != nil || a == "" || strings.ContainsAny(a, ".:") {
		return "", &Problem{ID: "CS007", Start: l.start, End: max(l.end, l.start+1),
			Message: fmt.Sprintf("label %q is not a valid international name", l.text)}
	}
	return a, nil
}

// checkLabel checks one label, given as written and as mapped by mapLabel.
func checkLabel(l label, a string) *Problem {
	bad := func(msg string, args ...any) *Problem {
		return &Problem{ID: "CS007", Start: l.start, End: max(l.end, l.start+1), Message: fmt.Sprintf(msg, args...)}
	}
	if l.text == "" {
		return &Problem{ID: "CS007", Start: max(l.start-1, 0), End: l.start + 1, Message: "empty label in name"}
	}
	if isASCII(l.text) {
		for i := 0; i < len(a); i++ {
			c := a[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return &Problem{ID: "CS007", Start: l.start + i, End: l.start + i + 1,
					Message: fmt.Sprintf("character %q is not allowed in a name", c)}
			}
		}
		if strings.HasPrefix(a, "xn--") {
			if _, err := idna.Lookup.ToUnicode(a); err != nil {
				return bad("label %q is not a valid IDN A-label", l.text)
			}
		}
	}
	if len(a) > MaxLabelLength {
		return bad("label is %d octets long (at most %d)", len(a), MaxLabelLength)
	}
	if a[0] == '-' {
		return bad("label %q starts with '-'", l.text)
	}
	if a[len(a)-1] == '-' {
		return bad("label %q ends with '-'", l.text)
	}
	return nil
}

// IsASCII reports whether s is all ASCII.
func IsASCII(s string) bool { return isASCII(s) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// numericName reports a name that is numeric once mapped: all its labels
// are numbers (an attempt at an IPv4 address, valid or not, in whatever
// digits), the whole mapped name is an IP address, or its last label is
// all digits. labels are the labels as written, mapped as mapLabel maps
// them.
func numericName(s string, labels []label, mapped []string, trailingDot bool) (Problem, bool) {
	whole := Problem{ID: "CS004", Start: 0, End: len(s)}
	text := strings.Join(mapped, ".")
	allNumeric := true
	for i, l := range labels {
		if !isNumberPart(mapped[i]) && !allUnicodeDigits(l.text) {
			allNumeric = false
			break
		}
	}
	ascii := isASCII(s)
	switch {
	case allNumeric && !ascii:
		whole.Message = notASCIIAddress(s, text)
		return whole, true
	case allNumeric && trailingDot:
		whole.Message = fmt.Sprintf("%q is not a name: an IPv4 address has no trailing dot", s)
		whole.Fix = strings.TrimRight(s, ".")
		if _, err := netip.ParseAddr(whole.Fix); err == nil {
			return whole, true
		}
		whole.Fix = ""
		whole.Message, whole.Fix = describeBadIPv4(strings.TrimRight(s, "."))
		return whole, true
	case allNumeric:
		whole.Message, whole.Fix = describeBadIPv4(s)
		return whole, true
	}
	if a, err := netip.ParseAddr(text); err == nil {
		whole.Message = fmt.Sprintf("%q is the IP address %s, not a name", s, a)
		if !ascii {
			whole.Message = notASCIIAddress(s, text)
		}
		return whole, true
	}
	last := labels[len(labels)-1]
	if last.text != "" && (IsDigits(mapped[len(mapped)-1]) || allUnicodeDigits(last.text)) {
		msg := fmt.Sprintf("the last label of a name cannot be all digits (%q); this is neither a name nor an IPv4 address", last.text)
		if m := mapped[len(mapped)-1]; m != last.text && IsDigits(m) {
			msg = fmt.Sprintf("the last label of a name cannot be all digits (%q reads as %q); this is neither a name nor an IPv4 address", last.text, m)
		}
		return Problem{ID: "CS004", Start: last.start, End: last.end, Message: msg}, true
	}
	return Problem{}, false
}

// notASCIIAddress explains that s, written with characters other than
// ASCII, reads as an address (mapped is its mapped form). It offers no
// fix: which address was meant is for the author to say, and a fix that
// turned a lookalike into an address would widen a policy.
func notASCIIAddress(s, mapped string) string {
	if a, err := netip.ParseAddr(mapped); err == nil {
		return fmt.Sprintf("%q is written with characters that map to the IP address %s: it is neither a name nor an address (write an address in ASCII digits)", s, a)
	}
	if a, ok := ParseLegacyIPv4(mapped); ok && isASCII(mapped) {
		return fmt.Sprintf("%q is written with characters that map to %q, a legacy form of the IPv4 address %s: it is neither a name nor an address (write an address in ASCII digits)", s, mapped, a)
	}
	return fmt.Sprintf("%q is made of numbers in characters other than ASCII digits: it is neither a name nor an IPv4 address", s)
}

// allUnicodeDigits reports whether s is a non-empty run of decimal digits
// of any script (Unicode category Nd: "１２３", "١٢٣", "१२३").
func allUnicodeDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
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
	if len(s) == 0 || s[0] < '0' || s[0] > '9' {
		return false // every number starts with a digit ("0x1f" too)
	}
	start := 0
	for i, r := range s {
		if isDot(r) {
			if !isNumberPart(s[start:i]) {
				return false
			}
			start = i + utf8.RuneLen(r)
		}
	}
	// A final dot ends the last label (splitLabels drops the empty label
	// after it), so "1.2.3.4." is numeric; a lone "." or "" is not.
	if start == len(s) && start > 0 {
		return true
	}
	return isNumberPart(s[start:])
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

// MaxInterfaceLength is the longest interface name in characters (Linux:
// IFNAMSIZ is 16 bytes with the terminating NUL; the allowed characters
// are ASCII, so characters and bytes are the same).
const MaxInterfaceLength = 15

// Interface checks an interface name: 1 to 15 characters of
// [A-Za-z0-9_.:-], starting with a letter.
func Interface(s string) *Problem {
	if plainInterface(s) {
		return nil
	}
	return interfaceProblem(s)
}

// interfaceProblem is Interface without the fast path.
func interfaceProblem(s string) *Problem {
	if s == "" {
		return &Problem{ID: "CS007", Message: "empty interface name"}
	}
	if p, bad := invalidUTF8(s); bad {
		prob := p // (a copy: p itself must not escape, or every call allocates it)
		prob.Message = fmt.Sprintf("invalid UTF-8 byte 0x%02X in an interface name", s[p.Start])
		return &prob
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return &Problem{ID: "CS007", Start: i, End: i + utf8.RuneLen(c), Message: fmt.Sprintf("character %q is not allowed in an interface name", c)}
		}
	}
	// Only ASCII is left: len counts characters.
	if len(s) > MaxInterfaceLength {
		return &Problem{ID: "CS007", Start: 0, End: len(s),
			Message: fmt.Sprintf("interface name %q is %d characters long (at most %d)", s, len(s), MaxInterfaceLength)}
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return &Problem{ID: "CS007", Start: 0, End: 1, Message: fmt.Sprintf("interface name %q must start with a letter", s)}
	}
	return nil
}

// plainInterface reports, a byte at a time, whether s is a valid
// interface name, as Interface decides (tested): the fast path of the
// listens and binds on an interface.
func plainInterface(s string) bool {
	if len(s) == 0 || len(s) > MaxInterfaceLength || ifaceByte[s[0]] != ifaceLetter {
		return false
	}
	for i := 1; i < len(s); i++ {
		if ifaceByte[s[i]] == 0 {
			return false
		}
	}
	return true
}

// Classes of the bytes of interface names: ASCII only.
const (
	ifaceOther  uint8 = iota
	ifaceLetter       // a-z, A-Z: may begin a name
	ifaceRest         // 0-9 _ . : -
)

var ifaceByte = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = ifaceLetter, ifaceLetter
	}
	for _, c := range "0123456789_.:-" {
		t[c] = ifaceRest
	}
	return t
}()

// Unmap returns the IPv4 address of an IPv4-mapped IPv6 address, and any
// other address unchanged, without a zone.
func Unmap(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }
