package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// replaceFix is a fix of one edit replacing range r with text.
func replaceFix(message string, r diag.Range, text string) diag.Fix {
	return diag.Fix{Message: message, Edits: []diag.TextEdit{{Range: r, NewText: text}}}
}

// deleteFlag returns the edits that delete a flag from its origin.
//
// In a file, a flag alone on its line (with at most a comment beside it or
// a line-continuation backslash after it) is deleted with its whole line;
// a flag sharing its line with others is deleted with the blanks after it
// (or before it, when it ends the line). A flag of the command line has
// each of its words emptied.
func deleteFlag(in *source.Input, f *source.Flag) []diag.TextEdit {
	file := in.File(f.Range().Origin)
	if file == nil || f.Range().IsArg() {
		edits := make([]diag.TextEdit, 0, len(f.Words))
		for _, w := range f.Words {
			edits = append(edits, diag.TextEdit{Range: w})
		}
		return edits
	}
	src := file.Content
	s, e := f.Range().Start.Offset, f.Range().End.Offset
	ls := s
	for ls > 0 && isBlank(src[ls-1]) {
		ls--
	}
	le := e
	for le < len(src) && isBlank(src[le]) {
		le++
	}
	atLineStart := ls == 0 || src[ls-1] == '\n'
	restEmpty := le == len(src) || src[le] == '\n' || src[le] == '\r' || src[le] == '#' ||
		src[le] == '\\' && (le+1 == len(src) || src[le+1] == '\n' || src[le+1] == '\r')
	if atLineStart && restEmpty {
		end := le
		for end < len(src) && src[end] != '\n' {
			end++
		}
		if end < len(src) {
			end++ // the newline
		}
		return []diag.TextEdit{{Range: file.Range(ls, end)}}
	}
	if le == len(src) || src[le] == '\n' || src[le] == '\r' || src[le] == '#' {
		// Last on its line: take the blanks before it.
		return []diag.TextEdit{{Range: file.Range(ls, e)}}
	}
	return []diag.TextEdit{{Range: file.Range(s, le)}}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// replaceRuleValue returns the edits that make the flag of rule r read
// text ("--allow-X=SPEC"), replacing its words.
func replaceRuleValue(in *source.Input, f *source.Flag, text string) []diag.TextEdit {
	if len(f.Words) == 1 || f.Words[0].Origin == f.Words[len(f.Words)-1].Origin {
		return []diag.TextEdit{{Range: f.Range(), NewText: text}}
	}
	edits := []diag.TextEdit{{Range: f.Words[0], NewText: text}}
	for _, w := range f.Words[1:] {
		edits = append(edits, diag.TextEdit{Range: w})
	}
	return edits
}

// valueRange returns the origin range of a rule's SPEC, after the flag
// name and its separator.
func valueRange(r *ast.Rule) diag.Range {
	return r.RangeOf(r.Flag.End+1, r.End)
}
