package lsp

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/source"
)

// Bounds of what the server sends about one document, so that hostile or
// huge documents give bounded output (docs/editors.md, "Limits").
const (
	maxDiagnostics = 1000 // per document; a last diagnostic counts the rest
	maxMessageLen  = 4000 // bytes of one diagnostic message or hover
	maxRelated     = 10   // related positions of one diagnostic
)

// analysis is what one version of a document says: its policies (one for
// a flags file, one per command of a script) as read and parsed, and the
// diagnostics shown under the settings of the moment.
type analysis struct {
	snap      *snapshot
	version   int32
	cfg       config
	inputs    []*parsed
	scriptErr *source.ScriptError // a script that does not parse
	diags     []diag.Diagnostic   // the findings shown, sorted
	cache     *grammar.Cache      // the flags parsed, for the next analysis
	lsp       []Diagnostic        // diags as LSP diagnostics, bounded

	flagsOnce sync.Once
	flags     map[[2]int]diag.Range // the flags of the document by start line and column
}

// parsed is one policy of a document.
type parsed struct {
	in     *source.Input
	policy *ast.Policy
	diags  []diag.Diagnostic // of reading and parsing

	relOnce sync.Once
	rels    []lint.Relation // CS301–CS304 relations, for hover
}

// read reads a document as a flags file or a shell script.
func read(name, content string, shell bool) ([]*source.Input, error) {
	if shell {
		return source.Shell{Name: name, Content: content}.Read()
	}
	return source.FlagsFile{Name: name, Content: content}.Read()
}

// analyze reads, parses and lints one version of a document. It returns
// nil when ctx is done first (a newer version has come).
func analyze(ctx context.Context, snap *snapshot) *analysis {
	a := &analysis{snap: snap, version: snap.version, cfg: snap.cfg}
	ins, err := read(snap.name, snap.text.s, snap.shell)
	if err != nil {
		var se *source.ScriptError
		if !errors.As(err, &se) {
			se = &source.ScriptError{Msg: err.Error()}
		}
		a.scriptErr = se
	}
	var res []grammar.Parsed
	res, a.cache = snap.cache.Parse(ins...)
	for k, in := range ins {
		if ctx.Err() != nil {
			return nil
		}
		pd := append(append([]diag.Diagnostic(nil), in.Diags...), res[k].Diags...)
		a.inputs = append(a.inputs, &parsed{in: in, policy: res[k].Policy, diags: pd})
		for _, d := range lint.Lint(in, res[k].Policy, pd, lint.Options{Disable: snap.cfg.disable, Within: snap.max.maxOrNil()}) {
			if d.Severity.AtLeast(snap.cfg.minSeverity) {
				a.diags = append(a.diags, d)
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	diag.Sort(a.diags)
	a.lsp = a.convert()
	return a
}

// rules indexes the rule registry by ID.
var rules = sync.OnceValue(func() map[string]lint.Rule {
	m := map[string]lint.Rule{}
	for _, r := range lint.Rules() {
		m[r.ID] = r
	}
	return m
})

// convert turns the findings into LSP diagnostics, at most maxDiagnostics
// of them and one more that counts the rest.
func (a *analysis) convert() []Diagnostic {
	t, enc := a.snap.text, a.snap.enc
	out := []Diagnostic{}
	if e := a.scriptErr; e != nil {
		out = append(out, Diagnostic{Range: t.rangeOf(e.Range.Start.Offset, e.Range.End.Offset, enc),
			Severity: severityError, Source: "capspec", Message: bound("shell syntax error: " + e.Msg)})
	}
	if m := a.snap.max; m != nil && m.problem != "" {
		// Said on every document, whatever minSeverity: no finding of
		// CS401 does not mean the document is within the maximum.
		out = append(out, Diagnostic{Range: t.rangeOf(0, 0, enc), Severity: severityError, Source: "capspec",
			Message: bound(m.message())})
	}
	shown := 0
	for i, d := range a.diags {
		if d.Range.Origin != a.snap.name {
			continue
		}
		if shown == maxDiagnostics {
			out = append(out, Diagnostic{Range: t.rangeOf(d.Range.Start.Offset, d.Range.Start.Offset, enc),
				Severity: severityInformation, Source: "capspec",
				Message: fmt.Sprintf("%d more findings from here on are not shown (at most %d a document); capspec lint lists them all", len(a.diags)-i, maxDiagnostics)})
			break
		}
		out = append(out, a.toLSP(d))
		shown++
	}
	return out
}

// lspDiagnostics returns the diagnostics to publish.
func (a *analysis) lspDiagnostics() []Diagnostic { return a.lsp }

// toLSP converts one finding.
func (a *analysis) toLSP(d diag.Diagnostic) Diagnostic {
	t, enc := a.snap.text, a.snap.enc
	ld := Diagnostic{
		Range:    t.rangeOf(d.Range.Start.Offset, d.Range.End.Offset, enc),
		Severity: lspSeverity(d.Severity),
		Code:     d.ID,
		Source:   "capspec",
		Message:  bound(message(d)),
	}
	if r, ok := rules()[d.ID]; ok {
		ld.CodeDescription = &CodeDescription{Href: r.DocURL()}
	}
	switch d.ID {
	case "CS301", "CS302", "CS304":
		ld.Tags = []int{diagnosticTagUnnecessary}
	}
	ld.RelatedInformation = a.related(d)
	return ld
}

// message is a finding's summary, and its detail on the next line.
func message(d diag.Diagnostic) string {
	if d.Detail == "" {
		return d.Summary
	}
	return d.Summary + "\n" + d.Detail
}

func lspSeverity(s diag.Severity) int {
	switch s {
	case diag.Error:
		return severityError
	case diag.Warning:
		return severityWarning
	}
	return severityInformation
}

// bound cuts a text to maxMessageLen bytes.
func bound(s string) string { return cut(s, maxMessageLen) }

// cut cuts s to at most n bytes (and an ellipsis), on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// related returns the places of the document that a finding's text names
// ("the others are at policy.flags:2:1, policy.flags:5:1"; "duplicate of
// the rule at policy.flags:1:1"): each the range of the flag starting
// there (found by the line and column the text gives, as diag.Range.String
// writes them), with the clause that names it.
func (a *analysis) related(d diag.Diagnostic) []DiagnosticRelatedInformation {
	full := message(d)
	out := a.snap.max.related(full) // CS401's nearest rule of the maximum
	refs := diag.FindRefs(full, a.snap.name)
	if len(refs) == 0 {
		return out
	}
	a.flagsOnce.Do(a.indexFlags)
	for _, ref := range refs {
		if len(out) == maxRelated {
			break
		}
		f, ok := a.flags[[2]int{ref.Line, ref.Column}]
		if !ok {
			continue // every position lint names is a flag's
		}
		out = append(out, DiagnosticRelatedInformation{
			Location: Location{URI: a.snap.uri, Range: a.snap.text.rangeOf(f.Start.Offset, f.End.Offset, a.snap.enc)},
			Message:  clause(full, ref.Start, ref.End),
		})
	}
	return out
}

// indexFlags records where the document's flags are.
func (a *analysis) indexFlags() {
	a.flags = map[[2]int]diag.Range{}
	for _, p := range a.inputs {
		for _, f := range p.in.Flags {
			if f.Range().Origin == a.snap.name {
				a.flags[[2]int{f.Range().Start.Line, f.Range().Start.Column}] = f.Range()
			}
		}
	}
}

// clause returns the clause of s holding s[start:end]: the text between
// the nearest "; " or line break on either side.
func clause(s string, start, end int) string {
	from := 0
	if i := strings.LastIndex(s[:start], "; "); i >= 0 {
		from = i + 2
	}
	if i := strings.LastIndexByte(s[:start], '\n'); i >= 0 && i+1 > from {
		from = i + 1
	}
	to := len(s)
	if i := strings.Index(s[end:], "; "); i >= 0 {
		to = end + i
	}
	if i := strings.IndexByte(s[end:], '\n'); i >= 0 && end+i < to {
		to = end + i
	}
	return cut(strings.TrimSpace(s[from:to]), 200)
}

// flagAt returns the policy and the index of the flag of the document at
// byte offset off (its words, ends included), or nil.
func (a *analysis) flagAt(off int) (*parsed, int) {
	for _, p := range a.inputs {
		flags := p.in.Flags
		i := sort.Search(len(flags), func(i int) bool { return flags[i].Range().End.Offset >= off })
		for ; i < len(flags) && flags[i].Range().Start.Offset <= off; i++ {
			if flags[i].Range().Origin != a.snap.name {
				continue
			}
			for _, w := range flags[i].Words {
				if w.Start.Offset <= off && off <= w.End.Offset {
					return p, i
				}
			}
		}
	}
	return nil, -1
}
