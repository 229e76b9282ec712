package lsp

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// naivePosition is the test oracle: lines split as LSP splits them,
// characters counted by converting the line's prefix.
func naivePosition(s string, off int, enc string) Position {
	line, start := 0, 0
	for i := 0; i < off; i++ {
		if s[i] == '\n' || (s[i] == '\r' && (i+1 >= len(s) || s[i+1] != '\n')) {
			line++
			start = i + 1
		}
	}
	prefix := s[start:off]
	if enc == encodingUTF8 {
		return Position{Line: uint32(line), Character: uint32(len(prefix))}
	}
	return Position{Line: uint32(line), Character: uint32(len(utf16.Encode([]rune(prefix))))}
}

func TestPositions(t *testing.T) {
	long := strings.Repeat("ｆ😀a", 700) // longer than a checkpoint span, non-ASCII
	texts := []string{
		"",
		"--allow-outbound=tcp://example.com:80\n",
		"a\r\nｆｕｌｌ\rwidth😀\n\n--allow-resolve=ｅｘａｍｐｌｅ.com",
		"bad \xff\xfe utf-8 \xe2\x82 cut\nnext",
		"nul\x00byte\n",
		long + "\n" + long,
	}
	for _, s := range texts {
		for _, enc := range []string{encodingUTF8, encodingUTF16} {
			tx := newText(s)
			for off := 0; off <= len(s); off++ {
				if off < len(s) && tx.runeStart(off) != off {
					continue
				}
				if off > 0 && off < len(s) && s[off] == '\n' && s[off-1] == '\r' {
					continue // inside a CRLF line end
				}
				want := naivePosition(s, off, enc)
				got := tx.position(off, enc)
				if got != want {
					t.Fatalf("%q %s: position(%d) = %+v, want %+v", s, enc, off, got, want)
				}
				if back := tx.offset(got, enc); back != off {
					t.Fatalf("%q %s: offset(%+v) = %d, want %d", s, enc, got, back, off)
				}
			}
		}
	}
}

func TestOffsetClamps(t *testing.T) {
	tx := newText("ab😀c\nxyz")
	tests := []struct {
		p    Position
		enc  string
		want int
	}{
		{Position{0, 99}, encodingUTF16, 7}, // past the line end: the line end
		{Position{9, 0}, encodingUTF16, 11}, // past the last line: the end
		{Position{0, 3}, encodingUTF16, 2},  // inside the surrogate pair: the rune's start
		{Position{0, 4}, encodingUTF16, 6},  // after the emoji
		{Position{0, 4}, encodingUTF8, 2},   // inside the emoji's bytes: its start
		{Position{0, 6}, encodingUTF8, 6},   // after it
		{Position{1, 1}, encodingUTF8, 9},   // second line
	}
	for _, tt := range tests {
		if got := tx.offset(tt.p, tt.enc); got != tt.want {
			t.Errorf("offset(%+v, %s) = %d, want %d", tt.p, tt.enc, got, tt.want)
		}
	}
}

func TestApplyChange(t *testing.T) {
	tx := newText("--allow-outbound=tcp://ｅｘ😀.com:80\n")
	// Replace the emoji (UTF-16 characters 25-27) with "a".
	start := utf8.RuneCountInString("--allow-outbound=tcp://ｅｘ")
	r := &Range{Start: Position{0, uint32(start)}, End: Position{0, uint32(start + 2)}}
	got, err := tx.applyChange(TextDocumentContentChangeEvent{Range: r, Text: "a"}, encodingUTF16)
	if err != nil || got != "--allow-outbound=tcp://ｅｘa.com:80\n" {
		t.Fatalf("applyChange = %q, %v", got, err)
	}
	if _, err := tx.applyChange(TextDocumentContentChangeEvent{Range: &Range{Start: Position{0, 5}, End: Position{0, 1}}}, encodingUTF16); err == nil {
		t.Error("a reversed range was applied")
	}
}
