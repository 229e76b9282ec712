package eval

import (
	"fmt"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
)

// CompileFlags parses and compiles flags as a runtime receives them, each
// "--allow-X=SPEC" or "--allow-X SPEC"; diagnostics name them flag[N]
// (from 0). A policy with diagnostics of severity error must not be used.
func CompileFlags(flags ...string) (*policy.Policy, []diag.Diagnostic) {
	ap := &ast.Policy{Name: "flags"}
	var ds []diag.Diagnostic
	for i, f := range flags {
		r, d := grammar.ParseFlag(f, diag.NewFile(fmt.Sprintf("flag[%d]", i), f))
		ds = append(ds, d...)
		if r != nil {
			r.Index = i
			ap.Rules = append(ap.Rules, r)
		}
	}
	p, cds := policy.Compile(ap)
	return p, append(ds, cds...)
}
