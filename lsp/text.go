package lsp

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// text is the content of a document with what it takes to turn byte
// offsets into LSP positions and back. Lines end at "\n", "\r\n" or "\r",
// as LSP counts them; characters count UTF-8 bytes or UTF-16 code units,
// as negotiated. Every conversion costs O(log n) plus a walk of at most
// checkpointEvery bytes, whatever the length of a line.
type text struct {
	s     string
	lines []int // byte offset of the start of each line
	ascii bool  // every byte is ASCII: every encoding counts bytes

	// For UTF-16 on non-ASCII text: cum16[i] is the number of UTF-16 code
	// units in s[:marks[i]], marks every checkpointEvery bytes (on rune
	// starts). Computed on first use.
	marks []int
	cum16 []int
}

const checkpointEvery = 512

func newText(s string) *text {
	t := &text{s: s, lines: []int{0}, ascii: true}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n':
			t.lines = append(t.lines, i+1)
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			t.lines = append(t.lines, i+1)
		case c >= utf8.RuneSelf:
			t.ascii = false
		}
	}
	return t
}

// lineOf returns the line holding byte offset off (clamped).
func (t *text) lineOf(off int) int {
	return sort.Search(len(t.lines), func(i int) bool { return t.lines[i] > off }) - 1
}

// lineEnd returns the offset of the end of line n, before its line end.
func (t *text) lineEnd(n int) int {
	if n+1 >= len(t.lines) {
		return len(t.s)
	}
	end := t.lines[n+1] - 1
	if t.s[end] == '\n' && end > t.lines[n] && t.s[end-1] == '\r' {
		end--
	}
	return end
}

// runeStart moves off back to the start of the rune holding it. A byte of
// an invalid sequence is a rune of its own (as utf8.DecodeRune reads it).
func (t *text) runeStart(off int) int {
	if off <= 0 || off >= len(t.s) || utf8.RuneStart(t.s[off]) {
		return off
	}
	for back := 1; back <= 3 && off-back >= 0; back++ {
		if utf8.RuneStart(t.s[off-back]) {
			if _, size := utf8.DecodeRuneInString(t.s[off-back:]); size > back {
				return off - back
			}
			return off
		}
	}
	return off
}

// units16 returns the number of UTF-16 code units of s[from:to]; invalid
// bytes count one unit each (as U+FFFD).
func units16(s string, from, to int) int {
	n := 0
	for i := from; i < to; {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:to])
		i += size
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// checkpoints computes the UTF-16 marks of a non-ASCII text.
func (t *text) checkpoints() {
	if t.marks != nil {
		return
	}
	t.marks = []int{0}
	t.cum16 = []int{0}
	cum := 0
	last := 0
	for i := 0; i < len(t.s); {
		_, size := utf8.DecodeRuneInString(t.s[i:])
		if i-last >= checkpointEvery {
			cum += units16(t.s, last, i)
			t.marks = append(t.marks, i)
			t.cum16 = append(t.cum16, cum)
			last = i
		}
		i += size
	}
}

// cumUnits16 returns the number of UTF-16 code units of s[:off], off on a
// rune start.
func (t *text) cumUnits16(off int) int {
	t.checkpoints()
	k := sort.SearchInts(t.marks, off+1) - 1
	return t.cum16[k] + units16(t.s, t.marks[k], off)
}

// position returns the LSP position of byte offset off.
func (t *text) position(off int, enc string) Position {
	off = max(0, min(off, len(t.s)))
	line := t.lineOf(off)
	start := t.lines[line]
	off = max(start, min(off, t.lineEnd(line)))
	var ch int
	switch {
	case t.ascii || enc == encodingUTF8:
		ch = off - start
	default:
		off = t.runeStart(off)
		ch = t.cumUnits16(off) - t.cumUnits16(start)
	}
	return Position{Line: uint32(line), Character: uint32(ch)}
}

// offset returns the byte offset of an LSP position. A line past the end
// is the end of the text; a character past the end of its line is the end
// of the line (LSP 3.17); a character inside a rune (a UTF-8 byte or the
// second half of a surrogate pair) is the start of that rune.
func (t *text) offset(p Position, enc string) int {
	if int64(p.Line) >= int64(len(t.lines)) {
		return len(t.s)
	}
	line := int(p.Line)
	start, end := t.lines[line], t.lineEnd(line)
	ch := int(min(p.Character, uint32(end-start)))
	if t.ascii {
		return start + ch
	}
	if enc == encodingUTF8 {
		return t.runeStart(start + ch)
	}
	target := t.cumUnits16(start) + int(p.Character)
	if target >= t.cumUnits16(end) {
		return end
	}
	// The last mark at or before the target, but not before the line.
	k := sort.Search(len(t.cum16), func(i int) bool { return t.cum16[i] > target }) - 1
	off, cum := t.marks[k], t.cum16[k]
	if off < start {
		off, cum = start, t.cumUnits16(start)
	}
	for off < end {
		r, size := utf8.DecodeRuneInString(t.s[off:end])
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if cum+w > target {
			break
		}
		cum += w
		off += size
	}
	return off
}

// rangeOf returns the LSP range of bytes [start, end).
func (t *text) rangeOf(start, end int, enc string) Range {
	return Range{Start: t.position(start, enc), End: t.position(max(start, end), enc)}
}

// applyChange returns the text with one content change applied.
func (t *text) applyChange(c TextDocumentContentChangeEvent, enc string) (string, error) {
	if c.Range == nil {
		return c.Text, nil
	}
	start, end := t.offset(c.Range.Start, enc), t.offset(c.Range.End, enc)
	if end < start {
		return "", fmt.Errorf("change range ends before it starts (%d:%d-%d:%d)",
			c.Range.Start.Line, c.Range.Start.Character, c.Range.End.Line, c.Range.End.Character)
	}
	return t.s[:start] + c.Text + t.s[end:], nil
}
