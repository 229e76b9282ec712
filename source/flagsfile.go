package source

import (
	"strings"

	"github.com/capspec/capspec/diag"
)

// FlagsFile reads a flags file: whitespace-separated flags, any number per
// line; "#" starts a comment at the start of a line or after whitespace
// (inside a flag it introduces a family); a backslash at the end of a line
// joins it with the next. A flag name without "=" takes the next word on the
// same logical line as its value. A UTF-8 byte order mark at the start of
// the file is skipped (positions still count from the file's first byte).
type FlagsFile struct {
	Name    string // the path, or "<stdin>"
	Content string
	Stdin   bool // read from standard input
}

// originFile returns the origin of a file source: a file (whatever its
// name), or standard input.
func originFile(name, content string, stdin bool) *diag.File {
	f := diag.NewFile(name, content)
	f.Kind = diag.OriginFile
	if stdin {
		f.Kind = diag.OriginStdin
	}
	return f
}

// word is a run of non-blank text in a flags file, with continuation
// backslash-newlines removed.
type word struct {
	text    string
	segs    diag.Mapped
	start   int // origin offset of the first byte
	end     int // origin offset after the last byte
	logical int // logical line number (continuations join physical lines)
}

// Read returns the file as one input.
func (ff FlagsFile) Read() ([]*Input, error) {
	file := originFile(ff.Name, ff.Content, ff.Stdin)
	in := &Input{Name: ff.Name, Kind: FlagsInput, Files: []*diag.File{file}}
	words, comments := scanFlagsFile(file)
	// The flags, their word ranges and their locators are allocated
	// together, for files of a hundred thousand flags: a word is in one
	// flag, and a flag has a locator (a pointer to one, which an interface
	// holds without allocating): a diag.Window for a flag of one segment of
	// the file, a diag.Mapped for one continued over lines or of two words.
	flags := make([]Flag, 0, len(words))
	ranges := make([]diag.Range, 0, len(words))
	var locs []diag.Mapped                        // flags of several segments
	windows := make([]diag.Window, 0, len(words)) // flags of one (most)
	in.Flags = make([]*Flag, 0, len(words))
	ci := 0
	lastFlagLine := -1
	for wi := 0; wi < len(words); wi++ {
		w := words[wi]
		text, segs, end := w.text, w.segs, w.end
		ranges = append(ranges, file.Range(w.start, w.end))
		wordRanges := ranges[len(ranges)-1 : len(ranges) : len(ranges)]
		if takesSeparateValue(w.text) && wi+1 < len(words) && words[wi+1].logical == w.logical && !strings.HasPrefix(words[wi+1].text, "-") {
			v := words[wi+1]
			wi++
			segs = append(append(diag.Mapped{}, w.segs...), diag.Segment{Text: len(text), File: file, Origin: w.end, Len: 1})
			for _, s := range v.segs {
				s.Text += len(text) + 1
				segs = append(segs, s)
			}
			text = text + " " + v.text
			end = v.end
			ranges = append(ranges, file.Range(v.start, v.end))
			wordRanges = ranges[len(ranges)-2 : len(ranges) : len(ranges)]
		}
		idx := len(in.Flags)
		// Comments before this flag belong to it: above it, or beside the
		// previous flag when on that flag's line.
		for ; ci < len(comments) && comments[ci].Range.Start.Offset < w.start; ci++ {
			c := comments[ci]
			if c.Range.Start.Line == lastFlagLine && idx > 0 {
				c.Flag, c.Place = idx-1, Beside
			} else {
				c.Flag, c.Place = idx, Above
			}
			in.Comments = append(in.Comments, c)
		}
		var loc diag.Locator
		if len(segs) == 1 && segs[0].Text == 0 && segs[0].File == file {
			windows = append(windows, diag.Window{File: file, Base: segs[0].Origin, Len: segs[0].Len})
			loc = &windows[len(windows)-1]
		} else {
			if locs == nil { // (room for every flag left: never grown, so &locs[i] stays)
				locs = make([]diag.Mapped, 0, len(words)-len(windows))
			}
			locs = append(locs, segs)
			loc = &locs[len(locs)-1]
		}
		flags = append(flags, Flag{Text: text, Loc: loc, Words: wordRanges})
		in.Flags = append(in.Flags, &flags[len(flags)-1])
		lastFlagLine = file.Pos(end).Line
	}
	for ; ci < len(comments); ci++ {
		c := comments[ci]
		if c.Range.Start.Line == lastFlagLine && len(in.Flags) > 0 {
			c.Flag, c.Place = len(in.Flags)-1, Beside
		} else {
			c.Flag, c.Place = -1, Footer
		}
		in.Comments = append(in.Comments, c)
	}
	return []*Input{in}, nil
}

// scanFlagsFile splits a flags file into words and comments.
func scanFlagsFile(file *diag.File) ([]word, []*Comment) {
	src := file.Content
	// Sized once: a file of a hundred thousand words would otherwise grow
	// them by doubling, to twice what they hold.
	n := countRuns(src)
	words := make([]word, 0, n)
	// The segments of the words, in one array (words of one segment are
	// all but those continued over lines).
	segs := make([]diag.Segment, 0, n)
	var comments []*Comment
	logical := 0
	blank := false
	lineHasText := false
	i := SkipBOM(src)
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			if !lineHasText && i > 0 {
				blank = true
			}
			lineHasText = false
			logical++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '\\' && continuation(src, i) > 0:
			// A backslash-newline between words joins lines: same logical line.
			i += continuation(src, i)
			lineHasText = true
		case c == '#':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src)
			} else {
				end += i
			}
			text := strings.TrimRight(src[i:end], "\r")
			comments = append(comments, &Comment{Text: text, Range: file.Range(i, i+len(text)), BlankBefore: blank})
			blank = false
			lineHasText = true
			i = end
		default:
			w := word{start: i, logical: logical}
			first := len(segs)
			var b strings.Builder
			segStart := i
			for i < len(src) {
				c := src[i]
				if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' {
					break
				}
				if n := continuation(src, i); c == '\\' && n > 0 {
					// A backslash-newline inside a word is removed.
					if i > segStart {
						segs = append(segs, diag.Segment{Text: b.Len(), File: file, Origin: segStart, Len: i - segStart})
						b.WriteString(src[segStart:i])
					}
					i += n
					segStart = i
					continue
				}
				i++
			}
			if i > segStart {
				segs = append(segs, diag.Segment{Text: b.Len(), File: file, Origin: segStart, Len: i - segStart})
				if len(segs)-first > 1 {
					b.WriteString(src[segStart:i])
				}
			}
			w.segs = segs[first:len(segs):len(segs)]
			if len(w.segs) == 1 {
				s := w.segs[0] // one piece: the word is its bytes, not a copy
				w.text = src[s.Origin : s.Origin+s.Len]
			} else {
				w.text = b.String()
			}
			w.end = i
			words = append(words, w)
			blank = false
			lineHasText = true
		}
	}
	return words, comments
}

// countRuns counts the runs of non-blank bytes of src outside comments:
// at least its words and their segments (a word continued over lines is
// several runs, one per segment).
func countRuns(src string) int {
	n := 0
	blank := true
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			blank = true
		case blank && c == '#':
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j - 1 // the line break ends the comment
			} else {
				i = len(src)
			}
		default:
			if blank {
				n++
			}
			blank = false
		}
	}
	return n
}

// continuation returns the length of a backslash-newline (or
// backslash-CRLF) at i, or 0.
func continuation(src string, i int) int {
	if src[i] != '\\' {
		return 0
	}
	if i+1 < len(src) && src[i+1] == '\n' {
		return 2
	}
	if i+2 < len(src) && src[i+1] == '\r' && src[i+2] == '\n' {
		return 3
	}
	return 0
}
