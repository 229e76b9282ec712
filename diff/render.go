package diff

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/jsonstream"
	"github.com/capspec/capspec/policy"
)

// Counts returns how many regions and changes the result holds.
func (r *Result) Counts() Counts {
	return Counts{Added: len(r.Added), Removed: len(r.Removed), Changed: len(r.Changed)}
}

// Summary is the last line of a comparison: "2 grants added, 1 removed, 1
// mapping changed", or "no change in what is allowed".
func (r *Result) Summary() string { return r.Counts().Summary() }

// Summary is the last line of a comparison: "2 grants added, 1 removed, 1
// mapping changed", or "no change in what is allowed".
func (n Counts) Summary() string {
	if n.Equivalent() {
		return "no change in what is allowed"
	}
	return fmt.Sprintf("%d %s added, %d removed, %d %s changed",
		n.Added, plural(n.Added, "grant"), n.Removed, n.Changed, plural(n.Changed, "mapping"))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// maxExceptLines is how many exceptions a region lists in text, Markdown
// and GitHub output (JSON lists them all, up to MaxExcept).
const maxExceptLines = 8

// exceptLines writes a region's exceptions as text, Markdown and GitHub
// output list them: "except SPEC (already allowed)" with the spec written
// by spec, at most maxExceptLines of them, then how many more there are.
func exceptLines(r *Region, spec func(string) string) []string {
	var out []string
	for i, e := range r.Except {
		if i == maxExceptLines && (len(r.Except) > maxExceptLines+1 || r.ExceptMore) {
			if r.ExceptMore {
				return append(out, fmt.Sprintf("except at least %d more rules (already allowed)", len(r.Except)-i))
			}
			return append(out, fmt.Sprintf("except %d more rules (already allowed)", len(r.Except)-i))
		}
		out = append(out, "except "+spec(e.Spec())+" (already allowed)")
	}
	if r.ExceptMore {
		out = append(out, "except more rules (already allowed)")
	}
	return out
}

func plain(s string) string { return s }

// where says where a rule is written: "new.flags:4", or "implied by
// new.flags:5" for the resolve an outbound rule implies.
func where(r *policy.Rule) string {
	if r.IsImplied() {
		return "implied by " + position(r.ImpliedBy)
	}
	return position(r)
}

// Writer writes a comparison in an output format as it is found: a Sink
// (of Stream) whose Close writes the end, with the summary, once the
// comparison is done. Nothing is written twice or kept.
type Writer interface {
	Sink
	Close(n Counts) error
}

// NewWriter returns the Writer of a format: "text" (SPEC §8.1's lines,
// colored with pal, nil for none), "json" (SPEC §8.1's object,
// docs/json.md) or "markdown" (a table for a pull request comment).
func NewWriter(w io.Writer, format string, pal *diag.Palette) (Writer, error) {
	switch format {
	case "text":
		if pal == nil {
			pal = diag.NewPalette(false)
		}
		return &textWriter{w: bufio.NewWriterSize(w, 64<<10), pal: pal}, nil
	case "json":
		return &jsonWriter{s: jsonstream.New(w, false)}, nil
	case "markdown":
		return &markdownWriter{w: bufio.NewWriterSize(w, 64<<10)}, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// replay hands the result to a writer, as Stream would have.
func (r *Result) replay(wr Writer) error {
	for i := range r.Added {
		if err := wr.Region(true, &r.Added[i]); err != nil {
			return err
		}
	}
	for i := range r.Removed {
		if err := wr.Region(false, &r.Removed[i]); err != nil {
			return err
		}
	}
	for i := range r.Changed {
		if err := wr.Change(&r.Changed[i]); err != nil {
			return err
		}
	}
	return wr.Close(r.Counts())
}

func (r *Result) write(w io.Writer, format string, pal *diag.Palette) error {
	wr, err := NewWriter(w, format, pal)
	if err != nil {
		return err
	}
	return r.replay(wr)
}

// WriteText writes the comparison as SPEC §8.1 shows it: one line per
// region ("+" added, "-" removed, "~" a mapping changed) with the
// position of its rule, "except" lines for what the other policy already
// allows, and the summary.
func (r *Result) WriteText(w io.Writer, pal *diag.Palette) error { return r.write(w, "text", pal) }

// WriteJSON writes the comparison as one indented JSON object.
func (r *Result) WriteJSON(w io.Writer) error { return r.write(w, "json", nil) }

// WriteMarkdown writes the comparison as a Markdown table for a pull
// request comment or a GitHub step summary.
func (r *Result) WriteMarkdown(w io.Writer) error { return r.write(w, "markdown", nil) }

// textWriter writes SPEC §8.1's text.
type textWriter struct {
	w   *bufio.Writer
	pal *diag.Palette
}

func (t *textWriter) line(c *color.Color, left, where string) {
	fmt.Fprintf(t.w, "%s%s   %s\n", c.Sprint(left), strings.Repeat(" ", max(0, 50-len(left))), where)
}

func (t *textWriter) Region(added bool, r *Region) error {
	sign, c := "+", t.pal.Help
	if !added {
		sign, c = "-", t.pal.Error
	}
	t.line(c, sign+" "+r.Flag.String(), where(r.Rule))
	for _, l := range exceptLines(r, plain) {
		t.w.WriteString("    " + l + "\n")
	}
	return nil
}

func (t *textWriter) Change(ch *Change) error {
	t.line(t.pal.Warning, "~ "+ch.Flag.String()+" (was "+ch.Was+")", where(ch.Rule))
	return nil
}

func (t *textWriter) Close(n Counts) error {
	t.w.WriteString(t.pal.Bold.Sprint(n.Summary()))
	t.w.WriteByte('\n')
	return t.w.Flush()
}

// JSONEntry is one region or change in JSON (docs/json.md).
type JSONEntry struct {
	Flag   string     `json:"flag"`
	Except []string   `json:"except"`
	Origin JSONOrigin `json:"origin"`
	// Implied is true for a resolve rule an outbound rule implies; Origin
	// is then that outbound rule's.
	Implied bool `json:"implied"`
	// Example is a request in §3.6 syntax that shows the difference, in
	// the families Families.
	Example  string   `json:"example"`
	Families []string `json:"families"`
	// Was is, for a change, what the old policy did: "->10.0.0.1",
	// "->8888" or "not mapped".
	Was string `json:"was,omitempty"`
	// ExceptMore is true when Except lists only the first MaxExcept
	// exceptions found (Region.ExceptMore).
	ExceptMore bool `json:"except_more,omitempty"`
}

// JSONOrigin is where a rule is written.
type JSONOrigin struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// JSON is the comparison as SPEC §8.1's JSON object.
type JSON struct {
	Added      []JSONEntry `json:"added"`
	Removed    []JSONEntry `json:"removed"`
	Changed    []JSONEntry `json:"changed"`
	Equivalent bool        `json:"equivalent"`
	Summary    string      `json:"summary"`
}

// JSON returns the comparison in the shape of its JSON output.
func (r *Result) JSON() JSON {
	out := JSON{Added: []JSONEntry{}, Removed: []JSONEntry{}, Changed: []JSONEntry{}, Equivalent: r.Counts().Equivalent(), Summary: r.Summary()}
	for i := range r.Added {
		out.Added = append(out.Added, regionEntry(&r.Added[i]))
	}
	for i := range r.Removed {
		out.Removed = append(out.Removed, regionEntry(&r.Removed[i]))
	}
	for i := range r.Changed {
		out.Changed = append(out.Changed, changeEntry(&r.Changed[i]))
	}
	return out
}

func regionEntry(r *Region) JSONEntry {
	e := entry(r.Rule, r.Flag, r.Except, r.Example, r.Family)
	e.ExceptMore = r.ExceptMore
	return e
}

func changeEntry(ch *Change) JSONEntry {
	e := entry(ch.Rule, ch.Flag, nil, ch.Example, ch.Family)
	e.Was = ch.Was
	return e
}

func entry(rule, flag *policy.Rule, except []*policy.Rule, ex fmt.Stringer, fam policy.Families) JSONEntry {
	e := JSONEntry{Flag: flag.String(), Except: make([]string, 0, len(except)), Implied: rule.IsImplied(), Example: ex.String(), Families: fam.List()}
	src := rule
	if rule.IsImplied() {
		src = rule.ImpliedBy
	}
	if src.Source != nil {
		rg := src.Range()
		e.Origin = JSONOrigin{File: rg.Origin, Line: rg.Start.Line, Column: rg.Start.Column}
	}
	for _, x := range except {
		e.Except = append(e.Except, x.String())
	}
	return e
}

// jsonWriter writes the JSON object piece by piece, laid out as
// encoding/json lays out the whole (JSON).
type jsonWriter struct {
	s    *jsonstream.Writer
	open int // the arrays begun: 0 none, 1 added, 2 removed, 3 changed
}

// reach begins the arrays up to the one of section (1 added, 2 removed, 3
// changed), ending the ones before.
func (j *jsonWriter) reach(section int) {
	if j.open == 0 {
		j.s.Open('{')
	}
	for ; j.open < section; j.open++ {
		if j.open > 0 {
			j.s.Close(1, ']')
		}
		j.s.Next(0)
		j.s.Raw(`"` + [...]string{"added", "removed", "changed"}[j.open] + `": `)
		j.s.Open('[')
	}
}

func (j *jsonWriter) Region(added bool, r *Region) error {
	if added {
		j.reach(1)
	} else {
		j.reach(2)
	}
	j.s.Elem(1, regionEntry(r))
	return nil
}

func (j *jsonWriter) Change(ch *Change) error {
	j.reach(3)
	j.s.Elem(1, changeEntry(ch))
	return nil
}

func (j *jsonWriter) Close(n Counts) error {
	j.reach(3)
	j.s.Close(1, ']')
	j.s.Next(0)
	j.s.Raw(`"equivalent": `)
	j.s.Value(1, n.Equivalent())
	j.s.Next(0)
	j.s.Raw(`"summary": `)
	j.s.Value(1, n.Summary())
	j.s.Close(0, '}')
	j.s.Raw("\n")
	return j.s.Flush()
}

// Diagnostics returns the comparison as diagnostics, for GitHub Actions
// annotations (package report): a warning for every added region and
// changed mapping, on the new policy's rule; an info for every removed
// region, on the old policy's rule. Their ID is "capspec diff".
func (r *Result) Diagnostics() []diag.Diagnostic {
	var ds []diag.Diagnostic
	for i := range r.Added {
		ds = append(ds, RegionDiagnostic(true, &r.Added[i]))
	}
	for i := range r.Changed {
		ds = append(ds, ChangeDiagnostic(&r.Changed[i]))
	}
	for i := range r.Removed {
		ds = append(ds, RegionDiagnostic(false, &r.Removed[i]))
	}
	return ds
}

// RegionDiagnostic returns a region as a diagnostic (see Diagnostics): a
// warning on the new policy's rule for an added region, an info on the
// old policy's rule for a removed one.
func RegionDiagnostic(added bool, r *Region) diag.Diagnostic {
	var b strings.Builder
	for _, l := range exceptLines(r, plain) {
		b.WriteString(l + "\n")
	}
	b.WriteString("e.g. " + r.Example.String())
	if added {
		return diagnostic(diag.Warning, r.Rule, "newly allowed: "+r.Flag.String()+implied(r.Rule), b.String())
	}
	return diagnostic(diag.Info, r.Rule, "no longer allowed: "+r.Flag.String()+implied(r.Rule), b.String())
}

// ChangeDiagnostic returns a changed mapping as a warning on the new
// policy's rule (see Diagnostics).
func ChangeDiagnostic(ch *Change) diag.Diagnostic {
	return diagnostic(diag.Warning, ch.Rule, "mapping changed: "+ch.Flag.String()+" (was "+ch.Was+")", "e.g. "+ch.Example.String())
}

func diagnostic(sev diag.Severity, rule *policy.Rule, summary, detail string) diag.Diagnostic {
	src := rule
	if rule.IsImplied() {
		src = rule.ImpliedBy
	}
	return diag.Diagnostic{ID: "capspec diff", Severity: sev, Range: src.Range(), Summary: summary, Detail: detail}
}

func implied(r *policy.Rule) string {
	if r.IsImplied() {
		return " (implied)"
	}
	return ""
}

// markdownWriter writes a Markdown table for a pull request comment or a
// GitHub step summary.
type markdownWriter struct {
	w    *bufio.Writer
	rows int
}

func (m *markdownWriter) row(sign, grant, rule, example string) {
	if m.rows == 0 {
		m.w.WriteString("### capspec diff\n\n| | grant | rule | example |\n|---|---|---|---|\n")
	}
	m.rows++
	fmt.Fprintf(m.w, "| %s | %s | %s | %s |\n", sign, grant, mdCell(rule), code(example))
}

func (m *markdownWriter) Region(added bool, r *Region) error {
	grant := code(r.Flag.String())
	for _, l := range exceptLines(r, code) {
		grant += "<br>" + l
	}
	sign := "+ added"
	if !added {
		sign = "− removed"
	}
	m.row(sign, grant, where(r.Rule), r.Example.String())
	return nil
}

func (m *markdownWriter) Change(ch *Change) error {
	m.row("~ changed", code(ch.Flag.String())+" (was "+code(ch.Was)+")", where(ch.Rule), ch.Example.String())
	return nil
}

func (m *markdownWriter) Close(n Counts) error {
	if m.rows == 0 {
		m.w.WriteString("### capspec diff\n\nNo change in what is allowed.\n")
	} else {
		m.w.WriteString("\n" + n.Summary() + "\n")
	}
	return m.w.Flush()
}

// code writes s as inline Markdown code, safe in a table cell.
func code(s string) string { return "`" + mdCell(s) + "`" }

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
