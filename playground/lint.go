package playground

import (
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
)

// Diagnostic is one finding of lint, located for an editor.
type Diagnostic struct {
	ID       string `json:"id"`
	Name     string `json:"name"` // the rule's name, "port-out-of-range"
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// Help is the rule's one-line description (capspec rules ID).
	Help string `json:"help,omitempty"`
	// Start and End are the range in the policy text, in UTF-16 code units.
	Start int `json:"start"`
	End   int `json:"end"`
	// Line, Column, EndLine, EndColumn count from 1; columns in code
	// points, as the command line prints them.
	Line      int `json:"line"`
	Column    int `json:"column"`
	EndLine   int `json:"end_line"`
	EndColumn int `json:"end_column"`
	// Position is "policy.flags:3:36", as the command line writes it.
	Position string `json:"position"`
	Fixes    []Fix  `json:"fixes"`
}

// Fix is a suggested fix: a message and edits of the policy text.
type Fix struct {
	Message string `json:"message"`
	Edits   []Edit `json:"edits"`
}

// Edit replaces [Start, End) of the policy text, in UTF-16 code units,
// with NewText. The edits of one fix never overlap; apply them from the
// last to the first so that earlier offsets stay valid.
type Edit struct {
	Start   int    `json:"start"`
	End     int    `json:"end"`
	NewText string `json:"new_text"`
}

// diagnostics converts the lint findings of the document for the page.
// Findings located in another origin cannot be shown in the editor; a
// flags file has none.
func (d *document) diagnostics() []Diagnostic {
	idx := newUTF16Index(d.text)
	findings := d.lint()
	out := make([]Diagnostic, 0, len(findings))
	for _, f := range findings {
		if f.Range.Origin != d.origin {
			continue
		}
		x := Diagnostic{
			ID: f.ID, Name: lint.Name(f.ID), Severity: f.Severity.String(), Summary: f.Summary, Detail: f.Detail,
			Start: idx.at(f.Range.Start.Offset), End: idx.at(f.Range.End.Offset),
			Line: f.Range.Start.Line, Column: f.Range.Start.Column,
			EndLine: f.Range.End.Line, EndColumn: f.Range.End.Column,
			Position: f.Range.String(), Fixes: []Fix{},
		}
		if r, ok := lint.Lookup(f.ID); ok {
			x.Help = r.Doc.Summary
		}
		for _, fx := range f.Fixes {
			edits, ok := editsFor(fx.Edits, d.origin, idx)
			if ok {
				x.Fixes = append(x.Fixes, Fix{Message: fx.Message, Edits: edits})
			}
		}
		out = append(out, x)
	}
	return out
}

// editsFor converts the edits of a fix to UTF-16 offsets. A fix with an
// edit in another origin, or with overlapping edits, cannot be applied to
// the editor's text and is left out.
func editsFor(es []diag.TextEdit, origin string, idx *utf16Index) ([]Edit, bool) {
	if len(es) == 0 {
		return nil, false
	}
	if _, err := diag.ApplyEdits(idx.text, es); err != nil {
		return nil, false
	}
	out := make([]Edit, len(es))
	for i, e := range es {
		if e.Range.Origin != origin {
			return nil, false
		}
		out[i] = Edit{Start: idx.at(e.Range.Start.Offset), End: idx.at(e.Range.End.Offset), NewText: e.NewText}
	}
	return out, true
}
