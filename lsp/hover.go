package lsp

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/explain"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/policy"
)

// hover answers textDocument/hover. On a rule ID (CS204, in a
// "capspec:ignore" comment or anywhere) it shows the rule's doc; on a flag,
// what the flag allows (explain's sentence), what it implies, its
// canonical spelling when it is written otherwise, and how it stands to
// the other rules: duplicates, subsumes or is subsumed, merges, implies
// (lint's relations CS301–CS304). A flag with errors has no hover: its
// diagnostics say what is wrong.
func (s *server) hover(ctx context.Context, snap *snapshot, p TextDocumentPositionParams) (any, error) {
	t, enc := snap.text, snap.enc
	off := t.offset(p.Position, enc)
	if id, start, end := ruleIDAt(t.s, off); id != "" {
		r := rules()[id]
		doc := r.Markdown() + "\n" + fmt.Sprintf("[%s in the rule reference](%s)\n", r.ID, r.DocURL())
		rg := t.rangeOf(start, end, enc)
		return &Hover{Contents: markup(snap.markdown, doc), Range: &rg}, nil
	}
	a := s.analysisOf(ctx, snap)
	if a == nil {
		return nil, ctx.Err()
	}
	pol, i := a.flagAt(off)
	if pol == nil {
		return nil, nil
	}
	ar := ruleOfFlag(pol.policy, i)
	if ar == nil {
		return nil, nil
	}
	flag := pol.in.Flags[i]
	r := policy.CompileRule(ar)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", code(flag.Text), explain.Sentence(r))
	var notes []string
	if ir := r.ImpliedResolve(); ir != nil {
		notes = append(notes, "Implies "+code(ir.String())+" (SPEC §3.4).")
	} else {
		notes = append(notes, "Implies no other rule.")
	}
	if c := r.String(); c != flag.Text {
		notes = append(notes, "Canonical spelling: "+code(c)+".")
	}
	notes = append(notes, pol.relationNotes(i)...)
	for _, n := range notes {
		b.WriteString("\n- " + n)
	}
	b.WriteString("\n")
	rg := t.rangeOf(flag.Range().Start.Offset, flag.Range().End.Offset, enc)
	return &Hover{Contents: markup(snap.markdown, bound(b.String())), Range: &rg}, nil
}

// ruleOfFlag returns the parsed rule of flag i, or nil when it has errors.
func ruleOfFlag(p *ast.Policy, i int) *ast.Rule {
	k := sort.Search(len(p.Rules), func(k int) bool { return p.Rules[k].Index >= i })
	if k < len(p.Rules) && p.Rules[k].Index == i {
		return p.Rules[k]
	}
	return nil
}

// relationNotes says how flag i stands to the other rules of its policy.
func (p *parsed) relationNotes(i int) []string {
	p.relOnce.Do(func() { p.rels = lint.Relations(p.in, p.policy) })
	var notes []string
	for _, rel := range p.rels {
		if len(rel.Others) == 0 {
			continue
		}
		first := p.where(rel.Others[0])
		switch {
		case rel.Rule == i && rel.ID == "CS301":
			notes = append(notes, "Duplicate of "+first+" (CS301): it can be deleted.")
		case rel.Rule == i && rel.ID == "CS302":
			n := "Subsumed by " + first + " (CS302): that rule grants everything this one does"
			if len(rel.Others) > 1 {
				n += ", and " + p.where(rel.Others[1]) + " the lookup it implies"
			}
			notes = append(notes, n+".")
		case rel.Rule == i && rel.ID == "CS304":
			notes = append(notes, "Implied by the outbound rule "+first+" (CS304): it can be deleted.")
		case rel.ID == "CS303" && (rel.Rule == i || contains(rel.Others, i)):
			var others []string
			for _, o := range append([]int{rel.Rule}, rel.Others...) {
				if o != i {
					others = append(others, p.where(o))
				}
			}
			notes = append(notes, "Merges with "+strings.Join(others, ", ")+" into "+code(rel.Merged)+" (CS303).")
		case rel.ID == "CS301" && rel.Others[0] == i:
			notes = append(notes, p.where(rel.Rule)+" duplicates this rule (CS301).")
		case rel.ID == "CS302" && contains(rel.Others, i):
			notes = append(notes, "Subsumes "+p.where(rel.Rule)+" (CS302).")
		case rel.ID == "CS304" && rel.Others[0] == i:
			notes = append(notes, "Implies the resolve rule "+p.where(rel.Rule)+" (CS304).")
		}
	}
	if len(notes) > 20 {
		notes = append(notes[:20], fmt.Sprintf("… and %d more relations.", len(notes)-20))
	}
	return notes
}

// where names flag i of a policy for people: "line 3 (`--allow-…`)".
func (p *parsed) where(i int) string {
	f := p.in.Flags[i]
	return fmt.Sprintf("line %d (%s)", f.Range().Start.Line, code(cut(f.Text, 200)))
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// code writes text as a Markdown code span.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// markup returns Markdown, or for clients that cannot show it, the same
// text as plain text.
func markup(markdown bool, md string) MarkupContent {
	if markdown {
		return MarkupContent{Kind: "markdown", Value: md}
	}
	return MarkupContent{Kind: "plaintext", Value: md}
}

// ruleIDAt returns the rule ID of the word at byte offset off of s (a
// word of letters and digits such as CS204, in any case), and its byte
// range; "" when the word there is no rule ID.
func ruleIDAt(s string, off int) (id string, start, end int) {
	isWord := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	start, end = off, off
	for start > 0 && isWord(s[start-1]) && off-start < 8 {
		start--
	}
	for end < len(s) && isWord(s[end]) && end-off < 8 {
		end++
	}
	word := strings.ToUpper(s[start:end])
	if _, ok := rules()[word]; ok && len(word) == 5 {
		return word, start, end
	}
	return "", 0, 0
}
