package diag

import (
	"strconv"
	"strings"
)

// Ref is a position in an origin that a diagnostic's text names, in the
// form Range.String writes it: "policy.flags:3:1" ("the others are at
// policy.flags:2:1, policy.flags:5:1").
type Ref struct {
	// Line and Column count from 1, Column in runes, as in Pos.
	Line, Column int
	// Start and End are the byte range of the reference in the text.
	Start, End int
}

// FindRefs returns the positions in origin that text names as
// "origin:line:col", in order. It is the inverse of Range.String for the
// ranges of one origin.
func FindRefs(text, origin string) []Ref {
	if origin == "" {
		return nil
	}
	var refs []Ref
	prefix := origin + ":"
	for from := 0; from < len(text); {
		i := strings.Index(text[from:], prefix)
		if i < 0 {
			break
		}
		start := from + i
		line, n1 := leadingNumber(text[start+len(prefix):])
		from = start + len(prefix) + n1
		if n1 == 0 || from >= len(text) || text[from] != ':' {
			continue
		}
		col, n2 := leadingNumber(text[from+1:])
		if n2 == 0 {
			continue
		}
		from += 1 + n2
		refs = append(refs, Ref{Line: line, Column: col, Start: start, End: from})
	}
	return refs
}

// leadingNumber reads the decimal number s starts with (at most 9 digits)
// and returns it and how many bytes it takes; 0 bytes for none.
func leadingNumber(s string) (int, int) {
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return 0, 0
	}
	v, _ := strconv.Atoi(s[:n])
	return v, n
}
