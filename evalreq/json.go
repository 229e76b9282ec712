package evalreq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/literal"
)

// A JSON request is one object on one line (docs/eval.md):
//
//	{"op":"connect","host":"93.184.216.34","port":80,"via":"example.com"}
//
// It is decoded field by field straight into an eval.Request, each value
// read by the function that reads the same part of a text request; it is
// never written out as text and read again. Unknown fields, fields that do
// not belong to the op, duplicate fields, values of the wrong type and
// anything after the object are errors at the offending bytes.

// jsonFields are the fields a JSON request may have, by op.
var jsonFields = map[eval.Op][]string{
	eval.Lookup:  {"op", "name", "family", "answers"},
	eval.Connect: {"op", "protocol", "host", "port", "via"},
	eval.Send:    {"op", "protocol", "host", "port", "via"},
	eval.Listen:  {"op", "protocol", "local", "port"},
	eval.Bind:    {"op", "protocol", "local", "port"},
}

// allJSONFields lists every field name, for unknown-field messages.
const allJSONFields = "op, protocol, name, host, local, port, via, family, answers"

// knownJSONField reports whether a field name is one of allJSONFields.
func knownJSONField(k string) bool {
	for _, f := range jsonFields {
		if slices.Contains(f, k) {
			return true
		}
	}
	return false
}

// jsonValue is a field's value and where it is.
type jsonValue struct {
	key  span // the key, quotes included
	val  span // the value
	raw  json.RawMessage
	text string // for a string value: the string
	word word   // for a string value: the word to read and to point errors at
}

// parseJSON reads a request line holding one JSON object.
func parseJSON(text string) (Item, error) {
	fields, err := decodeObject(text)
	if err != nil {
		return Item{}, err
	}
	whole := &SyntaxError{Start: 0, End: len(text)}
	opv, ok := fields["op"]
	if !ok {
		whole.Message = "JSON request: missing op (lookup, connect, send, listen or bind)"
		return Item{}, whole
	}
	if err := opv.str(); err != nil {
		return Item{}, err
	}
	op, ok := opWords[strings.ToLower(opv.text)]
	if !ok {
		return Item{}, opv.word.errorf("JSON request: op %q must be lookup, connect, send, listen or bind", opv.text)
	}
	keys := slices.SortedFunc(maps.Keys(fields), func(a, b string) int { return fields[a].key.start - fields[b].key.start })
	for _, k := range keys {
		v := fields[k]
		if !slices.Contains(jsonFields[op], k) {
			return Item{}, &SyntaxError{Start: v.key.start, End: v.key.end,
				Message: fmt.Sprintf("JSON request: field %q does not apply to %s (its fields: %s)", k, op, strings.Join(jsonFields[op], ", "))}
		}
		if k != "port" && k != "answers" {
			if err := v.str(); err != nil {
				return Item{}, err
			}
		}
	}
	it := Item{Request: eval.Request{Op: op}}
	q := &it.Request
	if op == eval.Lookup {
		n, ok := fields["name"]
		if !ok {
			whole.Message = "JSON lookup: missing name"
			return Item{}, whole
		}
		if err := lookupTarget(q, n.word); err != nil {
			return Item{}, err
		}
		if f, ok := fields["family"]; ok {
			if err := family(q, f.word); err != nil {
				return Item{}, f.word.errorf("JSON lookup: family %q must be ipv4 or ipv6", f.text)
			}
		}
		if a, ok := fields["answers"]; ok {
			if q.Addr.IsValid() {
				return Item{}, &SyntaxError{Start: a.key.start, End: a.val.end, Message: "a lookup of an IP literal sends no query; it has no answers to record"}
			}
			if it.Answers, err = decodeAnswers(a); err != nil {
				return Item{}, err
			}
		}
		return it, nil
	}
	if p, ok := fields["protocol"]; ok {
		if err := checkProtocol(op, p.word); err != nil {
			return Item{}, err
		}
	}
	side := "host"
	if op == eval.Listen || op == eval.Bind {
		side = "local"
	}
	h, ok := fields[side]
	if !ok {
		whole.Message = fmt.Sprintf("JSON %s: missing %s", op, side)
		return Item{}, whole
	}
	pv, ok := fields["port"]
	if !ok {
		whole.Message = fmt.Sprintf("JSON %s: missing port", op)
		return Item{}, whole
	}
	port, err := pv.port()
	if err != nil {
		return Item{}, err
	}
	if err := setPort(q, port, word{text: string(pv.raw), start: pv.val.start}); err != nil {
		return Item{}, err
	}
	// IPv6 may come without brackets in JSON; a local side with colons
	// may also be an interface (eth0:1).
	hw := h.word
	switch a, err := eval.ParseAddr(hw.text); {
	case !strings.Contains(hw.text, ":") || strings.HasPrefix(hw.text, "["):
		if err := host(q, hw); err != nil {
			return Item{}, err
		}
	case err == nil:
		q.Addr = a
	case side == "local" && literal.Interface(hw.text) == nil:
		q.Local, q.Name = eval.LocalInterface, hw.text
	default:
		return Item{}, hw.fail(err)
	}
	if v, ok := fields["via"]; ok {
		if err := viaName(q, v.word); err != nil {
			return Item{}, err
		}
	}
	return it, nil
}

// decodeObject reads one JSON object of scalar or array values, keeping
// each field's value and where its key and value are. Duplicate and
// unknown fields and trailing data are errors.
func decodeObject(text string) (map[string]*jsonValue, error) {
	// Syntax first, so that every syntax error (trailing data included)
	// is positioned alike: at the byte the scanner stopped on.
	var probe json.RawMessage
	if err := json.Unmarshal([]byte(text), &probe); err != nil {
		return nil, jsonError(text, 0, err)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	offset := func() int { return int(dec.InputOffset()) }
	if tok, err := dec.Token(); err != nil {
		return nil, jsonError(text, 0, err)
	} else if tok != json.Delim('{') {
		return nil, &SyntaxError{Start: 0, End: 1, Message: "a JSON request is one object {...}"}
	}
	fields := map[string]*jsonValue{}
	for dec.More() {
		keyStart := skipSeparators(text, offset())
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError(text, keyStart, err)
		}
		key, _ := tok.(string)
		v := &jsonValue{key: span{keyStart, offset()}}
		if _, dup := fields[key]; dup {
			return nil, &SyntaxError{Start: v.key.start, End: v.key.end, Message: fmt.Sprintf("JSON request: duplicate field %q", key)}
		}
		if !knownJSONField(key) {
			return nil, &SyntaxError{Start: v.key.start, End: v.key.end, Message: fmt.Sprintf("JSON request: unknown field %q (fields: %s)", key, allJSONFields)}
		}
		valStart := skipSeparators(text, offset())
		if err := dec.Decode(&v.raw); err != nil {
			return nil, jsonError(text, valStart, err)
		}
		v.val = span{valStart, offset()}
		fields[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, jsonError(text, offset(), err)
	}
	return fields, nil
}

// skipSeparators returns the offset of the first byte at or after i that
// is no blank, ',' or ':' (where the decoder's next token starts).
func skipSeparators(text string, i int) int {
	for i < len(text) && strings.IndexByte(" \t\r\n,:", text[i]) >= 0 {
		i++
	}
	return i
}

// jsonError positions a decoding error: a syntax error at the byte the
// scanner stopped on, anything else at at.
func jsonError(text string, at int, err error) *SyntaxError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value"):
		at = max(0, min(int(se.Offset)-1, len(text)))
		return &SyntaxError{Start: at, End: len(text), Message: "unexpected data after the JSON object; a line holds one request"}
	case errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end"), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &SyntaxError{Start: len(text), End: len(text), Message: "bad JSON request: unexpected end of the object"}
	case errors.As(err, &se):
		at = max(0, int(se.Offset)-1)
		return &SyntaxError{Start: at, End: at + 1, Message: "bad JSON request: " + se.Error()}
	}
	return &SyntaxError{Start: at, End: min(at+1, len(text)), Message: "bad JSON request: " + err.Error()}
}

// str reads a string value into v.text and v.word; any other value is an
// error.
func (v *jsonValue) str() error {
	if len(v.raw) == 0 || v.raw[0] != '"' {
		return &SyntaxError{Start: v.val.start, End: v.val.end, Message: fmt.Sprintf("JSON request: %s must be a string", v.raw)}
	}
	if !utf8.Valid(v.raw) {
		// encoding/json would read each invalid byte as U+FFFD, a string
		// the line does not hold: JSON text is UTF-8, so it is an error.
		return &SyntaxError{Start: v.val.start, End: v.val.end, Message: "bad JSON string: invalid UTF-8"}
	}
	if err := json.Unmarshal(v.raw, &v.text); err != nil {
		return &SyntaxError{Start: v.val.start, End: v.val.end, Message: "bad JSON string: " + err.Error()}
	}
	v.word = word{text: v.text, start: v.val.start + 1}
	if bytes.IndexByte(v.raw, '\\') >= 0 {
		// Escapes: the string's bytes are not the line's; point at the value.
		v.word.whole = &span{v.val.start, v.val.end}
	}
	return nil
}

// port reads a port value: an integer from 0 to 65535.
func (v *jsonValue) port() (uint16, error) {
	bad := &SyntaxError{Start: v.val.start, End: v.val.end, Message: fmt.Sprintf("JSON request: port %s must be an integer from 0 to 65535", v.raw)}
	s := string(v.raw)
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, bad
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, bad
	}
	return uint16(n), nil
}

// decodeAnswers reads the answers of a lookup: an array of address
// strings, each read as a text request's answer is.
func decodeAnswers(v *jsonValue) ([]netip.Addr, error) {
	bad := &SyntaxError{Start: v.val.start, End: v.val.end, Message: "JSON request: answers must be an array of address strings"}
	raw := string(v.raw)
	dec := json.NewDecoder(strings.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, bad
	}
	out := []netip.Addr{}
	for dec.More() {
		e := jsonValue{}
		start := skipSeparators(raw, int(dec.InputOffset()))
		if err := dec.Decode(&e.raw); err != nil {
			return nil, bad
		}
		e.val = span{v.val.start + start, v.val.start + int(dec.InputOffset())}
		if err := e.str(); err != nil {
			return nil, err
		}
		a, err := answer(e.word)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, &SyntaxError{Start: v.val.start, End: v.val.end, Message: "JSON request: no answers in answers"}
	}
	return out, nil
}
