package lsp

import (
	"context"
	"errors"
	"fmt"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/normalize"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// format answers textDocument/formatting with the edit that makes the
// document what capspec fmt prints: a flags file in canonical form, or a
// script with the flag words of each command canonical and every other
// byte kept (capspec fmt --shell). A document with errors is not formatted:
// the request fails with the first error, as capspec fmt refuses it.
func (s *server) format(ctx context.Context, snap *snapshot, _ DocumentFormattingParams) (any, error) {
	formatted, err := formatText(snap)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return minimalEdits(snap.text, formatted, snap.enc), nil
}

// formatText returns the document formatted.
func formatText(snap *snapshot) (string, error) {
	content := snap.text.s
	ins, err := read(snap.name, content, snap.shell)
	if err != nil {
		var se *source.ScriptError
		if errors.As(err, &se) {
			return "", fmt.Errorf("not formatted: %s", se)
		}
		return "", err
	}
	var errs []diag.Diagnostic
	policies := make([]*ast.Policy, len(ins))
	for i, in := range ins {
		p, ds := parseInput(in, snap.cache, parseCache{})
		policies[i] = p
		_, conflicts := policy.Compile(p)
		for _, d := range append(append(append([]diag.Diagnostic(nil), in.Diags...), ds...), conflicts...) {
			if d.Severity == diag.Error {
				errs = append(errs, d)
			}
		}
	}
	if len(errs) > 0 {
		diag.Sort(errs)
		more := ""
		if len(errs) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(errs)-1)
		}
		return "", fmt.Errorf("not formatted: the policy has errors: %s%s", errs[0].Error(), more)
	}
	if !snap.shell {
		if len(ins) == 0 {
			return content, nil
		}
		return normalize.Format(policies[0], ins[0]).String(), nil
	}
	rws := make([]source.ShellRewrite, len(ins))
	for i, in := range ins {
		rws[i] = source.ShellRewrite{Input: in, Flags: normalize.Format(policies[i], in).Flags()}
	}
	return source.RewriteShell(content, rws)
}
