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
