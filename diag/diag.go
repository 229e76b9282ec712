// Package diag defines capspec's diagnostics: what is wrong, where, how bad,
// and how to fix it. Every layer reports problems as Diagnostic values; the
// renderers in this package turn them into text or JSON.
package diag

import (
	"fmt"
	"sort"
	"strconv"
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

// OriginKind says what an origin is. It is a type, never read from the
// origin's name: a flags file called "argv[1]" is a file.
type OriginKind uint8

// The kinds of origin.
const (
	OriginFile  OriginKind = iota // a file, by its path
	OriginStdin                   // standard input ("<stdin>")
	OriginArg                     // a command-line argument ("argv[N]")
)

// String names the kind: "file", "stdin" or "argument".
func (k OriginKind) String() string {
	switch k {
	case OriginStdin:
		return "stdin"
	case OriginArg:
		return "argument"
	}
	return "file"
}

// Range is the half-open byte range [Start, End) in an origin: a file path,
// "<stdin>" for standard input, or "argv[N]" for the Nth command-line
// argument. Kind says which (it is not part of the JSON form, whose origin
// name says it to people).
type Range struct {
	Origin string     `json:"origin"`
	Kind   OriginKind `json:"-"`
	Start  Pos        `json:"start"`
	End    Pos        `json:"end"`
}

// IsArg reports whether the range lies in a command-line argument, whose
// positions print as argv[N]:col.
func (r Range) IsArg() bool { return r.Kind == OriginArg }

// String formats the start of the range as origin:line:col, or argv[N]:col.
func (r Range) String() string {
	b := make([]byte, 0, len(r.Origin)+24)
	if r.IsArg() {
		b = append(b, r.Origin...)
		b = append(b, ':')
		return string(strconv.AppendInt(b, int64(r.Start.Column), 10))
	}
	if r.Origin != "" {
		b = append(b, r.Origin...)
		b = append(b, ':')
	}
	b = strconv.AppendInt(b, int64(r.Start.Line), 10)
	b = append(b, ':')
	return string(strconv.AppendInt(b, int64(r.Start.Column), 10))
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

// Gather appends the diagnostics ds, which the caller owns, to all, and
// returns the result: ds itself when all is empty, so that one batch of
// findings (a hundred thousand, maybe) is not copied.
func Gather(all, ds []Diagnostic) []Diagnostic {
	if len(all) == 0 {
		return ds
	}
	return append(all, ds...)
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

// Sort orders diagnostics by origin (command-line arguments first, in
// order), then offset, then ID, keeping the order of equal ones.
func Sort(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Range, ds[j].Range
		if a.Origin != b.Origin || a.Kind != b.Kind {
			return originLess(a, b)
		}
		if a.Start.Offset != b.Start.Offset {
			return a.Start.Offset < b.Start.Offset
		}
		return ds[i].ID < ds[j].ID
	})
}

// originLess orders argument origins numerically and before the others,
// which are in order of name.
func originLess(a, b Range) bool {
	aa, ba := a.IsArg(), b.IsArg()
	if aa != ba {
		return aa
	}
	if aa && len(a.Origin) != len(b.Origin) {
		return len(a.Origin) < len(b.Origin)
	}
	if a.Origin != b.Origin {
		return a.Origin < b.Origin
	}
	return a.Kind < b.Kind
}
