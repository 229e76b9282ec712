package lint

import (
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

var unquotedGlobRule = Rule{
	ID:               "CS212",
	Name:             "unquoted-glob",
	Severity:         diag.Warning,
	SecuritySeverity: 4.0,
	Doc: Doc{
		Summary: "in a shell script, a '*' in an unquoted --allow-* word is subject to pathname expansion",
		Rationale: `The shell expands an unquoted word holding '*' into the names of matching files
before the runtime sees it. --allow-outbound=tcp://*:443 works only as long as
no file in the current directory matches the pattern; when one does, the
runtime gets another flag (or the flag disappears with nullglob). Quote the
word. Reported for shell scripts (--shell) only; the Bad example is a script.`,
		Bad:  "wasmtime run --allow-outbound=tcp://*.example.com:443 app.wasm\n",
		Good: "wasmtime run --allow-outbound='tcp://*.example.com:443' app.wasm\n",
	},
	Run: runUnquotedGlob,
}

func runUnquotedGlob(p *Pass) {
	for _, f := range p.Input.Flags {
		if len(f.Globs) == 0 {
			continue
		}
		// One diagnostic per word, at its first unquoted '*'.
		done := map[int]bool{}
		for _, g := range f.Globs {
			wi := wordOf(f, g)
			if done[wi] {
				continue
			}
			done[wi] = true
			var fixes []diag.Fix
			if wi >= 0 {
				if fix, ok := quoteWordFix(p, f, wi); ok {
					fixes = append(fixes, fix)
				}
			}
			p.Reportf(g, fixes, "unquoted '*' in a shell word is subject to pathname expansion; quote the word")
		}
	}
}

// wordOf returns the index of the word of f that holds r, or -1.
func wordOf(f *source.Flag, r diag.Range) int {
	for i, w := range f.Words {
		if w.Origin == r.Origin && w.Start.Offset <= r.Start.Offset && r.Start.Offset < w.End.Offset {
			return i
		}
	}
	return -1
}

// quoteWordFix returns a fix that quotes word wi of f: a plain word gets
// single quotes around its value (after "=" of --allow-X=SPEC); a word
// that already has quoting gets each unquoted '*' quoted alone.
func quoteWordFix(p *Pass, f *source.Flag, wi int) (diag.Fix, bool) {
	w := f.Words[wi]
	file := p.File(w.Origin)
	if file == nil || w.End.Offset > len(file.Content) {
		return diag.Fix{}, false
	}
	text := file.Content[w.Start.Offset:w.End.Offset]
	if !strings.ContainsAny(text, "'\"\\$`") {
		at := w.Start.Offset
		if strings.HasPrefix(text, "--allow-") {
			if i := strings.IndexByte(text, '='); i >= 0 {
				at += i + 1
			}
		}
		return diag.Fix{Message: "quote the word", Edits: []diag.TextEdit{
			{Range: file.Range(at, at), NewText: "'"},
			{Range: file.Range(w.End.Offset, w.End.Offset), NewText: "'"},
		}}, true
	}
	var edits []diag.TextEdit
	for _, g := range f.Globs {
		if wordOf(f, g) == wi {
			edits = append(edits, diag.TextEdit{Range: g, NewText: "'*'"})
		}
	}
	return diag.Fix{Message: "quote each '*'", Edits: edits}, len(edits) > 0
}
