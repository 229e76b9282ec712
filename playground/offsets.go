package playground

import "unicode/utf8"

// utf16Index turns byte offsets of a UTF-8 text into offsets in UTF-16
// code units, the unit of JavaScript string indices (and so of a textarea's
// selectionStart). A rune above U+FFFF is two units; every other rune one.
type utf16Index struct {
	text  string
	units []int // units[i] is the UTF-16 offset of byte i; built on first use
}

func newUTF16Index(text string) *utf16Index { return &utf16Index{text: text} }

// at returns the UTF-16 offset of byte offset b, clamped to the text. An
// offset inside a rune counts as the start of that rune.
func (x *utf16Index) at(b int) int {
	if x.units == nil {
		x.units = make([]int, len(x.text)+1)
		u := 0
		for i := 0; i < len(x.text); {
			r, size := utf8.DecodeRuneInString(x.text[i:])
			for k := 0; k < size; k++ {
				x.units[i+k] = u
			}
			i += size
			u += utf16Len(r)
		}
		x.units[len(x.text)] = u
	}
	return x.units[max(0, min(b, len(x.text)))]
}

// utf16Len returns how many UTF-16 code units a rune takes.
func utf16Len(r rune) int {
	if r >= 0x10000 && r <= utf8.MaxRune {
		return 2
	}
	return 1
}
