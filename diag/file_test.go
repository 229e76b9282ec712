package diag

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// naivePos is the definition of a position: the line holding offset, and
// the runes from that line's start to offset, plus one.
func naivePos(content string, offset int) Pos {
	offset = max(0, min(offset, len(content)))
	start := strings.LastIndexByte(content[:offset], '\n') + 1
	return Pos{Offset: offset, Line: strings.Count(content[:offset], "\n") + 1, Column: utf8.RuneCountInString(content[start:offset]) + 1}
}

// TestFilePosLongLines checks positions on long lines of ASCII, multi-byte
// runes, invalid UTF-8 and newlines against their definition, at every
// offset, including offsets inside a multi-byte rune.
func TestFilePosLongLines(t *testing.T) {
	pieces := []string{"a", "--allow-outbound=tcp://x:1 ", "ü", "１", "𝟙", "\n", "\xff", "\xe2\x82", "\r\n", "\x80", "\t"}
	for seed := range 24 {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		pieces := pieces
		if seed%6 == 5 {
			pieces = []string{"a", "--allow-outbound=tcp://x:1 ", "\n", "\t"} // ASCII only
		}
		var b strings.Builder
		for b.Len() < 5000+seed*400 {
			p := pieces[r.IntN(len(pieces))]
			if p == "\n" && r.IntN(20) > 0 {
				continue // long lines
			}
			b.WriteString(p)
		}
		content := b.String()
		f := NewFile("f", content)
		for off := -1; off <= len(content)+1; off++ {
			if got, want := f.Pos(off), naivePos(content, off); got != want {
				t.Fatalf("seed %d: Pos(%d) = %+v, want %+v", seed, off, got, want)
			}
		}
	}
}
