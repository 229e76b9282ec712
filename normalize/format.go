package normalize

import (
	"slices"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// Comment is a comment of a flags file in the canonical form.
type Comment struct {
	// Text is the comment from "#" to the end of its line.
	Text string
	// Flag is the index of the flag the comment was written with (above or
	// beside it), or -1 for a header or footer comment.
	Flag int
	// Beside reports that the comment stood at the end of its flag's line.
	Beside bool
	// BlankBefore reports an empty line before the comment (kept inside
	// the header and the footer only).
	BlankBefore bool
}

// Rule is one rule of the canonical form and the comments that travel
// with it.
type Rule struct {
	*policy.Rule
	// Comments are the comments of every flag the rule stands for — the
	// flags merged into it and the flags of the rules it subsumed — in the
	// order of those flags.
	Comments []Comment
}

// Result is the canonical form of one policy.
type Result struct {
	// Header are the comments at the top of the file: those above the
	// first flag, up to the last one followed by an empty line.
	Header []Comment
	// Rules are the canonical rules, in canonical order.
	Rules []Rule
	// Footer are the comments after the last flag (and every comment of a
	// file without flags).
	Footer []Comment
}

// Format returns the canonical form of a policy parsed from in (SPEC §4),
// with the comments of in: a comment above or beside a flag travels with
// the rule of that flag; a merged rule keeps the comments of all its
// flags, in order; the comments of a rule dropped by Subsume go to the rule
// that grants what it granted (for a resolve rule an outbound rule
// implies, that outbound rule). Header and footer comments stay at the top
// and bottom. No comment is lost. in may be nil (no comments).
//
// The result grants exactly what p grants, provided p compiles without
// errors (policy.Compile); a policy with errors is not to be formatted.
func Format(p *ast.Policy, in *source.Input) *Result {
	var ars []*ast.Rule
	if p != nil {
		ars = p.Rules
	}
	kept, dropped := steps(ars)
	res := &Result{Rules: make([]Rule, len(kept))}
	// owner maps a flag index to the position of the rule that keeps its comments.
	owner := map[int]int{}
	pos := make(map[*policy.Rule]int, len(kept)+len(dropped))
	for i, r := range kept {
		res.Rules[i].Rule = r
		pos[r] = i
		for _, s := range r.Sources {
			owner[s.Index] = i
		}
	}
	// A dropped rule's By was kept when it was dropped: it is kept, or
	// dropped later. Going backwards, its place is known.
	for i := len(dropped) - 1; i >= 0; i-- {
		d := dropped[i]
		by := d.By
		if by.ImpliedBy != nil {
			by = by.ImpliedBy
		}
		at, ok := pos[by]
		if !ok {
			continue // cannot happen: by is kept or dropped later
		}
		pos[d.Rule] = at
		for _, s := range d.Rule.Sources {
			owner[s.Index] = at
		}
	}
	if in == nil {
		return res
	}
	header := headerSize(in)
	for i, c := range in.Comments {
		nc := Comment{Text: c.Text, Flag: c.Flag, Beside: c.Place == source.Beside, BlankBefore: c.BlankBefore}
		at, ok := owner[c.Flag]
		switch {
		case i < header:
			nc.Flag, nc.Beside = -1, false
			res.Header = append(res.Header, nc)
		case c.Place == source.Footer || !ok:
			// A comment of a flag that is not in the policy (one with
			// errors) is kept in the footer rather than lost.
			nc.Flag, nc.Beside = -1, false
			res.Footer = append(res.Footer, nc)
		default:
			nc.BlankBefore = false
			res.Rules[at].Comments = append(res.Rules[at].Comments, nc)
		}
	}
	for i := range res.Rules {
		slices.SortStableFunc(res.Rules[i].Comments, func(a, b Comment) int { return a.Flag - b.Flag })
	}
	return res
}

// headerSize returns how many of the first comments of in are a header:
// comments above the first flag, up to the last one followed by an empty
// line. A comment block written right above the first flag describes that
// flag and travels with it.
func headerSize(in *source.Input) int {
	if len(in.Flags) == 0 {
		return 0
	}
	n := 0
	for n < len(in.Comments) && in.Comments[n].Flag == 0 && in.Comments[n].Place == source.Above {
		n++
	}
	for j := n - 1; j >= 0; j-- {
		next := false
		if j+1 < n {
			next = in.Comments[j+1].BlankBefore
		} else {
			next = in.Flags[0].Range().Start.Line > in.Comments[j].Range.End.Line+1
		}
		if next {
			return j + 1
		}
	}
	return 0
}

// Flags returns the canonical flags, one string each.
func (r *Result) Flags() []string {
	out := make([]string, len(r.Rules))
	for i, rl := range r.Rules {
		out[i] = rl.String()
	}
	return out
}

// String prints the canonical form as a flags file: the header; one flag a
// line, each after the comments that travel with it (a single comment that
// stood beside one of its flags stays beside it); the footer. Empty lines
// set off the header, the footer, and each rule that has comments above it.
func (r *Result) String() string {
	var b strings.Builder
	gap := false // an empty line is due before the next item
	started := false
	writeBlock := func(cs []Comment) {
		for i, c := range cs {
			if i > 0 && c.BlankBefore {
				b.WriteByte('\n')
			}
			b.WriteString(c.Text)
			b.WriteByte('\n')
		}
	}
	if len(r.Header) > 0 {
		writeBlock(r.Header)
		started, gap = true, true
	}
	for _, rl := range r.Rules {
		above, beside := rl.Comments, ""
		if n := len(above); n > 0 && above[n-1].Beside && !slices.ContainsFunc(above[:n-1], func(c Comment) bool { return c.Beside }) {
			above, beside = above[:n-1], above[n-1].Text
		}
		if started && (gap || len(above) > 0) {
			b.WriteByte('\n')
		}
		for _, c := range above {
			b.WriteString(c.Text)
			b.WriteByte('\n')
		}
		b.WriteString(rl.String())
		if beside != "" {
			b.WriteByte(' ')
			b.WriteString(beside)
		}
		b.WriteByte('\n')
		started, gap = true, len(above) > 0
	}
	if len(r.Footer) > 0 {
		if started {
			b.WriteByte('\n')
		}
		writeBlock(r.Footer)
	}
	return b.String()
}
