package eval

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/capspec/capspec/literal"
)

// NormalizeName returns a DNS name of a request as rules spell it:
// lowercase A-labels without a trailing dot. It is literal.Name, the one
// name normalization of rules and requests, with two additions: a name
// already in that form is returned without allocating, and a name with an
// invisible character (zero-width space, soft hyphen, word joiner, byte
// order mark, bidi controls, ...) is an error rather than silently dropped
// by IDNA mapping. Errors are *literal.Problem, positioned in s.
func NormalizeName(s string) (string, error) {
	if canonicalName(s) {
		return s, nil
	}
	if p := invisibleIn(s); p != nil {
		return "", p
	}
	n, probs := literal.Name(s)
	if len(probs) > 0 {
		return "", &probs[0]
	}
	// The canonical form must be its own canonical form; otherwise the
	// name had characters IDNA maps to something that is no name
	// (fullwidth digits spelling an address, say).
	if again, probs := literal.Name(n); len(probs) > 0 || again != n {
		return "", &literal.Problem{ID: "CS007", Start: 0, End: len(s),
			Message: "name " + strconv.Quote(s) + " has no valid A-label form (it maps to " + strconv.Quote(n) + ")"}
	}
	return n, nil
}

// invisibleIn reports the first invisible character of s (CS012), as rules
// report them.
func invisibleIn(s string) *literal.Problem {
	for i, r := range s {
		if r >= ' ' && r < utf8.RuneSelf && r != 0x7f {
			continue
		}
		if literal.Invisible(r) {
			return &literal.Problem{ID: "CS012", Start: i, End: i + utf8.RuneLen(r),
				Message: fmt.Sprintf("invisible character %s in a name: what you see is not what is decided", literal.InvisibleName(r))}
		}
	}
	return nil
}

// canonicalName reports, without allocating, whether s is already a
// canonical name: lowercase LDH labels of 1 to 63 octets, no trailing dot,
// at most 253 octets, a last label not all digits, not all labels numbers
// (0x1f.0x2), no A-label (those are checked by literal.Name). It only ever accepts names literal.Name returns
// unchanged (tested).
func canonicalName(s string) bool {
	if len(s) == 0 || len(s) > literal.MaxNameLength {
		return false
	}
	start := 0
	digits := true
	for i := 0; i < len(s); i++ {
		switch nameClass[s[i]] {
		case classDigit:
		case classLetter:
			digits = false
		case classDot:
			if !canonicalLabel(s[start:i]) {
				return false
			}
			start, digits = i+1, true
		default:
			return false
		}
	}
	// Labels like "0x1f" are letters and digits, but a name made of
	// numbers only is a legacy IPv4 form (literal.Name says which).
	return !digits && canonicalLabel(s[start:]) && !numeric(s)
}

// canonicalLabel checks a label of lowercase letters, digits and hyphens.
func canonicalLabel(l string) bool {
	return len(l) > 0 && len(l) <= literal.MaxLabelLength && l[0] != '-' && l[len(l)-1] != '-' &&
		!(len(l) >= 4 && l[2] == '-' && l[3] == '-')
}

// Byte classes of canonical names.
const (
	classOther uint8 = iota
	classDigit
	classLetter // a-z and '-'
	classDot
)

var nameClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLetter
	}
	t['-'] = classLetter
	t['.'] = classDot
	return t
}()

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
