package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

// Summary is the last line of a comparison: "2 grants added, 1 removed, 1
// mapping changed", or "no change in what is allowed".
func (r *Result) Summary() string {
	if r.Equivalent() {
		return "no change in what is allowed"
	}
	return fmt.Sprintf("%d %s added, %d removed, %d %s changed",
		len(r.Added), plural(len(r.Added), "grant"), len(r.Removed), len(r.Changed), plural(len(r.Changed), "mapping"))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// maxExceptLines is how many exceptions a region lists in text, Markdown
// and GitHub output (JSON lists them all).
const maxExceptLines = 8

// line is one line of the text output, before alignment.
type line struct {
	sign    string // "+", "-", "~"
	flag    string // the flag, and for a change what it was
	where   string // "new.flags:4" or "implied by new.flags:5"
	excepts []string
}

// lines lists the regions and changes in output order: added, removed,
// changed.
func (r *Result) lines() []line {
	var out []line
	for _, sg := range []struct {
		sign string
		rs   []Region
	}{{"+", r.Added}, {"-", r.Removed}} {
		for _, reg := range sg.rs {
			l := line{sign: sg.sign, flag: reg.Flag.String(), where: where(reg.Rule)}
			for _, e := range reg.Except {
				l.excepts = append(l.excepts, e.Spec())
			}
			out = append(out, l)
		}
	}
	for _, ch := range r.Changed {
		out = append(out, line{sign: "~", flag: ch.Flag.String() + " (was " + ch.Was + ")", where: where(ch.Rule)})
	}
	return out
}

// where says where a rule is written: "new.flags:4", or "implied by
// new.flags:5" for the resolve an outbound rule implies.
func where(r *policy.Rule) string {
	if r.IsImplied() {
		return "implied by " + position(r.ImpliedBy)
	}
	return position(r)
}

// WriteText writes the comparison as SPEC §8.1 shows it: one line per
// region ("+" added, "-" removed, "~" a mapping changed) with the
// position of its rule, "except" lines for what the other policy already
// allows, and the summary.
func (r *Result) WriteText(w io.Writer, pal *diag.Palette) error {
	if pal == nil {
		pal = diag.NewPalette(false)
	}
	var b strings.Builder
	for _, l := range r.lines() {
		c := pal.Help
		switch l.sign {
		case "-":
			c = pal.Error
		case "~":
			c = pal.Warning
		}
		left := l.sign + " " + l.flag
		fmt.Fprintf(&b, "%s%s   %s\n", c.Sprint(left), strings.Repeat(" ", max(0, 50-len(left))), l.where)
		for i, e := range l.excepts {
			if i == maxExceptLines && len(l.excepts) > maxExceptLines+1 {
				fmt.Fprintf(&b, "    except %d more rules (already allowed)\n", len(l.excepts)-i)
				break
			}
			fmt.Fprintf(&b, "    except %s (already allowed)\n", e)
		}
	}
	b.WriteString(pal.Bold.Sprint(r.Summary()))
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
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
	out := JSON{Added: []JSONEntry{}, Removed: []JSONEntry{}, Changed: []JSONEntry{}, Equivalent: r.Equivalent(), Summary: r.Summary()}
	entry := func(rule, flag *policy.Rule, except []*policy.Rule, ex fmt.Stringer, fam policy.Families) JSONEntry {
		e := JSONEntry{Flag: flag.String(), Except: []string{}, Implied: rule.IsImplied(), Example: ex.String(), Families: fam.List()}
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
	for _, reg := range r.Added {
		out.Added = append(out.Added, entry(reg.Rule, reg.Flag, reg.Except, reg.Example, reg.Family))
	}
	for _, reg := range r.Removed {
		out.Removed = append(out.Removed, entry(reg.Rule, reg.Flag, reg.Except, reg.Example, reg.Family))
	}
	for _, ch := range r.Changed {
		e := entry(ch.Rule, ch.Flag, nil, ch.Example, ch.Family)
		e.Was = ch.Was
		out.Changed = append(out.Changed, e)
	}
	return out
}

// WriteJSON writes the comparison as one indented JSON object.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r.JSON())
}

// Diagnostics returns the comparison as diagnostics, for GitHub Actions
// annotations (package report): a warning for every added region and
// changed mapping, on the new policy's rule; an info for every removed
// region, on the old policy's rule. Their ID is "capspec diff".
func (r *Result) Diagnostics() []diag.Diagnostic {
	var ds []diag.Diagnostic
	add := func(sev diag.Severity, rule *policy.Rule, summary, detail string) {
		src := rule
		if rule.IsImplied() {
			src = rule.ImpliedBy
		}
		ds = append(ds, diag.Diagnostic{ID: "capspec diff", Severity: sev, Range: src.Range(), Summary: summary, Detail: detail})
	}
	for _, reg := range r.Added {
		add(diag.Warning, reg.Rule, "newly allowed: "+reg.Flag.String()+implied(reg.Rule), exceptDetail(reg))
	}
	for _, ch := range r.Changed {
		add(diag.Warning, ch.Rule, "mapping changed: "+ch.Flag.String()+" (was "+ch.Was+")", "e.g. "+ch.Example.String())
	}
	for _, reg := range r.Removed {
		add(diag.Info, reg.Rule, "no longer allowed: "+reg.Flag.String()+implied(reg.Rule), exceptDetail(reg))
	}
	return ds
}

func implied(r *policy.Rule) string {
	if r.IsImplied() {
		return " (implied)"
	}
	return ""
}

// exceptDetail lists a region's exceptions and its example, a line each.
func exceptDetail(reg Region) string {
	var b strings.Builder
	for i, e := range reg.Except {
		if i == maxExceptLines && len(reg.Except) > maxExceptLines+1 {
			fmt.Fprintf(&b, "except %d more rules (already allowed)\n", len(reg.Except)-i)
			break
		}
		fmt.Fprintf(&b, "except %s (already allowed)\n", e.Spec())
	}
	b.WriteString("e.g. " + reg.Example.String())
	return b.String()
}

// WriteMarkdown writes the comparison as a Markdown table for a pull
// request comment or a GitHub step summary.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("### capspec diff\n\n")
	if r.Equivalent() {
		b.WriteString("No change in what is allowed.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("| | grant | rule | example |\n|---|---|---|---|\n")
	row := func(sign, grant, rule, example string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", sign, grant, mdCell(rule), code(example))
	}
	regions := func(sign string, rs []Region) {
		for _, reg := range rs {
			grant := code(reg.Flag.String())
			for i, e := range reg.Except {
				if i == maxExceptLines && len(reg.Except) > maxExceptLines+1 {
					grant += fmt.Sprintf("<br>except %d more rules (already allowed)", len(reg.Except)-i)
					break
				}
				grant += "<br>except " + code(e.Spec()) + " (already allowed)"
			}
			row(sign, grant, where(reg.Rule), reg.Example.String())
		}
	}
	regions("+ added", r.Added)
	regions("− removed", r.Removed)
	for _, ch := range r.Changed {
		row("~ changed", code(ch.Flag.String())+" (was "+code(ch.Was)+")", where(ch.Rule), ch.Example.String())
	}
	b.WriteString("\n" + r.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// code writes s as inline Markdown code, safe in a table cell.
func code(s string) string { return "`" + mdCell(s) + "`" }

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
