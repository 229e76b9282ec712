// Package diag defines capspec's diagnostics: what is wrong, where, how bad,
// and how to fix it. Every layer reports problems as Diagnostic values; the
// renderers in this package turn them into text or JSON.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Severity says how bad a diagnostic is.
type Severity int

// The severities, from most to least severe.
const (
	Error Severity = iota
	Warning
	Info
)

// String returns "error", "warning" or "info".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	case Info:
		return "info"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(name string) (Severity, error) {
	switch strings.ToLower(name) {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or info)", name)
}

// AtLeast reports whether s is as severe as t or more.
func (s Severity) AtLeast(t Severity) bool { return s <= t }

// Pos is a position in an origin. Offset counts bytes from 0; Line and Column
// count from 1, Column in runes.
type Pos struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Range is the half-open byte range [Start, End) in an origin: a file path,
// "-" for standard input, or "argv[N]" for the Nth command-line argument.
type Range struct {
	Origin string `json:"origin"`
	Start  Pos    `json:"start"`
	End    Pos    `json:"end"`
}

// IsArg reports whether the range lies in a command-line argument, whose
// positions print as argv[N]:col.
func (r Range) IsArg() bool { return IsArgOrigin(r.Origin) }

// IsArgOrigin reports whether an origin name stands for a command-line
// argument ("argv[N]").
func IsArgOrigin(origin string) bool {
	return strings.HasPrefix(origin, "argv[") && strings.HasSuffix(origin, "]")
}

// String formats the start of the range as origin:line:col, or argv[N]:col.
func (r Range) String() string {
	if r.IsArg() {
		return fmt.Sprintf("%s:%d", r.Origin, r.Start.Column)
	}
	if r.Origin == "" {
		return fmt.Sprintf("%d:%d", r.Start.Line, r.Start.Column)
	}
	return fmt.Sprintf("%s:%d:%d", r.Origin, r.Start.Line, r.Start.Column)
}

// TextEdit replaces the text of Range with NewText.
type TextEdit struct {
	Range   Range  `json:"range"`
	NewText string `json:"new_text"`
}

// Fix is a suggested change: a message and the edits that carry it out.
type Fix struct {
	Message string     `json:"message"`
	Edits   []TextEdit `json:"edits"`
}

// Diagnostic is one finding: a rule ID, a severity, a one-line summary, an
// optional detail, where it is, and zero or more suggested fixes.
type Diagnostic struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
	Range    Range    `json:"range"`
	Fixes    []Fix    `json:"fixes,omitempty"`
	// Omitted is, for the diagnostic that ends a flag's report when the
	// flag has more than MaxPerFlag findings, how many findings it stands
	// for (see Omission); 0 for every other diagnostic.
	Omitted int `json:"omitted,omitempty"`
}

// Error makes a Diagnostic usable as an error value.
func (d Diagnostic) Error() string {
	return fmt.Sprintf("%s: %s[%s]: %s", d.Range, d.Severity, d.ID, d.Summary)
}

// HasErrors reports whether any diagnostic has severity Error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by origin, then offset, then ID, keeping the
// order of equal ones.
func Sort(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Range, ds[j].Range
		if a.Origin != b.Origin {
			return originLess(a.Origin, b.Origin)
		}
		if a.Start.Offset != b.Start.Offset {
			return a.Start.Offset < b.Start.Offset
		}
		return ds[i].ID < ds[j].ID
	})
}

// originLess orders argv[N] origins numerically and before files.
func originLess(a, b string) bool {
	aa, ba := IsArgOrigin(a), IsArgOrigin(b)
	if aa != ba {
		return aa
	}
	if aa && len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
