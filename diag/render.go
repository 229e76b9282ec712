package diag

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/capspec/capspec/internal/jsonstream"
)

// Palette holds the colors of text output. The zero Palette prints no
// color; NewPalette makes one that does or does not, as asked.
type Palette struct {
	Error, Warning, Info, Bold, Gutter, Help *color.Color
	// plain says that the colors are off, so that text is written as it
	// is without going through them (a run may print a million lines).
	plain bool
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
		plain:   !enabled,
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

// paint returns s in color c, or s itself when the colors are off.
func (p *Palette) paint(c *color.Color, s string) string {
	if p.plain {
		return s
	}
	return c.Sprint(s)
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
// followed by the detail and the suggested fixes, if any. A long source
// line is shown as a window around the range (see writeSnippet), and a long
// summary, detail line or fix is elided in the middle, so that each
// diagnostic's text is bounded whatever the input. Output is written as it
// is made, not gathered first.
func WriteText(w io.Writer, ds []Diagnostic, files Files, p *Palette) error {
	if p == nil {
		p = NewPalette(false)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, d := range ds {
		sev := p.Severity(d.Severity)
		writeLine(bw, p.paint(p.Bold, d.Range.String()), ": ", p.paint(sev, d.Severity.String()+"["+d.ID+"]"), ": ", p.paint(p.Bold, printable(Elide(d.Summary, maxMessage))))
		if files != nil {
			writeSnippet(bw, d.Range, files.File(d.Range.Origin), p, sev)
		}
		if d.Detail != "" {
			for line := range strings.SplitSeq(d.Detail, "\n") {
				writeLine(bw, "    ", p.paint(p.Gutter, "="), " ", printable(Elide(line, maxMessage)))
			}
		}
		for _, f := range d.Fixes {
			writeLine(bw, "    ", p.paint(p.Gutter, "="), " ", p.paint(p.Help, "help: "+printable(Elide(fixText(f), maxMessage))))
		}
	}
	return bw.Flush()
}

// writeLine writes pieces of text and a line break.
func writeLine(w *bufio.Writer, pieces ...string) {
	for _, s := range pieces {
		w.WriteString(s)
	}
	w.WriteByte('\n')
}

// maxMessage is the most bytes of a summary, a detail line or a fix that
// text output shows; the middle of a longer one is elided.
const maxMessage = 400

// Elide returns s, or when it is longer than max bytes its start and end
// with "…" between, max bytes or so in all (cut at rune boundaries).
func Elide(s string, max int) string {
	if len(s) <= max {
		return s
	}
	head := runeStart(s, max*2/3)
	tail := runeStart(s, len(s)-max/3)
	return s[:head] + "…" + s[tail:]
}

// runeStart returns the start of the rune holding byte i of s (i itself
// when s is not UTF-8 there).
func runeStart(s string, i int) int {
	for j := i; j > 0 && j > i-utf8.UTFMax; j-- {
		if utf8.RuneStart(s[j]) {
			return j
		}
	}
	return i
}

// fixText describes a fix: its message, and the new text of a one-edit fix.
func fixText(f Fix) string {
	if len(f.Edits) == 1 && f.Edits[0].NewText != "" && !strings.Contains(f.Message, f.Edits[0].NewText) {
		return fmt.Sprintf("%s: %s", f.Message, f.Edits[0].NewText)
	}
	return f.Message
}

// The window of a long source line that a snippet shows: the line is
// shown whole up to snippetWhole bytes; a longer one shows up to
// snippetContext runes before and after the range and up to snippetRange
// runes of the range, with "…" where text is left out.
const (
	snippetWhole   = 160
	snippetContext = 40
	snippetRange   = 80
)

// writeSnippet writes the source line of a range with carets under it.
// The carets stand under the range's text whatever the window; the
// position in the first line keeps the range's real line and column.
func writeSnippet(w *bufio.Writer, r Range, f *File, p *Palette, sev *color.Color) {
	if f == nil || r.Start.Line < 1 || r.Start.Line > f.LineCount() {
		return
	}
	lineStart, line := f.lineAt(r.Start.Line)
	// The range in bytes of line: [s, e).
	s := max(0, min(r.Start.Offset-lineStart, len(line)))
	e := len(line)
	if r.End.Line == r.Start.Line {
		e = max(s, min(r.End.Offset-lineStart, len(line)))
	}
	// A range that starts or ends inside a rune covers that rune.
	s = runeAround(line, s)
	if j := runeAround(line, e); j < e {
		_, size := utf8.DecodeRuneInString(line[j:])
		e = j + size
	}
	ws, we, re := 0, len(line), e // window [ws, we); carets over [s, re)
	if len(line) > snippetWhole {
		ws = runesBack(line, s, snippetContext)
		re = runesForward(line, s, e, snippetRange)
		we = re
		if re == e {
			we = runesForward(line, e, len(line), snippetContext)
		}
	}
	text := printable(line[ws:we])
	var lead strings.Builder
	if ws > 0 {
		text = "…" + text
		lead.WriteByte(' ')
	}
	if we < len(line) {
		text += "…"
	}
	// Keep tabs before the caret so it lines up under the text.
	for _, ch := range line[ws:s] {
		if ch == '\t' {
			lead.WriteRune('\t')
		} else {
			lead.WriteRune(' ')
		}
	}
	width := max(utf8.RuneCountInString(line[s:re]), 1)
	num := strconv.Itoa(r.Start.Line)
	if r.IsArg() {
		num = ""
	}
	pad := strings.Repeat(" ", len(num))
	writeLine(w, "  ", p.paint(p.Gutter, num), " ", p.paint(p.Gutter, "|"), " ", text)
	writeLine(w, "  ", pad, " ", p.paint(p.Gutter, "|"), " ", lead.String(), p.paint(sev, strings.Repeat("^", width)))
}

// runeAround returns the start of the rune of s that holds byte i: i, or
// up to three bytes before it when a multi-byte rune starting there covers i.
func runeAround(s string, i int) int {
	for j := i - 1; j >= 0 && j > i-utf8.UTFMax; j-- {
		if utf8.RuneStart(s[j]) {
			if _, size := utf8.DecodeRuneInString(s[j:]); j+size > i {
				return j
			}
			break
		}
	}
	return i
}

// runesBack returns the offset n runes before offset i of s (or 0).
func runesBack(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}

// runesForward returns the offset n runes after offset i of s, at most limit.
func runesForward(s string, i, limit, n int) int {
	for ; n > 0 && i < limit; n-- {
		_, size := utf8.DecodeRuneInString(s[i:limit])
		i += size
	}
	return i
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
	// Omitted is set on the diagnostic that counts a flag's findings
	// beyond MaxPerFlag: how many it stands for.
	Omitted int `json:"omitted,omitempty"`
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
		JSONRange: RangeJSON(d.Range), Fixes: []JSONFix{}, Omitted: d.Omitted,
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

// WriteJSON writes {"diagnostics": [...]} with two-space indentation, one
// diagnostic at a time.
func WriteJSON(w io.Writer, ds []Diagnostic, names func(id string) string) error {
	s := jsonstream.New(w, false)
	s.Raw("{\n  \"diagnostics\": ")
	s.Open('[')
	var b jsonstream.Builder
	for _, d := range ds {
		b.Reset(2)
		buildJSON(&b, d, names)
		s.Next(1)
		s.RawBytes(b.B)
	}
	s.Close(1, ']')
	s.Raw("\n}\n")
	return s.Flush()
}

// buildJSON writes the JSON form of a diagnostic (ToJSON) without
// reflection, byte for byte as encoding/json writes it (TestBuildJSON):
// a run may report a million diagnostics.
func buildJSON(b *jsonstream.Builder, d Diagnostic, names func(id string) string) {
	b.Open('{')
	b.KeyString("id", d.ID)
	if names != nil {
		if name := names(d.ID); name != "" {
			b.KeyString("name", name)
		}
	}
	b.KeyString("severity", d.Severity.String())
	b.KeyString("summary", d.Summary)
	if d.Detail != "" {
		b.KeyString("detail", d.Detail)
	}
	BuildRangeJSON(b, RangeJSON(d.Range))
	b.Key("fixes")
	b.List(len(d.Fixes), false, func(i int) {
		f := d.Fixes[i]
		b.Open('{')
		b.KeyString("message", f.Message)
		b.Key("edits")
		b.List(len(f.Edits), false, func(j int) {
			b.Open('{')
			BuildRangeJSON(b, RangeJSON(f.Edits[j].Range))
			b.KeyString("new_text", f.Edits[j].NewText)
			b.Close('}')
		})
		b.Close('}')
	})
	if d.Omitted != 0 {
		b.Key("omitted")
		b.Int(d.Omitted)
	}
	b.Close('}')
}

// rangeKeys are the keys of the numbers of a JSONRange, in order.
var rangeKeys = []string{"line", "column", "end_line", "end_column", "offset", "end_offset"}

// BuildRangeJSON writes the members of a JSONRange into the object being
// written, as encoding/json writes them (flattened into a diagnostic or
// an edit, or the whole of a range's object).
func BuildRangeJSON(b *jsonstream.Builder, r JSONRange) {
	b.KeyString("origin", r.Origin)
	b.KeyInts(rangeKeys, r.Line, r.Column, r.EndLine, r.EndColumn, r.Offset, r.EndOffset)
}
