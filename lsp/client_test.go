package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClient is a language client for the tests: it frames messages as
// LSP does, matches responses to calls, and collects notifications. It
// talks to a server in-process (newPipeClient) or to a capspec lsp process.
type testClient struct {
	tb testing.TB
	w  io.Writer

	mu       sync.Mutex
	nextID   int
	pending  map[string]chan rpcMessage
	notes    []rpcMessage  // every notification, in order
	noteCond chan struct{} // closed and replaced on every notification
	readErr  error
	readDone chan struct{}
	frames   int            // messages read
	bytes    int            // content bytes read
	diagFrom map[string]int // per document, the notifications already searched
}

// rpcMessage is any JSON-RPC message.
type rpcMessage struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// timeout bounds every wait of the tests.
const timeout = 60 * time.Second

func newTestClient(tb testing.TB, r io.Reader, w io.Writer) *testClient {
	c := &testClient{tb: tb, w: w, pending: map[string]chan rpcMessage{}, diagFrom: map[string]int{}, noteCond: make(chan struct{}), readDone: make(chan struct{})}
	go c.read(r)
	return c
}

// newPipeClient starts a server in-process and a client talking to it. The
// returned function waits for the server to end and returns its result.
func newPipeClient(tb testing.TB, opts Options) (*testClient, func() error) {
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := Serve(context.Background(), sr, sw, opts)
		sw.Close()
		errc <- err
	}()
	c := newTestClient(tb, cr, cw)
	wait := func() error {
		select {
		case err := <-errc:
			cw.Close()
			<-c.readDone
			return err
		case <-time.After(timeout):
			tb.Fatal("the server did not end")
			return nil
		}
	}
	return c, wait
}

func (c *testClient) read(r io.Reader) {
	defer close(c.readDone)
	br := bufio.NewReader(r)
	for {
		length := -1
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				c.fail(err)
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		if length < 0 {
			c.fail(fmt.Errorf("a message without Content-Length"))
			return
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			c.fail(err)
			return
		}
		var m rpcMessage
		if err := json.Unmarshal(body, &m); err != nil {
			c.fail(fmt.Errorf("the server sent no JSON: %v: %q", err, body))
			return
		}
		c.mu.Lock()
		c.frames++
		c.bytes += length
		if m.Method != "" && m.ID == nil {
			c.notes = append(c.notes, m)
			close(c.noteCond)
			c.noteCond = make(chan struct{})
		} else if ch, ok := c.pending[string(m.ID)]; ok {
			delete(c.pending, string(m.ID))
			ch <- m
		} else if m.Method == "" {
			c.notes = append(c.notes, rpcMessage{Method: "(response)", ID: m.ID, Error: m.Error, Result: m.Result})
			close(c.noteCond)
			c.noteCond = make(chan struct{})
		}
		c.mu.Unlock()
	}
}

func (c *testClient) fail(err error) {
	c.mu.Lock()
	c.readErr = err
	close(c.noteCond)
	c.noteCond = make(chan struct{})
	c.mu.Unlock()
}

// send writes one framed message.
func (c *testClient) send(v any) {
	body, err := json.Marshal(v)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.sendRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

// sendRaw writes bytes as they are.
func (c *testClient) sendRaw(s string) {
	if _, err := io.WriteString(c.w, s); err != nil {
		c.tb.Fatalf("writing to the server: %v", err)
	}
}

// call sends a request and waits for its response; an error response is
// returned as *rpcError.
func (c *testClient) call(method string, params, result any) error {
	c.tb.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan rpcMessage, 1)
	c.pending[strconv.Itoa(id)] = ch
	c.mu.Unlock()
	c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-time.After(timeout):
		c.tb.Fatalf("%s: no response in %v", method, timeout)
		return nil
	}
}

// mustCall is call that fails the test on an error.
func (c *testClient) mustCall(method string, params, result any) {
	c.tb.Helper()
	if err := c.call(method, params, result); err != nil {
		c.tb.Fatalf("%s: %v", method, err)
	}
}

func (c *testClient) notify(method string, params any) {
	c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// waitNote waits for a notification that ok accepts, among those from
// index from on, and returns it and the index after it.
func (c *testClient) waitNote(from int, ok func(rpcMessage) bool) (rpcMessage, int) {
	c.tb.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for i := from; i < len(c.notes); i++ {
			if ok(c.notes[i]) {
				m := c.notes[i]
				c.mu.Unlock()
				return m, i + 1
			}
		}
		from = len(c.notes)
		cond, err := c.noteCond, c.readErr
		c.mu.Unlock()
		if err != nil {
			c.tb.Fatalf("waiting for a notification: %v", err)
		}
		select {
		case <-cond:
		case <-deadline:
			c.tb.Fatalf("no such notification in %v", timeout)
		}
	}
}

// noteCount returns how many notifications came so far.
func (c *testClient) noteCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.notes)
}

// diagnostics waits for the diagnostics of a version of a document.
func (c *testClient) diagnostics(uri string, version int32) []Diagnostic {
	c.tb.Helper()
	c.mu.Lock()
	from := c.diagFrom[uri]
	c.mu.Unlock()
	m, next := c.waitNote(from, func(m rpcMessage) bool {
		if m.Method != "textDocument/publishDiagnostics" || !strings.Contains(string(m.Params), uri) {
			return false
		}
		var p PublishDiagnosticsParams
		return json.Unmarshal(m.Params, &p) == nil && p.URI == uri && p.Version != nil && *p.Version == version
	})
	c.mu.Lock()
	c.diagFrom[uri] = next
	c.mu.Unlock()
	var p PublishDiagnosticsParams
	if err := json.Unmarshal(m.Params, &p); err != nil {
		c.tb.Fatal(err)
	}
	return p.Diagnostics
}

// diagnosticsWhere waits for diagnostics of a version of a document that
// ok accepts, passing over earlier publications of the same version (a
// change of settings re-publishes every open document, and one published
// before the change may still be on its way). It fails the test when none
// comes in time; the publications passed over are in the log.
func (c *testClient) diagnosticsWhere(uri string, version int32, ok func([]Diagnostic) bool) []Diagnostic {
	c.tb.Helper()
	for {
		ds := c.diagnostics(uri, version)
		if ok(ds) {
			return ds
		}
		c.tb.Logf("passing over diagnostics of %s: %+v", uri, ds)
	}
}

// initialize runs the handshake; encodings are the client's position
// encodings (none: UTF-16 only).
func (c *testClient) initialize(options any, encodings ...string) InitializeResult {
	c.tb.Helper()
	return c.initializeIn(nil, options, encodings...)
}

// initializeIn runs the handshake with a workspace root (a file: URI, or
// nil for none).
func (c *testClient) initializeIn(rootURI *string, options any, encodings ...string) InitializeResult {
	c.tb.Helper()
	caps := map[string]any{
		"textDocument": map[string]any{"hover": map[string]any{"contentFormat": []string{"markdown", "plaintext"}}},
	}
	if len(encodings) > 0 {
		caps["general"] = map[string]any{"positionEncodings": encodings}
	}
	var res InitializeResult
	c.mustCall("initialize", map[string]any{"processId": nil, "rootUri": rootURI, "capabilities": caps, "initializationOptions": options}, &res)
	c.notify("initialized", map[string]any{})
	return res
}

// open opens a document and returns its diagnostics.
func (c *testClient) open(uri, languageID, text string) []Diagnostic {
	c.tb.Helper()
	c.notify("textDocument/didOpen", DidOpenTextDocumentParams{TextDocument: TextDocumentItem{URI: uri, LanguageID: languageID, Version: 1, Text: text}})
	return c.diagnostics(uri, 1)
}

// change replaces the whole text of a document.
func (c *testClient) change(uri string, version int32, text string) {
	c.notify("textDocument/didChange", DidChangeTextDocumentParams{
		TextDocument:   VersionedTextDocumentIdentifier{URI: uri, Version: version},
		ContentChanges: []TextDocumentContentChangeEvent{{Text: text}}})
}

// shutdown ends the session as a client does.
func (c *testClient) shutdown() {
	c.tb.Helper()
	c.mustCall("shutdown", nil, nil)
	c.notify("exit", nil)
}
