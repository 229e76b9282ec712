package lint

import (
	"strings"

	"github.com/capspec/capspec/source"
)

// IgnorePlace is a place where a "# capspec:ignore" comment silences the
// findings of a flag, as Lint honours it.
type IgnorePlace struct {
	// Beside: the comment ends the line that ends at Offset; else it goes
	// on a line of its own, inserted at Offset.
	Beside bool
	// Offset is a byte offset in the flag's origin: the start of the line
	// the comment stands above, or the end of the line it ends (before the
	// line break).
	Offset int
	// Flags are the flags of the input the comment silences (for the IDs
	// it names), in order; the flag asked about is one of them.
	Flags []int
	// Command is true when the comment silences every finding of a
	// script's command, within its flags or not (CS013).
	Command bool
}

// PlaceIgnore returns where a "# capspec:ignore" comment silences the
// findings of flag i of an input and as few other flags as lint allows
// (docs/lint.md, "Silencing findings"): on a line of its own above the
// flag's statement (a script's command; a flags file's line with the lines
// a trailing backslash joins to it), or at the end of the flag's last line
// when that line ends the statement. Of the two, the one silencing fewer
// flags; above when they silence as many. ok is false when neither place
// can hold a comment without changing what the file says (a line that
// ends with a backslash; in a script, a command that shares its first
// line and its last with other text, as in "x=$(wasmtime … \ … )"), and
// for command-line flags.
func PlaceIgnore(in *source.Input, i int) (IgnorePlace, bool) {
	if in.Kind == source.ArgsInput || i < 0 || i >= len(in.Flags) {
		return IgnorePlace{}, false
	}
	f := in.Flags[i]
	file := in.File(f.Range().Origin)
	if file == nil {
		return IgnorePlace{}, false
	}
	src := file.Content
	fl := newFlagLines(in)
	var places []IgnorePlace
	// Above the statement.
	if in.Kind == source.ScriptInput {
		c := in.Command
		if ls := lineStart(src, c.Start.Offset); c.Origin == f.Range().Origin && blank(src[ls:c.Start.Offset]) {
			ls = max(ls, source.SkipBOM(src))
			places = append(places, IgnorePlace{Offset: ls, Flags: fl.statement(i), Command: true})
		}
	} else {
		first := in.Flags[fl.first[i]].Range().Start.Offset
		places = append(places, IgnorePlace{Offset: max(lineStart(src, first), source.SkipBOM(src)), Flags: fl.statement(i)})
	}
	// At the end of the flag's last line.
	end := f.Range().End.Offset
	le := lineEnd(src, end)
	ok := !strings.HasSuffix(src[:le], "\\")
	if ok && in.Kind == source.ScriptInput {
		// The comment source.Shell gives the command ends its last line,
		// with nothing between the command and the comment.
		c := in.Command
		rest := strings.TrimLeft(src[min(c.End.Offset, le):le], " \t")
		ok = c.End.Line == f.Range().End.Line && (rest == "" || rest[0] == '#')
	}
	if ok {
		places = append(places, IgnorePlace{Beside: true, Offset: le, Flags: fl.ending[lineKey{f.Range().Origin, f.Range().End.Line}]})
	}
	if len(places) == 0 {
		return IgnorePlace{}, false
	}
	best := places[0]
	for _, p := range places[1:] {
		if len(p.Flags) < len(best.Flags) {
			best = p
		}
	}
	return best, true
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(s string, off int) int { return strings.LastIndexByte(s[:off], '\n') + 1 }

// lineEnd returns the offset of the end of the line holding off, before
// its line break.
func lineEnd(s string, off int) int {
	end := len(s)
	if i := strings.IndexByte(s[off:], '\n'); i >= 0 {
		end = off + i
	}
	if end > off && s[end-1] == '\r' {
		end--
	}
	return end
}

// blank reports whether s holds only blanks.
func blank(s string) bool { return strings.TrimLeft(s, " \t") == "" }
