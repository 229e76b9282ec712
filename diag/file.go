package diag

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// File is the text of one origin, kept so that byte offsets can be turned
// into lines and columns and so that renderers can show the source line.
//
// A UTF-8 byte order mark at the start of the content is no character of
// line 1: columns count from after it, and Line leaves it out. Offsets
// still count its three bytes, so edits apply to the content as it is.
//
// Turning an offset into a position costs O(log lines) plus a bounded
// number of bytes, however long the line: a file of many flags on one line
// is read in linear time. A File is safe for concurrent use.
type File struct {
	Name    string
	Content string
	// Kind says what the origin is; its ranges carry it.
	Kind OriginKind
	// Arg is the index in argv of a command-line argument (Kind OriginArg).
	Arg   int
	lines []int // byte offset of the start of each line
	bom   int   // length of a leading byte order mark: 0 or 3
	ascii bool  // every byte is ASCII: a column is a byte count

	marksOnce sync.Once
	marks     []runeMark // non-ASCII content: a mark per markSpan bytes
}

// BOM is the UTF-8 byte order mark.
const BOM = "\uFEFF"

// runeMark records, for the first rune boundary at or after a multiple of
// markSpan bytes, its offset and how many runes precede it on its line.
type runeMark struct {
	offset, runes int
}

// markSpan is the distance in bytes between two rune marks: computing a
// column decodes at most about twice as many bytes.
const markSpan = 256

// NewFile records the content of the origin called name, a file.
func NewFile(name, content string) *File {
	lines := make([]int, 1, strings.Count(content, "\n")+1)
	ascii := true
	for i := 0; i < len(content); i++ {
		switch c := content[i]; {
		case c == '\n':
			lines = append(lines, i+1)
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	f := &File{Name: name, Content: content, lines: lines, ascii: ascii, Kind: inferKind(name)}
	if strings.HasPrefix(content, BOM) {
		f.bom = len(BOM)
	}
	return f
}

// NewArg records command-line argument i (argv[i], the program name being
// argv[0]), named "argv[i]".
func NewArg(i int, content string) *File {
	f := NewFile(fmt.Sprintf("argv[%d]", i), content)
	f.Kind, f.Arg = OriginArg, i
	return f
}

// inferKind is the kind NewFile gives an origin by its name: a file.
//
// Deprecated transition: an origin named exactly "argv[N]" is taken for an
// argument, for the one caller that still makes argument origins with
// NewFile (capspec eval's request arguments). Inputs of the command line
// use NewArg, and cli never names a file "argv[N]" (such a path is read
// as "./argv[N]"). Delete this when that caller uses NewArg.
func inferKind(name string) OriginKind {
	if strings.HasPrefix(name, "argv[") && strings.HasSuffix(name, "]") {
		return OriginArg
	}
	return OriginFile
}

// Pos returns the position of a byte offset, clamped to the content.
func (f *File) Pos(offset int) Pos {
	offset = max(0, min(offset, len(f.Content)))
	line := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > offset }) - 1
	lineStart := f.lines[line]
	start := lineStart // the byte of column 1
	if line == 0 && offset >= f.bom {
		start = f.bom // after a byte order mark
	}
	return Pos{Offset: offset, Line: line + 1, Column: f.runesBefore(lineStart, offset) - f.runesBefore(lineStart, start) + 1}
}

// runesBefore counts the runes of the content from start, the start of a
// line, to offset on that line, as utf8.RuneCountInString would.
func (f *File) runesBefore(start, offset int) int {
	if f.ascii || offset-start <= 2*markSpan {
		if f.ascii {
			return offset - start
		}
		return utf8.RuneCountInString(f.Content[start:offset])
	}
	f.marksOnce.Do(f.mark)
	// The last mark at or before offset; marks at or after start are on
	// the line, since a line start is a rune boundary.
	i := min(offset/markSpan, len(f.marks)-1)
	for i > 0 && f.marks[i].offset > offset {
		i--
	}
	if m := f.marks[i]; m.offset >= start && m.offset <= offset {
		return m.runes + utf8.RuneCountInString(f.Content[m.offset:offset])
	}
	return utf8.RuneCountInString(f.Content[start:offset])
}

// mark decodes the content once, line by line, and records a rune mark
// per markSpan bytes.
func (f *File) mark() {
	f.marks = make([]runeMark, 0, len(f.Content)/markSpan+1)
	runes, next := 0, 0
	for i := 0; i < len(f.Content); {
		if i >= next {
			f.marks = append(f.marks, runeMark{offset: i, runes: runes})
			next = (i/markSpan + 1) * markSpan
		}
		if f.Content[i] == '\n' {
			runes = 0
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(f.Content[i:])
		runes++
		i += size
	}
	if len(f.marks) == 0 {
		f.marks = append(f.marks, runeMark{})
	}
}

// Range returns the range of bytes [start, end) of the file.
func (f *File) Range(start, end int) Range {
	if end < start {
		end = start
	}
	return Range{Origin: f.Name, Kind: f.Kind, Start: f.Pos(start), End: f.Pos(end)}
}

// Line returns line n (counting from 1) without its line break.
func (f *File) Line(n int) string {
	_, line := f.lineAt(n)
	return line
}

// lineAt returns the offset of line n (counting from 1) and its text
// without its line break.
func (f *File) lineAt(n int) (int, string) {
	if n < 1 || n > len(f.lines) {
		return 0, ""
	}
	start := f.lines[n-1]
	if n == 1 {
		start = f.bom
	}
	end := len(f.Content)
	if n < len(f.lines) {
		end = f.lines[n] - 1
	}
	if end > start && f.Content[end-1] == '\r' {
		end--
	}
	return start, f.Content[start:end]
}

// LineCount returns the number of lines in the file.
func (f *File) LineCount() int { return len(f.lines) }

// A Locator turns byte offsets in a text that was read from some origin (a
// flag assembled from a file, an argument or a shell word) into ranges in
// that origin.
type Locator interface {
	Range(start, end int) Range
}

// Segment says that Len bytes of a text starting at offset Text came from
// File starting at offset Origin.
type Segment struct {
	Text   int
	File   *File
	Origin int
	Len    int
}

// Mapped locates a text assembled from segments of one or more files, in
// order of Text. Offsets outside every segment are clamped to the nearest.
type Mapped []Segment

// Range maps [start, end) of the text into the origin of start. A range that
// would run into another file stops at the end of start's segment.
func (m Mapped) Range(start, end int) Range {
	if len(m) == 0 {
		return Range{}
	}
	if end < start {
		end = start
	}
	si := m.find(start, false)
	s := m[si]
	so := s.Origin + clampInt(start-s.Text, 0, s.Len)
	ei := si
	if end > start {
		ei = m.find(end, true)
	}
	e := m[ei]
	eo := e.Origin + clampInt(end-e.Text, 0, e.Len)
	if e.File != s.File {
		eo = s.Origin + s.Len
	}
	if eo < so {
		eo = so
	}
	return s.File.Range(so, eo)
}

// find returns the segment holding offset; with atEnd, an offset on a
// boundary belongs to the segment it ends.
func (m Mapped) find(offset int, atEnd bool) int {
	i := sort.Search(len(m), func(i int) bool {
		if atEnd {
			return m[i].Text+m[i].Len >= offset
		}
		return m[i].Text+m[i].Len > offset
	})
	return min(i, len(m)-1)
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

// Window locates a text that is the bytes [Base, Base+Len) of File: a
// Mapped of one segment in 24 bytes (a flag of a flags file that is one
// word on one line), where a Mapped is a slice and its segments.
type Window struct {
	File      *File
	Base, Len int
}

// Range maps [start, end) of the text into File, clamped to the window,
// as the Mapped of one segment does.
func (w *Window) Range(start, end int) Range {
	end = max(end, start)
	so := w.Base + clampInt(start, 0, w.Len)
	eo := max(so, w.Base+clampInt(end, 0, w.Len))
	return w.File.Range(so, eo)
}

// Shift returns a locator for a text that is the length bytes of f from
// offset base on.
func Shift(f *File, base, length int) *Window {
	return &Window{File: f, Base: base, Len: length}
}
