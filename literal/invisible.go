package literal

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Invisible reports whether r is a character that displays as nothing or
// changes the display of its neighbours: control characters, format
// characters (bidi controls, zero-width spaces and joiners, the byte order
// mark, the soft hyphen), variation selectors, and blank fillers.
func Invisible(r rune) bool {
	switch {
	case r == unicode.ReplacementChar, r == '\t', r == '\n', r == '\r', r == '\v', r == '\f':
		return false
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r):
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	case r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x2800: // Hangul fillers, braille blank
		return true
	case r == 0x034F, r == 0x180E, r == 0x17B4, r == 0x17B5: // combining grapheme joiner, Mongolian vowel separator, Khmer inherent vowels
		return true
	}
	return false
}

// InvisibleName names an invisible character for a message, e.g.
// "U+202E (RIGHT-TO-LEFT OVERRIDE)" where the name is known.
func InvisibleName(r rune) string {
	if n, ok := invisibleNames[r]; ok {
		return fmt.Sprintf("U+%04X (%s)", r, n)
	}
	return fmt.Sprintf("U+%04X", r)
}

var invisibleNames = map[rune]string{
	0x00AD: "SOFT HYPHEN",
	0x061C: "ARABIC LETTER MARK",
	0x200B: "ZERO WIDTH SPACE",
	0x200C: "ZERO WIDTH NON-JOINER",
	0x200D: "ZERO WIDTH JOINER",
	0x200E: "LEFT-TO-RIGHT MARK",
	0x200F: "RIGHT-TO-LEFT MARK",
	0x202A: "LEFT-TO-RIGHT EMBEDDING",
	0x202B: "RIGHT-TO-LEFT EMBEDDING",
	0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE",
	0x202E: "RIGHT-TO-LEFT OVERRIDE",
	0x2060: "WORD JOINER",
	0x2066: "LEFT-TO-RIGHT ISOLATE",
	0x2067: "RIGHT-TO-LEFT ISOLATE",
	0x2068: "FIRST STRONG ISOLATE",
	0x2069: "POP DIRECTIONAL ISOLATE",
	0xFEFF: "ZERO WIDTH NO-BREAK SPACE",
	0x0000: "NULL",
	0x007F: "DELETE",
	0x3164: "HANGUL FILLER",
}

// InvisibleProblem is the problem (CS012) of the invisible character r at
// byte i, covering its bytes.
func InvisibleProblem(i int, r rune) Problem {
	return Problem{ID: "CS012", Start: i, End: i + utf8.RuneLen(r),
		Message: fmt.Sprintf("invisible character %s: what you see is not what is checked", InvisibleName(r))}
}

// CheckInvisible returns a problem (CS012) for each of the first limit
// invisible characters of s (see Invisible), at its bytes: a bounded
// report of a megabyte of them. Rules and requests both refuse such
// characters rather than drop them: a name that reads "example.com" must
// be example.com. Name calls it; the grammar checks a whole flag with
// Invisible and InvisibleProblem, in one pass with its UTF-8 check. The
// tab, line feed and other blanks are not invisible (a flag cannot hold
// them anyway).
func CheckInvisible(s string, limit int) []Problem {
	var out []Problem
	for i, r := range s {
		if len(out) == limit {
			break
		}
		if r < utf8.RuneSelf && r >= ' ' && r != 0x7f {
			continue
		}
		if Invisible(r) {
			out = append(out, InvisibleProblem(i, r))
		}
	}
	return out
}
