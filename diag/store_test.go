package diag

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStoreRoundTrip adds diagnostics of every shape to a store and
// requires them back exactly, in order: compact ones (ranges and edits
// the files give back), and whole ones (another origin, a range no file
// gives back, an omission, an empty slice of fixes, a fix with no edits).
func TestStoreRoundTrip(t *testing.T) {
	a := NewFile("a.flags", "--allow-outbound=tcp://a:80\n--allow-resolve=ｅｘ.com\n# comment\n")
	b := NewFile("b.flags", "\uFEFF--allow-inbound=tcp://*:80\n")
	arg := NewFile("argv[1]", "--allow-resolve=x")
	arg.Kind = OriginArg
	other := NewFile("c.flags", "elsewhere")
	s := NewStore([]*File{a, b, arg})
	edit := func(f *File, start, end int, text string) TextEdit {
		return TextEdit{Range: f.Range(start, end), NewText: text}
	}
	bad := a.Range(2, 5)
	bad.Start.Column = 7 // (a range no file gives back)
	wrongKind := b.Range(3, 5)
	wrongKind.Kind = OriginStdin
	want := []Diagnostic{
		{ID: "CS001", Severity: Error, Summary: "s1", Range: a.Range(0, 16)},
		{ID: "CS305", Severity: Info, Summary: "s2", Detail: "d", Range: a.Range(28, 52),
			Fixes: []Fix{{Message: "spell", Edits: []TextEdit{edit(a, 44, 50, "ex"), edit(a, 50, 51, "")}}, {Message: "delete", Edits: []TextEdit{edit(a, 28, 53, "")}}}},
		{ID: "CS205", Severity: Warning, Summary: "s1", Range: b.Range(3, 19)},
		{ID: "CS001", Severity: Error, Summary: "s3", Range: arg.Range(0, 3)},
		{ID: "CS001", Severity: Error, Summary: "other origin", Range: other.Range(0, 3)},
		{ID: "CS001", Severity: Error, Summary: "bad range", Range: bad},
		{ID: "CS001", Severity: Error, Summary: "wrong kind", Range: wrongKind},
		{ID: "CS001", Severity: Error, Summary: "no origin"},
		{ID: "CS012", Severity: Error, Summary: "and 3 more", Range: a.Range(1, 2), Omitted: 3},
		{ID: "CS301", Severity: Info, Summary: "empty fixes", Range: a.Range(1, 2), Fixes: []Fix{}},
		{ID: "CS301", Severity: Info, Summary: "no edits", Range: a.Range(1, 2), Fixes: []Fix{{Message: "m"}}},
		{ID: "CS301", Severity: Info, Summary: "edit elsewhere", Range: a.Range(1, 2), Fixes: []Fix{{Message: "m", Edits: []TextEdit{edit(other, 0, 1, "x")}}}},
		{ID: "CS301", Severity: Info, Summary: "edit of another file", Range: a.Range(1, 2), Fixes: []Fix{{Message: "m", Edits: []TextEdit{edit(b, 3, 5, "x")}}}},
	}
	for i := range 3000 { // more than a chunk
		want = append(want, Diagnostic{ID: "CS201", Severity: Warning, Summary: fmt.Sprintf("s%d", i%7), Range: a.Range(i%50, i%50+2)})
	}
	s.AddAll(want)
	if s.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", s.Len(), len(want))
	}
	got := s.Diagnostics()
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(File{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if s.Len() != 0 || s.Diagnostics() != nil {
		t.Errorf("the store is not empty after Diagnostics")
	}
	// AppendTo appends after what is there.
	s.Add(want[0])
	if got := s.AppendTo([]Diagnostic{want[2]}); len(got) != 2 || got[1].Summary != "s1" || got[0].ID != "CS205" {
		t.Errorf("AppendTo = %v", got)
	}
}
