package diag

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// naivePos is the definition of a position: the line holding offset, and
// the runes from that line's start (after a byte order mark that starts
// the content) to offset, plus one.
func naivePos(content string, offset int) Pos {
	offset = max(0, min(offset, len(content)))
	start := strings.LastIndexByte(content[:offset], '\n') + 1
	if start == 0 && strings.HasPrefix(content, BOM) && offset >= len(BOM) {
		start = len(BOM)
	}
	return Pos{Offset: offset, Line: strings.Count(content[:offset], "\n") + 1, Column: utf8.RuneCountInString(content[start:offset]) + 1}
}

// TestFilePosLongLines checks positions on long lines of ASCII, multi-byte
// runes, invalid UTF-8 and newlines against their definition, at every
// offset, including offsets inside a multi-byte rune, with and without a
// byte order mark.
func TestFilePosLongLines(t *testing.T) {
	pieces := []string{"a", "--allow-outbound=tcp://x:1 ", "ü", "１", "𝟙", "\n", "\xff", "\xe2\x82", "\r\n", "\x80", "\t"}
	for seed := range 24 {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		pieces := pieces
		if seed%6 == 5 {
			pieces = []string{"a", "--allow-outbound=tcp://x:1 ", "\n", "\t"} // ASCII only
		}
		var b strings.Builder
		if seed%4 == 3 {
			b.WriteString(BOM)
		}
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

// TestSnippetWindow renders diagnostics on long lines of many kinds of
// text and checks that each snippet is bounded, marks what it leaves out,
// and puts its carets under the range's text.
func TestSnippetWindow(t *testing.T) {
	pieces := []string{"a", "--allow-outbound=tcp://x:1 ", "ü", "１", "\t", "\xff", "\x00", "#ipv4-only"}
	for seed := range 200 {
		r := rand.New(rand.NewPCG(uint64(seed), 9))
		var b strings.Builder
		n := r.IntN(4000)
		if seed%10 == 0 {
			n = 100 // short lines are shown whole
		}
		for b.Len() < n {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		line := b.String()
		f := NewFile("p.flags", "# first\n"+line+"\nlast\n")
		s := 8 + r.IntN(len(line)+1)
		e := s + r.IntN(min(len(line)+8-s, 300)+1)
		if r.IntN(5) == 0 {
			e = s + len(line) + 3 // runs onto the next line
		}
		rg := f.Range(s, e)
		var out strings.Builder
		if err := WriteText(&out, []Diagnostic{{ID: "CS001", Summary: "x", Range: rg}}, FileSet{"p.flags": f}, nil); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out.String(), "\n")
		if len(lines) != 4 {
			t.Fatalf("seed %d: %d lines: %q", seed, len(lines), out.String())
		}
		if want := rg.String() + ": error[CS001]: x"; lines[0] != want {
			t.Errorf("seed %d: header %q, want %q", seed, lines[0], want)
		}
		text := []rune(strings.TrimPrefix(lines[1], "  2 | "))
		carets := []rune(strings.TrimPrefix(lines[2], "    | "))
		if len(text) > 2*snippetContext+snippetRange+2 && len(line) > snippetWhole {
			t.Errorf("seed %d: window of %d runes", seed, len(text))
		}
		if len(line) <= snippetWhole && string(text) != printable(line) {
			t.Errorf("seed %d: short line not shown whole: %q", seed, string(text))
		}
		at := strings.IndexRune(string(carets), '^')
		at = utf8.RuneCountInString(string(carets)[:at])
		width := strings.Count(string(carets), "^")
		// The runes under the carets are the start of the range's text.
		lineText := []rune(printable(line))
		startRune := rg.Start.Column - 1
		if j := runeAround(line, s-8); j < s-8 {
			startRune = utf8.RuneCountInString(line[:j]) // a range from inside a rune
		}
		want := lineText[startRune:min(len(lineText), startRune+width)]
		if s-8 == len(line) {
			want = nil // a range at the end of the line: one caret after it
		}
		if got := text[at:min(len(text), at+len(want))]; string(got) != string(want) {
			t.Errorf("seed %d: carets under %q, want %q\n%s", seed, string(got), string(want), out.String())
		}
		for i, c := range carets[:at] {
			if c != ' ' && c != '\t' || c == '\t' && text[i] != '\t' {
				t.Errorf("seed %d: lead %q does not follow the text's tabs", seed, string(carets[:at]))
				break
			}
		}
		if ws := strings.HasPrefix(string(text), "…"); ws != (startRune > snippetContext && len(line) > snippetWhole) {
			t.Errorf("seed %d: left mark %v for a range at rune %d", seed, ws, startRune)
		}
	}
}

// TestWindowIsMappedOfOneSegment requires a Window to locate every range,
// inside, across and outside its bounds, as the Mapped of one segment.
func TestWindowIsMappedOfOneSegment(t *testing.T) {
	f := NewFile("f", "ab\ncdéf\n--allow-resolve=x\n")
	for _, w := range []Window{{f, 0, len(f.Content)}, {f, 3, 5}, {f, 10, 0}, {f, 9, 17}} {
		m := Mapped{{Text: 0, File: w.File, Origin: w.Base, Len: w.Len}}
		for start := -2; start < 22; start++ {
			for end := -2; end < 22; end++ {
				if got, want := w.Range(start, end), m.Range(start, end); got != want {
					t.Fatalf("Window%v.Range(%d, %d) = %v, Mapped gives %v", w, start, end, got, want)
				}
			}
		}
	}
}
