package diag

import (
	"fmt"
	"strings"
)

// MaxPerFlag is the most findings reported one by one for a flag. A flag
// with more (a 1 MiB flag can hold a million invisible characters) gets
// the first MaxPerFlag, in position order, and one more diagnostic that
// counts the rest (Omission), so that output stays proportional to the
// input and readable.
const MaxPerFlag = 10

// Omission returns the diagnostic that stands for n findings left out of
// a flag's report: "and n more findings in this flag (IDs)". ids are the
// distinct IDs of the findings left out, in order (the first is the
// diagnostic's ID, so that --disable and suppressions of it apply); sev is
// the most severe of their severities and r the range from the first of
// them to the end of the last.
func Omission(n int, ids []string, sev Severity, r Range) Diagnostic {
	what := "findings"
	if n == 1 {
		what = "finding"
	}
	id := ""
	if len(ids) > 0 {
		id = ids[0]
	}
	return Diagnostic{
		ID: id, Severity: sev, Range: r, Omitted: n,
		Summary: fmt.Sprintf("and %d more %s in this flag (%s): capspec reports at most %d one by one", n, what, strings.Join(ids, ", "), MaxPerFlag),
	}
}

// A Tally collects the findings left out of a report, for Omission.
type Tally struct {
	N        int      // findings left out
	IDs      []string // their distinct IDs, in order
	Severity Severity // the most severe
	Range    Range    // from the start of the first to the end of the last (in the first's origin)
}

// Add counts d, or the findings d stands for when it is an omission itself.
func (t *Tally) Add(d Diagnostic) {
	if t.N == 0 {
		t.Severity, t.Range = d.Severity, d.Range
	}
	t.N += max(1, d.Omitted)
	t.Severity = min(t.Severity, d.Severity) // Error is the smallest
	if d.Range.Origin == t.Range.Origin && d.Range.End.Offset > t.Range.End.Offset {
		t.Range.End = d.Range.End
	}
	t.AddID(d.ID)
}

// AddID records an ID among those left out.
func (t *Tally) AddID(id string) {
	for _, seen := range t.IDs {
		if seen == id {
			return
		}
	}
	t.IDs = append(t.IDs, id)
}

// Diagnostic returns the omission standing for the tally.
func (t *Tally) Diagnostic() Diagnostic { return Omission(t.N, t.IDs, t.Severity, t.Range) }

// Cap keeps at most MaxPerFlag diagnostics of each flag, the first in the
// order of ds, and appends for each flag with more one omission that
// counts the others (sort the result to put them in place). flagOf names
// the flag a diagnostic belongs to; a negative result leaves the
// diagnostic uncapped. An omission among ds counts for the findings it
// stands for.
func Cap(ds []Diagnostic, flagOf func(Diagnostic) int) []Diagnostic {
	// Most reports need no cap: then ds is returned as it is, not copied.
	count := map[int]int{}
	over := false
	for _, d := range ds {
		if f := flagOf(d); f >= 0 {
			count[f]++
			over = over || count[f] > MaxPerFlag || d.Omitted > 0 && count[f] > 1
		}
	}
	if !over {
		return ds
	}
	kept := map[int]int{}
	tallies := map[int]*Tally{}
	var order []int // flags with a tally, in order of their first omission
	out := make([]Diagnostic, 0, len(ds))
	for _, d := range ds {
		f := flagOf(d)
		if f < 0 {
			out = append(out, d)
			continue
		}
		if kept[f] < MaxPerFlag && d.Omitted == 0 {
			kept[f]++
			out = append(out, d)
			continue
		}
		t := tallies[f]
		if t == nil {
			t = &Tally{}
			tallies[f] = t
			order = append(order, f)
		}
		t.Add(d)
	}
	for _, f := range order {
		out = append(out, tallies[f].Diagnostic())
	}
	return out
}
