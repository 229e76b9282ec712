package lsp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Bounds of the wire format. A message larger than maxMessage is skipped
// (read and dropped, never held in memory) and answered with an error, so
// that no client can make the server allocate without bound.
const (
	maxMessage    = 64 << 20 // bytes of one message's content
	maxHeaderLine = 4 << 10  // bytes of one header line
)

// stream is the LSP base protocol over a byte stream: messages framed by a
// Content-Length header. It implements jsonrpc2.ObjectStream and survives
// bad input: a frame that is not JSON is answered with a parse error, one
// that is JSON but no JSON-RPC message with an invalid-request error, and
// reading goes on with the next frame. Only the end or failure of the
// underlying stream ends it.
type stream struct {
	max    int // bytes of one message's content: maxMessage
	r      *bufio.Reader
	closer io.Closer // closes the input; may be nil

	wmu sync.Mutex
	w   io.Writer
}

func newStream(r io.Reader, w io.Writer) *stream {
	s := &stream{max: maxMessage, r: bufio.NewReaderSize(r, 64<<10), w: w}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	return s
}

// errFrame is a frame that cannot be read as a message; the stream goes on.
type errFrame struct {
	code int64
	msg  string
	id   json.RawMessage // the request's id, when it could be read
}

func (e *errFrame) Error() string { return e.msg }

// ReadObject reads the next message that decodes into v. Frames that do not
// are answered with an error response and skipped.
func (s *stream) ReadObject(v any) error {
	for {
		body, err := s.readFrame()
		if err == nil {
			err = decodeMessage(body, v)
		}
		var bad *errFrame
		if errors.As(err, &bad) {
			if werr := s.writeError(bad); werr != nil {
				return werr
			}
			continue
		}
		return err
	}
}

// decodeMessage decodes one message's content into v, or says why it is
// no message.
func decodeMessage(body []byte, v any) error {
	if !json.Valid(body) {
		return &errFrame{code: -32700, msg: "parse error: the message is not JSON"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var probe struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(body, &probe)
		id := probe.ID
		if !validID(id) {
			id = nil
		}
		return &errFrame{code: -32600, msg: "invalid request: " + err.Error(), id: id}
	}
	return nil
}

// validID reports whether raw is a JSON-RPC id: a number or a string.
func validID(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '"' || raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

// readFrame reads the headers and the content of one message. A frame
// whose headers make no sense, or whose content is too large, is an
// *errFrame (its content, if any, is skipped); a failure of the
// underlying reader is returned as it is.
func (s *stream) readFrame() ([]byte, error) {
	length := -1
	sawHeader := false
	var bad string
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, err
		}
		if line == "" {
			if !sawHeader {
				continue // blank lines between messages
			}
			break
		}
		sawHeader = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			bad = "malformed header line"
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 0 {
				bad = "bad Content-Length " + strconv.Quote(strings.TrimSpace(value))
				continue
			}
			length = n
		}
	}
	switch {
	case length < 0 && bad == "":
		return nil, &errFrame{code: -32700, msg: "parse error: a message without Content-Length"}
	case length < 0:
		return nil, &errFrame{code: -32700, msg: "parse error: " + bad}
	case length > s.max:
		if _, err := io.CopyN(io.Discard, s.r, int64(length)); err != nil {
			return nil, err
		}
		return nil, &errFrame{code: -32600, msg: fmt.Sprintf("invalid request: a message of %d bytes is larger than %d", length, s.max)}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(s.r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// readLine reads one header line without its line end. A line longer than
// maxHeaderLine is read to its end and returned cut.
func (s *stream) readLine() (string, error) {
	var b []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(b) < maxHeaderLine {
			b = append(b, chunk[:min(len(chunk), maxHeaderLine-len(b))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// WriteObject writes one message.
func (s *stream) WriteObject(obj any) error {
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return s.write(body)
}

func (s *stream) write(body []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	frame := make([]byte, 0, len(body)+32)
	frame = append(frame, "Content-Length: "...)
	frame = strconv.AppendInt(frame, int64(len(body)), 10)
	frame = append(frame, "\r\n\r\n"...)
	frame = append(frame, body...)
	_, err := s.w.Write(frame)
	return err
}

// writeError answers a frame that is no message.
func (s *stream) writeError(e *errFrame) error {
	id := json.RawMessage("null")
	if e.id != nil {
		id = e.id
	}
	body, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: "2.0", ID: id, Error: struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	}{e.code, e.msg}})
	if err != nil {
		return err
	}
	return s.write(body)
}

// Close closes the input, which ends reading.
func (s *stream) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
