package diff

import (
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// ReadMaximum reads the maxima of `capspec lint --within` (SPEC §8.2),
// flags files already read into memory: it parses each and compiles them
// together into one Maximum, their rules merged. Messages call it by the
// file's name, or "the maximum (a.flags, b.flags)" when there are several.
// It returns the diagnostics of reading, parsing and compiling the maxima
// (mapping conflicts, CS101), sorted, and the files they point into; when
// they hold an error, the Maximum is nil: a maximum with errors is never
// used. No files give no Maximum and no diagnostics.
//
// The command line (lint --within) and the language server (the within
// setting) both read maxima with it.
func ReadMaximum(files []source.FlagsFile) (*Maximum, []diag.Diagnostic, diag.FileSet, error) {
	if len(files) == 0 {
		return nil, nil, nil, nil
	}
	fs := diag.FileSet{}
	var aps []*ast.Policy
	var ds []diag.Diagnostic
	names := make([]string, 0, len(files))
	for _, f := range files {
		ins, err := f.Read()
		if err != nil {
			return nil, nil, nil, err
		}
		for _, in := range ins {
			fs.Add(in.Files...)
			ap, pd := grammar.Parse(in)
			aps = append(aps, ap)
			ds = append(append(ds, in.Diags...), pd...)
		}
		names = append(names, f.Name)
	}
	p, conflicts := policy.Compile(aps...)
	ds = append(ds, conflicts...)
	diag.Sort(ds)
	if diag.HasErrors(ds) {
		return nil, ds, fs, nil
	}
	p.ForgetSyntax() // messages need only where the maximum's rules are written
	name := names[0]
	if len(names) > 1 {
		name = "the maximum (" + strings.Join(names, ", ") + ")"
	}
	return NewMaximum(p, name), ds, fs, nil
}
