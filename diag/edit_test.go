package diag

import (
	"strings"
	"testing"
)

// edit makes an edit of bytes [s, e) of origin "f".
func edit(s, e int, text string) TextEdit {
	return TextEdit{Range: Range{Origin: "f", Start: Pos{Offset: s}, End: Pos{Offset: e}}, NewText: text}
}

func TestApplyEdits(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		edits []TextEdit
		want  string
		err   string
	}{
		{"none", "abc", nil, "abc", ""},
		{"replace", "hello world", []TextEdit{edit(6, 11, "there")}, "hello there", ""},
		{"any order", "abcdef", []TextEdit{edit(4, 5, "E"), edit(0, 1, "A")}, "AbcdEf", ""},
		{"insert and delete", "ab", []TextEdit{edit(1, 1, "-"), edit(1, 2, "")}, "a-", ""},
		{"adjacent", "abcd", []TextEdit{edit(0, 2, "x"), edit(2, 4, "y")}, "xy", ""},
		{"at end", "ab", []TextEdit{edit(2, 2, "c")}, "abc", ""},
		{"overlap", "abcd", []TextEdit{edit(0, 3, "x"), edit(2, 4, "y")}, "abcd", "overlap"},
		{"two inserts at one place", "ab", []TextEdit{edit(1, 1, "x"), edit(1, 1, "y")}, "ab", "overlap"},
		{"out of range", "ab", []TextEdit{edit(1, 5, "x")}, "ab", "outside"},
		{"inverted", "ab", []TextEdit{edit(2, 1, "x")}, "ab", "outside"},
	}
	for _, tt := range tests {
		got, err := ApplyEdits(tt.src, tt.edits)
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
	}
}

func TestSelectFixes(t *testing.T) {
	fix := func(edits ...TextEdit) Fix { return Fix{Message: "m", Edits: edits} }
	ds := []Diagnostic{
		{ID: "A", Fixes: []Fix{fix(edit(0, 2, "x")), fix(edit(5, 6, "never: not the first fix"))}},
		{ID: "B", Fixes: []Fix{fix(edit(1, 3, "overlaps A"))}},
		{ID: "C"},
		{ID: "D", Fixes: []Fix{fix(edit(3, 4, "y"), edit(6, 7, "z"))}},
		{ID: "E", Fixes: []Fix{fix(edit(6, 6, "touches D's second edit"))}},
		{ID: "F", Fixes: []Fix{fix(edit(7, 8, "w"))}},
	}
	picked, n := SelectFixes(ds)
	if n != 4 {
		t.Errorf("picked %d fixes, want 4 (A, D, E, F)", n)
	}
	got, err := ApplyEdits("abcdefgh", picked["f"])
	if err != nil {
		t.Fatal(err)
	}
	if want := "xcyeftouches D's second editzw"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
