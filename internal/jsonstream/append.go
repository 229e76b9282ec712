package jsonstream

import (
	"strconv"
	"unicode/utf8"
)

// Builder appends one JSON value without reflection, laid out byte for
// byte as Writer.Value lays it out (encoding/json, two-space indentation,
// HTML not escaped): for the elements of large documents, of which there
// may be a million, where reflection and re-indentation would cost more
// than the rest of the command. The caller writes members in the order of
// the struct it stands for, and leaves out what encoding/json's omitempty
// leaves out; a test compares each such writer with encoding/json.
//
//	var b jsonstream.Builder
//	b.Reset(depth)
//	b.Open('{')
//	b.Key("id")
//	b.String(id)
//	b.Close('}')
//	s.Next(depth - 1)
//	s.RawBytes(b.B)
type Builder struct {
	// B is the JSON appended so far.
	B     []byte
	depth int   // the nesting depth of the value being written
	count []int // members written in each open object or array
}

// Reset empties the builder for a value at nesting depth depth (as
// Writer.Value's depth: its lines after the first are indented by depth
// levels), keeping its buffers.
func (b *Builder) Reset(depth int) {
	b.B = b.B[:0]
	b.depth = depth
	b.count = b.count[:0]
}

// Open starts an object ('{') or array ('[').
func (b *Builder) Open(bracket byte) {
	b.B = append(b.B, bracket)
	b.count = append(b.count, 0)
	b.depth++
}

// Close ends the innermost object ('}') or array (']'): "{}" or "[]"
// when it has no member.
func (b *Builder) Close(bracket byte) {
	b.depth--
	n := len(b.count) - 1
	if b.count[n] > 0 {
		b.newline()
	}
	b.count = b.count[:n]
	b.B = append(b.B, bracket)
}

// Elem starts the next element of the innermost array.
func (b *Builder) Elem() {
	n := len(b.count) - 1
	if b.count[n] > 0 {
		b.B = append(b.B, ',')
	}
	b.count[n]++
	b.newline()
}

// Key starts the next member of the innermost object: its key.
func (b *Builder) Key(key string) {
	b.Elem()
	b.B = AppendString(b.B, key, false)
	b.B = append(b.B, ": "...)
}

// KeyString writes a member whose value is a string.
func (b *Builder) KeyString(key, s string) {
	b.Key(key)
	b.String(s)
}

// KeyInts writes members whose values are numbers: keys[i]: ns[i].
func (b *Builder) KeyInts(keys []string, ns ...int) {
	for i, key := range keys {
		b.Key(key)
		b.Int(ns[i])
	}
}

// List writes an array of n elements, each written by elem(i) after its
// line break: null for a nil slice (isNil), as encoding/json writes one.
func (b *Builder) List(n int, isNil bool, elem func(i int)) {
	if isNil {
		b.Null()
		return
	}
	b.Open('[')
	for i := range n {
		b.Elem()
		elem(i)
	}
	b.Close(']')
}

// newline breaks the line and indents it to the current depth.
func (b *Builder) newline() {
	b.B = append(b.B, '\n')
	b.B = append(b.B, indent(b.depth)...)
}

// String writes a string value.
func (b *Builder) String(s string) { b.B = AppendString(b.B, s, false) }

// Bool writes true or false.
func (b *Builder) Bool(v bool) { b.B = strconv.AppendBool(b.B, v) }

// Null writes null.
func (b *Builder) Null() { b.B = append(b.B, "null"...) }

// Int writes a number.
func (b *Builder) Int(n int) { b.B = strconv.AppendInt(b.B, int64(n), 10) }

// hex are the digits of \u escapes.
const hex = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as encoding/json
// escapes it: '"', '\\' and control characters; <, > and & when
// escapeHTML; invalid UTF-8 as \ufffd; U+2028 and U+2029 always.
func AppendString(dst []byte, s string, escapeHTML bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && (!escapeHTML || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
