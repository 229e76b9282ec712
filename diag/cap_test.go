package diag

import (
	"strings"
	"testing"
)

func TestCap(t *testing.T) {
	f := NewFile("p.flags", strings.Repeat("x", 100))
	var ds []Diagnostic
	// Flag 0: 13 findings of two IDs, one a warning; flag 1: 3; none: 12.
	for i := range 13 {
		id, sev := "CS012", Error
		if i == 11 {
			id, sev = "CS001", Warning
		}
		ds = append(ds, Diagnostic{ID: id, Severity: sev, Range: f.Range(i, i+1)})
	}
	for i := range 3 {
		ds = append(ds, Diagnostic{ID: "CS010", Severity: Info, Range: f.Range(50+i, 51+i)})
	}
	for i := range 12 {
		ds = append(ds, Diagnostic{ID: "CS900", Severity: Warning, Range: f.Range(80+i, 81+i)})
	}
	flagOf := func(d Diagnostic) int {
		switch {
		case d.Range.Start.Offset < 50:
			return 0
		case d.Range.Start.Offset < 80:
			return 1
		}
		return -1
	}
	got := Cap(ds, flagOf)
	if len(got) != MaxPerFlag+1+3+12 {
		t.Fatalf("%d diagnostics, want %d", len(got), MaxPerFlag+1+3+12)
	}
	o := got[len(got)-1]
	if o.Omitted != 3 || o.ID != "CS012" || o.Severity != Error || o.Range.Start.Offset != 10 || o.Range.End.Offset != 13 ||
		o.Summary != "and 3 more findings in this flag (CS012, CS001): capspec reports at most 10 one by one" {
		t.Errorf("omission = %+v", o)
	}
	// An omission counts for what it stands for when capped again.
	again := Cap(append(ds[:MaxPerFlag:MaxPerFlag], Diagnostic{ID: "CS001", Severity: Warning, Range: f.Range(5, 6)}, o), flagOf)
	if last := again[len(again)-1]; last.Omitted != 4 || last.Summary != "and 4 more findings in this flag (CS001, CS012): capspec reports at most 10 one by one" {
		t.Errorf("omission of an omission = %+v", last)
	}
}
