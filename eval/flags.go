package eval

import (
	"fmt"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// CompileFlags parses and compiles flags as a runtime receives them, each
// "--allow-X=SPEC" or "--allow-X SPEC"; diagnostics name them flag[N]
// (from 0). A policy with diagnostics of severity error must not be used.
func CompileFlags(flags ...string) (*policy.Policy, []diag.Diagnostic) {
	in := &source.Input{Name: "flags"}
	for i, f := range flags {
		file := diag.NewFile(fmt.Sprintf("flag[%d]", i), f)
		in.Files = append(in.Files, file)
		in.Flags = append(in.Flags, &source.Flag{Text: f, Loc: file, Words: []diag.Range{file.Range(0, len(f))}})
	}
	ap, ds := grammar.Parse(in)
	p, cds := policy.Compile(ap)
	return p, append(ds, cds...)
}
