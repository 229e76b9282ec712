package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
)

// IgnoreReason is the reason a "capspec:ignore" added by a code action
// gives, for the user to replace with the real one.
const IgnoreReason = "TODO: say why"

// maxFixPasses bounds how often "fix all" applies fixes and lints again,
// as capspec lint --fix does.
const maxFixPasses = 8

// maxActions bounds the code actions of one request.
const maxActions = 200

// codeActions answers textDocument/codeAction: for each finding in the
// range, its suggested fixes as quick fixes and an action adding a
// "capspec:ignore" for it; and "fix all" (source.fixAll), which applies
// every fix as capspec lint --fix does.
func (s *server) codeActions(ctx context.Context, snap *snapshot, p CodeActionParams) (any, error) {
	a := s.analysisOf(ctx, snap)
	if a == nil {
		return nil, ctx.Err()
	}
	want := func(kind string) bool {
		if len(p.Context.Only) == 0 {
			return true
		}
		for _, k := range p.Context.Only {
			if kind == k || strings.HasPrefix(kind, k+".") {
				return true
			}
		}
		return false
	}
	t, enc := snap.text, snap.enc
	actions := []CodeAction{}
	if want(kindQuickFix) {
		start, end := t.offset(p.Range.Start, enc), t.offset(p.Range.End, enc)
		given := map[[2]any]bool{} // the diagnostics of the context, by code and range
		for _, d := range p.Context.Diagnostics {
			given[[2]any{d.Code, d.Range}] = true
		}
		for _, d := range a.diags {
			if len(actions) >= maxActions {
				break
			}
			if d.Range.Origin != snap.name {
				continue
			}
			ld := a.toLSP(d)
			if (d.Range.End.Offset < start || d.Range.Start.Offset > end) && !given[[2]any{ld.Code, ld.Range}] {
				continue
			}
			for i, f := range d.Fixes {
				edits, ok := a.lspEdits(f.Edits)
				if !ok {
					continue
				}
				actions = append(actions, CodeAction{Title: f.Message, Kind: kindQuickFix,
					Diagnostics: []Diagnostic{ld}, IsPreferred: i == 0,
					Edit: &WorkspaceEdit{Changes: map[string][]TextEdit{snap.uri: edits}}})
			}
			if e, title, ok := a.ignoreEdit(d); ok {
				actions = append(actions, CodeAction{Title: title,
					Kind: kindQuickFix, Diagnostics: []Diagnostic{ld},
					Edit: &WorkspaceEdit{Changes: map[string][]TextEdit{snap.uri: {e}}}})
			}
		}
	}
	if want(kindFixAll) {
		if _, n := diag.SelectFixes(a.diags); n > 0 {
			action := CodeAction{Title: fixAllTitle, Kind: kindFixAll}
			if snap.resolve && !slices.Contains(p.Context.Only, kindFixAll) {
				// Clients ask for actions at every move of the cursor; the
				// edit, which can take several analyses, waits until chosen.
				action.Data, _ = json.Marshal(fixAllData{URI: snap.uri, FixAll: true})
			} else if err := fixAllEdit(ctx, a, &action); err != nil {
				return nil, err
			}
			if action.Data != nil || action.Edit != nil {
				actions = append(actions, action)
			}
		}
	}
	return actions, nil
}

const fixAllTitle = "Fix all capspec findings"

// fixAllData is the data of a "fix all" action whose edit is resolved
// when it is chosen (codeAction/resolve).
type fixAllData struct {
	URI    string `json:"uri"`
	FixAll bool   `json:"fixAll"`
}

// fixAllEdit sets the edit of a "fix all" action; none when nothing changes.
func fixAllEdit(ctx context.Context, a *analysis, action *CodeAction) error {
	fixed, err := fixAll(ctx, a)
	if err != nil {
		return err
	}
	if fixed != a.snap.text.s {
		action.Edit = &WorkspaceEdit{Changes: map[string][]TextEdit{a.snap.uri: minimalEdits(a.snap.text, fixed, a.snap.enc)}}
	}
	return nil
}

// resolveFixAll answers codeAction/resolve for a "fix all" action: its edit
// for the document as it is now.
func (s *server) resolveFixAll(ctx context.Context, snap *snapshot, action CodeAction) (any, error) {
	a := s.analysisOf(ctx, snap)
	if a == nil {
		return nil, ctx.Err()
	}
	action.Edit = nil
	if err := fixAllEdit(ctx, a, &action); err != nil {
		return nil, err
	}
	return &action, nil
}

// lspEdits converts the edits of a fix; false when one is in another origin.
func (a *analysis) lspEdits(es []diag.TextEdit) ([]TextEdit, bool) {
	out := make([]TextEdit, 0, len(es))
	for _, e := range es {
		if e.Range.Origin != a.snap.name {
			return nil, false
		}
		out = append(out, TextEdit{Range: a.snap.text.rangeOf(e.Range.Start.Offset, e.Range.End.Offset, a.snap.enc), NewText: e.NewText})
	}
	return out, true
}

// fixAll applies the first fix of every finding shown whose edits do not
// overlap one already taken, analyses the result again and repeats, at most
// maxFixPasses times (one fix can enable another), as capspec lint --fix.
// It returns the fixed text.
func fixAll(ctx context.Context, a *analysis) (string, error) {
	content := a.snap.text.s
	for range maxFixPasses {
		edits, n := diag.SelectFixes(a.diags)
		if n == 0 {
			break
		}
		fixed, err := diag.ApplyEdits(content, edits[a.snap.name])
		if err != nil || fixed == content {
			break
		}
		content = fixed
		next := *a.snap
		next.text, next.last, next.cache = newText(content), nil, a.cache
		if a = analyze(ctx, &next); a == nil {
			return "", ctx.Err()
		}
	}
	return content, nil
}

// directiveIDs finds the ID list of a "# capspec:ignore" comment, as
// package lint reads it.
var directiveIDs = regexp.MustCompile(`#[ \t]*capspec:ignore[ \t]+([A-Za-z]{2}[0-9]+(?:[ \t]*,[ \t]*[A-Za-z]{2}[0-9]+)*)`)

// ignoreEdit returns the edit that silences a finding with a
// "# capspec:ignore ID TODO: say why" comment where lint honours it and
// reaches as few other flags as it can (lint.PlaceIgnore: above the
// flag's command or continued line, or at the end of the flag's line), and
// the action's title, which says what the comment silences. A directive
// already there gets the ID added to its list. There is none for CS900 (a
// suppression's own finding) and findings outside flags.
func (a *analysis) ignoreEdit(d diag.Diagnostic) (TextEdit, string, bool) {
	if _, ok := rules()[d.ID]; !ok || d.ID == "CS900" {
		return TextEdit{}, "", false
	}
	p, i := a.flagOf(d)
	if p == nil {
		return TextEdit{}, "", false
	}
	place, ok := lint.PlaceIgnore(p.in, i)
	if !ok {
		return TextEdit{}, "", false
	}
	title := fmt.Sprintf("Ignore %s for this flag (# capspec:ignore)", d.ID)
	switch {
	case len(place.Flags) == 1:
	case place.Command:
		title = fmt.Sprintf("Ignore %s for this command (# capspec:ignore)", d.ID)
	default:
		title = fmt.Sprintf("Ignore %s for the %d flags of this line (# capspec:ignore)", d.ID, len(place.Flags))
	}
	s, t, enc := a.snap.text.s, a.snap.text, a.snap.enc
	insert := func(off int, text string) (TextEdit, string, bool) {
		return TextEdit{Range: t.rangeOf(off, off, enc), NewText: text}, title, true
	}
	// addTo adds the ID to a directive of line, which starts at offset ls.
	addTo := func(line string, ls int) (e TextEdit, title string, ok, found bool) {
		m := directiveIDs.FindStringSubmatchIndex(line)
		if m == nil {
			return TextEdit{}, "", false, false
		}
		for _, id := range strings.Split(line[m[2]:m[3]], ",") {
			if strings.EqualFold(strings.TrimSpace(id), d.ID) {
				return TextEdit{}, "", false, true // already named: nothing to add
			}
		}
		e, title, ok = insert(ls+m[3], ","+d.ID)
		return e, title, ok, true
	}
	if place.Beside {
		le := place.Offset
		ls := lineStart(s, le)
		if e, title, ok, found := addTo(s[ls:le], ls); found {
			return e, title, ok
		}
		return insert(le, "  # capspec:ignore "+d.ID+" "+IgnoreReason)
	}
	ls := place.Offset
	if ls > 0 {
		prev := lineStart(s, ls-1)
		line := strings.TrimRight(s[prev:ls], "\r\n")
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") {
			if e, title, ok, found := addTo(line, prev); found {
				return e, title, ok
			}
		}
	}
	indent := s[ls : ls+len(s[ls:])-len(strings.TrimLeft(s[ls:], " \t"))]
	return insert(ls, indent+"# capspec:ignore "+d.ID+" "+IgnoreReason+lineBreak(s, ls))
}

// flagOf returns the policy and the index of the flag a finding is about,
// as lint's suppression finds it: the flag with a word holding the
// finding's start, else the last flag ending on its line; nil if none.
func (a *analysis) flagOf(d diag.Diagnostic) (*parsed, int) {
	if p, i := a.flagAt(d.Range.Start.Offset); p != nil {
		return p, i
	}
	var found *parsed
	at := -1
	for _, p := range a.inputs {
		for i, f := range p.in.Flags {
			if f.Range().Origin == a.snap.name && f.Range().End.Line == d.Range.Start.Line {
				found, at = p, i
			}
		}
	}
	return found, at
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(s string, off int) int { return strings.LastIndexByte(s[:off], '\n') + 1 }

// lineBreak returns the line break of the line starting at ls ("\n" when
// it has none).
func lineBreak(s string, ls int) string {
	if i := strings.IndexByte(s[ls:], '\n'); i > 0 && s[ls+i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// minimalEdits returns the edit that turns t's text into s: one edit of the
// whole lines between their common prefix and suffix (none when they are
// equal), so that the cuts never fall inside a rune or a line break.
func minimalEdits(t *text, s string, enc string) []TextEdit {
	old := t.s
	if old == s {
		return []TextEdit{}
	}
	p := 0
	for p < len(old) && p < len(s) && old[p] == s[p] {
		p++
	}
	p = strings.LastIndexByte(old[:p], '\n') + 1
	q := 0
	for q < len(old)-p && q < len(s)-p && old[len(old)-1-q] == s[len(s)-1-q] {
		q++
	}
	if e := len(old) - q; e > 0 && old[e-1] != '\n' {
		if i := strings.IndexByte(old[e:], '\n'); i >= 0 {
			q = len(old) - (e + i + 1)
		} else {
			q = 0
		}
	}
	return []TextEdit{{Range: t.rangeOf(p, len(old)-q, enc), NewText: s[p : len(s)-q]}}
}
