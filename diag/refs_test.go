package diag

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFindRefs(t *testing.T) {
	tests := []struct {
		text, origin string
		want         []Ref
	}{
		{"the others are at p.flags:2:1, p.flags:15:30", "p.flags",
			[]Ref{{Line: 2, Column: 1, Start: 18, End: 29}, {Line: 15, Column: 30, Start: 31, End: 44}}},
		{"duplicate of the rule at p.flags:3:7", "p.flags", []Ref{{Line: 3, Column: 7, Start: 25, End: 36}}},
		{"not here: p.flags:3, q.flags:1:1, p.flags:x:1, p.flags:1:", "p.flags", nil},
		{"anything", "", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, FindRefs(tt.text, tt.origin)); diff != "" {
			t.Errorf("FindRefs(%q) (-want +got):\n%s", tt.text, diff)
		}
	}
}

// TestOffsetInvertsPos checks File.Offset against File.Pos on every byte
// offset that starts a rune, with non-ASCII text and CRLF line ends.
func TestOffsetInvertsPos(t *testing.T) {
	f := NewFile("x", "ab\r\nｆｕｌｌ😀x\n\nend")
	for off := 0; off <= len(f.Content); off++ {
		if off < len(f.Content) && f.Content[off]&0xC0 == 0x80 {
			continue
		}
		p := f.Pos(off)
		if got := f.Offset(p.Line, p.Column); got != off {
			t.Errorf("Offset(%d, %d) = %d, want %d", p.Line, p.Column, got, off)
		}
	}
	if got := f.Offset(2, 99); got != len("ab\r\nｆｕｌｌ😀x") {
		t.Errorf("Offset past the line end = %d", got)
	}
	if got := f.Offset(99, 1); got != len(f.Content) {
		t.Errorf("Offset past the end = %d", got)
	}
}
