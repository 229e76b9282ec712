package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"
)

// Palette holds the colors of text output. The zero Palette prints no
// color; NewPalette makes one that does or does not, as asked.
type Palette struct {
	Error, Warning, Info, Bold, Gutter, Help *color.Color
}

// NewPalette returns a palette whose colors are on or off. All color goes
// through fatih/color, switched per palette (no global state).
func NewPalette(enabled bool) *Palette {
	p := &Palette{
		Error:   color.New(color.FgRed, color.Bold),
		Warning: color.New(color.FgYellow, color.Bold),
		Info:    color.New(color.FgCyan, color.Bold),
		Bold:    color.New(color.Bold),
		Gutter:  color.New(color.FgBlue, color.Bold),
		Help:    color.New(color.FgGreen),
	}
	for _, c := range []*color.Color{p.Error, p.Warning, p.Info, p.Bold, p.Gutter, p.Help} {
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return p
}

// Severity returns the color of a severity.
func (p *Palette) Severity(s Severity) *color.Color {
	switch s {
	case Error:
		return p.Error
	case Warning:
		return p.Warning
	}
	return p.Info
}

// Files finds the content of an origin by name, for source snippets.
type Files interface {
	File(name string) *File
}

// FileSet is a set of origins by name.
type FileSet map[string]*File

// File returns the origin called name, or nil.
func (fs FileSet) File(name string) *File { return fs[name] }

// Add records files.
func (fs FileSet) Add(files ...*File) {
	for _, f := range files {
		fs[f.Name] = f
	}
}

// WriteText writes diagnostics in the text form:
//
//	policy.flags:3:36: error[CS002]: port 70000 is out of range (0-65535)
//	  3 | --allow-outbound=tcp://example.com:70000
//	    |                                    ^^^^^
//
// followed by the detail and the suggested fixes, if any.
func WriteText(w io.Writer, ds []Diagnostic, files Files, p *Palette) error {
	if p == nil {
		p = NewPalette(false)
	}
	var b strings.Builder
	for _, d := range ds {
		sev := p.Severity(d.Severity)
		fmt.Fprintf(&b, "%s: %s: %s\n", p.Bold.Sprint(d.Range.String()), sev.Sprintf("%s[%s]", d.Severity, d.ID), p.Bold.Sprint(d.Summary))
		if files != nil {
			writeSnippet(&b, d.Range, files.File(d.Range.Origin), p, sev)
		}
		if d.Detail != "" {
			for _, line := range strings.Split(d.Detail, "\n") {
				fmt.Fprintf(&b, "    %s %s\n", p.Gutter.Sprint("="), line)
			}
		}
		for _, f := range d.Fixes {
			fmt.Fprintf(&b, "    %s %s\n", p.Gutter.Sprint("="), p.Help.Sprint("help: "+fixText(f)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fixText describes a fix: its message, and the new text of a one-edit fix.
func fixText(f Fix) string {
	if len(f.Edits) == 1 && f.Edits[0].NewText != "" && !strings.Contains(f.Message, f.Edits[0].NewText) {
		return fmt.Sprintf("%s: %s", f.Message, f.Edits[0].NewText)
	}
	return f.Message
}

// writeSnippet writes the source line of a range with carets under it.
func writeSnippet(b *strings.Builder, r Range, f *File, p *Palette, sev interface{ Sprint(...any) string }) {
	if f == nil || r.Start.Line < 1 || r.Start.Line > f.LineCount() {
		return
	}
	line := f.Line(r.Start.Line)
	num := fmt.Sprint(r.Start.Line)
	if r.IsArg() {
		num = ""
	}
	pad := strings.Repeat(" ", len(num))
	fmt.Fprintf(b, "  %s %s %s\n", p.Gutter.Sprint(num), p.Gutter.Sprint("|"), printable(line))
	startCol := r.Start.Column
	endCol := r.End.Column
	if r.End.Line != r.Start.Line {
		endCol = utf8.RuneCountInString(line) + 1
	}
	width := max(endCol-startCol, 1)
	// Keep tabs before the caret so it lines up under the text.
	var lead strings.Builder
	for i, ch := range []rune(line) {
		if i >= startCol-1 {
			break
		}
		if ch == '\t' {
			lead.WriteRune('\t')
		} else {
			lead.WriteRune(' ')
		}
	}
	for i := len([]rune(line)); i < startCol-1; i++ {
		lead.WriteRune(' ')
	}
	fmt.Fprintf(b, "  %s %s %s%s\n", pad, p.Gutter.Sprint("|"), lead.String(), sev.Sprint(strings.Repeat("^", width)))
}

// printable replaces control characters so that a snippet cannot move the
// terminal's cursor or hide text.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, s)
}

// JSONRange is a source range in JSON (docs/json.md): origin, start and
// end line and column (columns in runes), and byte offsets.
type JSONRange struct {
	Origin    string `json:"origin"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
	Offset    int    `json:"offset"`
	EndOffset int    `json:"end_offset"`
}

// RangeJSON converts a range to its JSON form.
func RangeJSON(r Range) JSONRange {
	return JSONRange{Origin: r.Origin, Line: r.Start.Line, Column: r.Start.Column, EndLine: r.End.Line,
		EndColumn: r.End.Column, Offset: r.Start.Offset, EndOffset: r.End.Offset}
}

// JSONDiagnostic is the JSON form of a diagnostic (see docs/json.md); its
// range fields are flattened into it.
type JSONDiagnostic struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	JSONRange
	Fixes []JSONFix `json:"fixes"`
}

// JSONFix is the JSON form of a suggested fix.
type JSONFix struct {
	Message string     `json:"message"`
	Edits   []JSONEdit `json:"edits"`
}

// JSONEdit is the JSON form of a text edit: its range, flattened, and the
// new text.
type JSONEdit struct {
	JSONRange
	NewText string `json:"new_text"`
}

// ToJSON converts a diagnostic to its JSON form; names maps a rule ID to
// its name (nil: no names).
func ToJSON(d Diagnostic, names func(id string) string) JSONDiagnostic {
	j := JSONDiagnostic{
		ID: d.ID, Severity: d.Severity.String(), Summary: d.Summary, Detail: d.Detail,
		JSONRange: RangeJSON(d.Range), Fixes: []JSONFix{},
	}
	if names != nil {
		j.Name = names(d.ID)
	}
	for _, f := range d.Fixes {
		jf := JSONFix{Message: f.Message, Edits: []JSONEdit{}}
		for _, e := range f.Edits {
			jf.Edits = append(jf.Edits, JSONEdit{JSONRange: RangeJSON(e.Range), NewText: e.NewText})
		}
		j.Fixes = append(j.Fixes, jf)
	}
	return j
}

// WriteJSON writes {"diagnostics": [...]} with two-space indentation.
func WriteJSON(w io.Writer, ds []Diagnostic, names func(id string) string) error {
	out := struct {
		Diagnostics []JSONDiagnostic `json:"diagnostics"`
	}{Diagnostics: make([]JSONDiagnostic, 0, len(ds))}
	for _, d := range ds {
		out.Diagnostics = append(out.Diagnostics, ToJSON(d, names))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
