package literal

import "math/bits"

// isCanonicalName reports, without allocating, whether s is already a
// canonical name: lowercase LDH labels of 1 to 63 octets, no trailing dot,
// at most 253 octets, a last label not all digits, not all labels numbers
// (0x1f.0x2), no A-label (those are checked by Name). It only ever accepts
// names Name returns unchanged (tested). It is on the path of every
// decision about a name, so it reads eight bytes at a time.
func isCanonicalName(s string) bool {
	if plainName(s) {
		return true
	}
	if len(s) == 0 || len(s) > MaxNameLength {
		return false
	}
	start, i := 0, 0
	// Eight bytes at a time (SWAR): each must be LDH or a dot; the dots
	// end labels.
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8] // (one bounds check; the reads become one load)
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if w&swarHigh != 0 || byteIn(w, 'a', 'z')|byteIn(w, '0', '9')|byteIn(w, '-', '.') != swarHigh {
			return false
		}
		for dots := byteIn(w, '.', '.'); dots != 0; dots &= dots - 1 {
			j := i + bits.TrailingZeros64(dots)/8
			if !canonicalLabel(s[start:j]) {
				return false
			}
			start = j + 1
		}
	}
	return canonicalTail(s, start, i)
}

// plainName reports whether s is a name of the commonest shape, which is
// canonical: 8 to 63 octets (so no label is too long) of lowercase
// letters, digits, hyphens and dots, beginning and ending with a letter
// (so no label is empty or begins or ends with a hyphen at either end, the
// last label is not all digits and the name is no number: those begin
// with a digit), with no two of '.' and '-' next to each other (no empty
// label, no label beginning or ending with a hyphen, no "--" anywhere, so
// no A-label). False says nothing: isCanonicalName then checks the name
// label by label. It reads the name as words of eight bytes (the last
// one ending at the name's end, overlapping the one before it), catching
// two separators side by side across words too, and gathers what is
// wrong of every word before it decides, without a branch per word.
func plainName(s string) bool {
	n := len(s)
	if n < 8 || n > MaxLabelLength || s[0]-'a' > 'z'-'a' || s[n-1]-'a' > 'z'-'a' {
		return false
	}
	// bad gathers bytes at or above 0x80, bytes of no class, and two
	// separators side by side; prev is whether the last byte of the word
	// before was a separator, as the high bit of the first byte.
	var bad, prev uint64
	i := 0
	for ; i+8 <= n; i += 8 {
		b := s[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		sep := byteIn(w, '-', '.')
		bad |= w&swarHigh | ((byteIn(w, 'a', 'z') | byteIn(w, '0', '9') | sep) ^ swarHigh) | sep&(sep>>8|prev)
		prev = sep >> 56
	}
	if i < n {
		// The last word overlaps the one before it, so its neighbours
		// across the boundary are both in it.
		b := s[n-8 : n]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		sep := byteIn(w, '-', '.')
		bad |= w&swarHigh | ((byteIn(w, 'a', 'z') | byteIn(w, '0', '9') | sep) ^ swarHigh) | sep&(sep>>8)
	}
	return bad == 0
}

// canonicalTail is the rest of isCanonicalName: the bytes of s from i on,
// one at a time (the label at hand starts at start), then the last label
// and the whole name.
func canonicalTail(s string, start, i int) bool {
	for ; i < len(s); i++ {
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

// Bytes of words, for byteIn.
const (
	swarLow  = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// byteIn returns a word with the high bit of each byte of w (all below
// 0x80) set where that byte is in [lo, hi]: adding 0x80-lo sets the high
// bit of a byte that is at least lo, adding 0x7f-hi that of one above hi,
// and neither sum carries into the next byte.
func byteIn(w uint64, lo, hi byte) uint64 {
	return (w + (0x80-uint64(lo))*swarLow) &^ (w + (0x7f-uint64(hi))*swarLow) & swarHigh
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
