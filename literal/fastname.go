package literal

// isCanonicalName reports, without allocating, whether s is already a
// canonical name: lowercase LDH labels of 1 to 63 octets, no trailing dot,
// at most 253 octets, a last label not all digits, not all labels numbers
// (0x1f.0x2), no A-label (those are checked by Name). It only ever accepts names Name returns
// unchanged (tested). It is on the path of every decision about a name,
// so its loop does one table lookup and one comparison per byte.
func isCanonicalName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLength {
		return false
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if c := nameClass[s[i]]; c != classLDH {
			if c != classDot || !canonicalLabel(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	// Labels like "0x1f" are letters and digits, but a name made of
	// numbers only is a legacy IPv4 form (Name says which).
	last := s[start:]
	return canonicalLabel(last) && !IsDigits(last) && !LooksLikeIPv4(s)
}

// canonicalLabel checks a label of lowercase letters, digits and hyphens.
func canonicalLabel(l string) bool {
	return len(l) > 0 && len(l) <= MaxLabelLength && l[0] != '-' && l[len(l)-1] != '-' &&
		!(len(l) >= 4 && l[2] == '-' && l[3] == '-')
}

// Byte classes of canonical names.
const (
	classOther uint8 = iota
	classLDH         // a-z, 0-9 and '-'
	classDot
)

var nameClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = classLDH
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLDH
	}
	t['-'] = classLDH
	t['.'] = classDot
	return t
}()
