// Package source reads flags from where they live — command-line arguments,
// flags files, shell scripts — and hands each policy's flags to the grammar
// as texts that remember where every byte came from.
//
// Each kind of source is one file of this package implementing Source.
package source

import (
	"strings"
	"sync/atomic"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/suggest"
)

// Source is a place flags are read from.
type Source interface {
	// Read returns the policies found in the source, in order. Problems found
	// while reading (a flag without a value, a value the source cannot know)
	// are diagnostics of the inputs; an error means nothing could be read.
	Read() ([]*Input, error)
}

// Kind says what an input was read from. It is a type, never read from the
// input's name: a flags file called "argv" is a flags file.
type Kind uint8

// The kinds of input.
const (
	FlagsInput  Kind = iota // a flags file, or standard input read as one
	ArgsInput               // the --allow-* arguments of capspec's own command line
	ScriptInput             // one command of a shell script (--shell)
)

// String names the kind: "flags file", "command line" or "shell command".
func (k Kind) String() string {
	switch k {
	case ArgsInput:
		return "command line"
	case ScriptInput:
		return "shell command"
	}
	return "flags file"
}

// Input is the text of one policy: its flags and comments, in order.
type Input struct {
	// Name names the policy for people: "policy.flags", "argv", "run.sh:4 wasmtime".
	Name string
	// Kind says what the input was read from.
	Kind Kind
	// Command is the range of a script's command in the script (Kind
	// ScriptInput), from its first word (an assignment before the command
	// name included) to its last; the zero Range for other inputs.
	Command diag.Range
	// Files holds the contents of every origin the flags come from.
	Files []*diag.File
	// Flags are the flags in order.
	Flags []*Flag
	// Comments are the comments around the flags, in order (flags files and
	// shell scripts).
	Comments []*Comment
	// Diags are problems found while reading.
	Diags []diag.Diagnostic

	fileIndex atomic.Pointer[fileIndex] // Files by name, for File
}

// File returns the origin called name, or nil.
func (in *Input) File(name string) *diag.File {
	if len(in.Files) <= 8 {
		for _, f := range in.Files {
			if f.Name == name {
				return f
			}
		}
		return nil
	}
	// The command line is a file per argument: tens of thousands of flags
	// would make a scan per question quadratic. The index is made on the
	// first question and again if Files changed (another length, another
	// first or last file); it is safe for concurrent use.
	idx := in.fileIndex.Load()
	n := len(in.Files)
	if idx == nil || idx.n != n || idx.first != in.Files[0] || idx.last != in.Files[n-1] {
		idx = &fileIndex{n: n, first: in.Files[0], last: in.Files[n-1], byName: make(map[string]*diag.File, n)}
		for _, f := range in.Files {
			if _, ok := idx.byName[f.Name]; !ok {
				idx.byName[f.Name] = f
			}
		}
		in.fileIndex.Store(idx)
	}
	return idx.byName[name]
}

// fileIndex is an Input's files by name (the first of each name), made
// from n files, first and last the first and the last of them.
type fileIndex struct {
	n           int
	first, last *diag.File
	byName      map[string]*diag.File
}

// Flag is one flag as the grammar sees it: "--allow-X=SPEC" or
// "--allow-X SPEC" (two words joined by one space), with where it came from.
type Flag struct {
	Text string
	// Loc maps byte offsets of Text to the origin.
	Loc diag.Locator
	// Words is the origin range of each word of the flag: one for
	// "--allow-X=SPEC", two for the two-word form. Range derives the
	// flag's range from them.
	Words []diag.Range
	// Globs are the origin ranges of unquoted "*" characters that a shell
	// would subject to pathname expansion (shell scripts only).
	Globs []diag.Range
}

// Range returns the range the flag covers in its origin, from the first
// byte of the flag name to the last byte of the value; for a two-word
// flag whose words are in different origins (two command-line
// arguments), the range of its first word. (It is computed: a file of a
// hundred thousand flags keeps one range per word, not one more per flag.)
func (f *Flag) Range() diag.Range {
	if len(f.Words) == 0 {
		return diag.Range{}
	}
	r := f.Words[0]
	if last := f.Words[len(f.Words)-1]; last.Origin == r.Origin && last.Kind == r.Kind {
		r.End = last.End
	}
	return r
}

// CommentPlace says where a comment stands relative to its flag.
type CommentPlace uint8

// Where comments stand.
const (
	Above  CommentPlace = iota // on a line of its own before the flag
	Beside                     // at the end of the flag's line
	Footer                     // after the last flag
)

// Comment is a "#" comment of a flags file or script.
type Comment struct {
	// Text is the comment from "#" to the end of its line.
	Text  string
	Range diag.Range
	// Flag is the index of the flag the comment belongs to, or -1 for a
	// comment after the last flag.
	Flag  int
	Place CommentPlace
	// BlankBefore reports an empty line just before the comment.
	BlankBefore bool
}

// IsFlagName reports whether s is one of the three flag names.
func IsFlagName(s string) bool {
	_, ok := ast.KindOfFlag(s)
	return ok
}

// NearFlagName reports whether a word's flag name (the part before "=")
// is one of the three flag names or a misspelling of one (within two
// edits: --allow-outboud, --alow-inbound, -allow-resolve). Such words are
// flags for capspec: it reports a misspelled one with a suggestion (CS001)
// rather than skipping it. --allow-env and other tools' flags are not.
func NearFlagName(word string) bool {
	name, _, _ := strings.Cut(word, "=")
	if IsFlagName(name) {
		return true
	}
	if len(name) > 24 || !strings.HasPrefix(name, "-") {
		return false
	}
	return suggest.Near(name, 2, ast.FlagNames()...)
}

// SkipBOM returns the offset at which the text of a file starts: after a
// UTF-8 byte order mark, which editors write and readers skip.
func SkipBOM(content string) int {
	if strings.HasPrefix(content, diag.BOM) {
		return len(diag.BOM)
	}
	return 0
}

// takesSeparateValue reports whether word is a flag name written without
// "=", so that the next word is its value.
func takesSeparateValue(word string) bool {
	return strings.HasPrefix(word, "-") && !strings.Contains(word, "=")
}
