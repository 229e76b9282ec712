package grammar

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
)

// TestBoundedReports checks that a flag's report is bounded however many
// problems it has: the first diag.MaxPerFlag, then one omission counting
// the rest; and that a flag of too many tokens is one error.
func TestBoundedReports(t *testing.T) {
	const n = 100_000
	for _, tc := range []struct {
		name, text string
		ids        string // IDs of the diagnostics, in order
		omitted    int
	}{
		{"nul", "--allow-outbound=tcp://a:80" + strings.Repeat("\x00", n), strings.Repeat("CS012 ", 10) + "CS012", n - 10},
		{"bad utf-8", "--allow-outbound=tcp://a" + strings.Repeat("\xff", n), strings.Repeat("CS001 ", 10) + "CS001", n - 10},
		{"mixed", "--allow-resolve=a" + strings.Repeat("\xff\u200b", n), strings.Repeat("CS001 CS012 ", 5) + "CS001", 2*n - 10},
		{"families", "--allow-outbound=tcp://a:80" + strings.Repeat("#ipv4-only", 300), strings.Repeat("CS010 ", 10) + "CS010", 289},
		{"too many tokens", "--allow-outbound=tcp://a:80" + strings.Repeat("#ipv4-only", maxFlagTokens), "CS001", 0},
		{"few families", "--allow-outbound=tcp://a:80" + strings.Repeat("#ipv4-only", 12), strings.Repeat("CS010 ", 10) + "CS010", 1},
		{"nested brackets", "--allow-outbound=tcp://" + strings.Repeat("[", n) + strings.Repeat("]", n), "CS001", 0},
		{"arrows", "--allow-outbound=tcp://a" + strings.Repeat("->", n), "CS001", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ds := ParseFlag(tc.text, nil)
			if r != nil {
				t.Fatal("parsed")
			}
			var ids []string
			for _, d := range ds {
				ids = append(ids, d.ID)
			}
			if got := strings.Join(ids, " "); got != tc.ids {
				t.Errorf("IDs %s, want %s", got, tc.ids)
			}
			last := ds[len(ds)-1]
			if last.Omitted != tc.omitted {
				t.Errorf("last diagnostic stands for %d, want %d: %s", last.Omitted, tc.omitted, last.Summary)
			}
			if tc.omitted == 0 && len(ds) == 1 && !strings.Contains(last.Summary, fmt.Sprintf("more than %d parts", maxFlagTokens)) {
				t.Errorf("summary %q", last.Summary)
			}
			if len(ds) > diag.MaxPerFlag+1 {
				t.Errorf("%d diagnostics", len(ds))
			}
		})
	}
}
