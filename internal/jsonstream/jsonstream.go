// Package jsonstream writes a large JSON document piece by piece, laid out
// byte for byte as encoding/json's indentation with two spaces lays out the
// whole document, so that output of any size needs memory for one element
// at a time.
//
//	s := jsonstream.New(w, false)
//	s.Raw("{\n  \"items\": ")
//	s.Open('[')
//	for _, it := range items {
//		s.Elem(1, it) // an element of an array nested at depth 1
//	}
//	s.Close(1, ']')
//	s.Raw("\n}\n")
//	err := s.Flush()
package jsonstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// Writer writes one JSON document in pieces. The first error of the
// underlying writer or of encoding is kept and returned by Flush.
type Writer struct {
	w          *bufio.Writer
	buf        bytes.Buffer
	enc        *json.Encoder // writes to buf, kept with its buffers
	escapeHTML bool
	count      []int // elements written in each open array or object
	err        error
}

// New returns a Writer to w. escapeHTML says whether <, > and & in strings
// are escaped, as json.Marshal does and json.Encoder.SetEscapeHTML(false)
// does not.
func New(w io.Writer, escapeHTML bool) *Writer {
	s := &Writer{w: bufio.NewWriterSize(w, 64<<10), escapeHTML: escapeHTML}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(escapeHTML)
	return s
}

// indent returns the indentation of depth levels, two spaces each.
func indent(depth int) string {
	const spaces = "                                                                "
	if 2*depth <= len(spaces) {
		return spaces[:2*depth]
	}
	return strings.Repeat("  ", depth)
}

// Raw writes text as it is: punctuation, keys, line breaks.
func (s *Writer) Raw(text string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(text)
	}
}

// RawBytes writes text as it is, as Raw does.
func (s *Writer) RawBytes(text []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(text)
	}
}

// Value writes v encoded as it would be inside a document indented with
// two spaces, at nesting depth depth (0 for the top level): every line
// after the first is indented by depth levels.
func (s *Writer) Value(depth int, v any) {
	if s.err != nil {
		return
	}
	s.buf.Reset()
	s.enc.SetIndent(indent(depth), "  ")
	if s.err = s.enc.Encode(v); s.err != nil {
		return
	}
	_, s.err = s.w.Write(bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")))
}

// Open starts an array ('[') or object ('{') whose elements Elem writes.
func (s *Writer) Open(bracket byte) {
	s.Raw(string(bracket))
	s.count = append(s.count, 0)
}

// Elem writes the next element of the innermost open array, which stands
// at nesting depth depth: a comma after the previous element, a line
// break, the indentation, and v.
func (s *Writer) Elem(depth int, v any) {
	s.Next(depth)
	s.Value(depth+1, v)
}

// Next starts the next element of the innermost open array or object at
// depth depth (a comma after the previous one, a line break and the
// indentation), for an element the caller writes itself.
func (s *Writer) Next(depth int) {
	if n := len(s.count) - 1; n >= 0 {
		if s.count[n] > 0 {
			s.Raw(",")
		}
		s.count[n]++
	}
	s.Raw("\n")
	s.Raw(indent(depth + 1))
}

// Close ends the innermost open array (']') or object ('}') at depth
// depth: "[]" when it has no element, else a line break and the closing
// bracket at the depth's indentation.
func (s *Writer) Close(depth int, bracket byte) {
	n := len(s.count) - 1
	if n >= 0 && s.count[n] > 0 {
		s.Raw("\n")
		s.Raw(indent(depth))
	}
	if n >= 0 {
		s.count = s.count[:n]
	}
	s.Raw(string(bracket))
}

// Flush writes what is buffered and returns the first error.
func (s *Writer) Flush() error {
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

// Element returns v encoded as Writer.Elem(depth, v) writes it after the
// line break and the indentation: what a Builder reset to depth+1 must
// write for v, which tests compare.
func Element(depth int, v any) (string, error) {
	var b strings.Builder
	s := New(&b, false)
	s.Value(depth+1, v)
	err := s.Flush()
	return b.String(), err
}

// Whole returns v encoded at once, indented with two spaces and ending in
// a line break: what a document written in pieces must equal.
func Whole(v any, escapeHTML bool) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.String(), err
}
