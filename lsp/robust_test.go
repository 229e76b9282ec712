package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestBadMessages sends what no client should: the server answers what can
// be answered and goes on.
func TestBadMessages(t *testing.T) {
	c, _ := start(t, Options{}, nil)
	const uri = "file:///w/ok.flags"
	c.open(uri, "capspec", "--allow-inbound=tcp://*:80\n")
	frame := func(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }
	tests := []struct {
		name, raw string
		code      int64
		id        string
	}{
		{"not JSON", frame("{bad json"), -32700, "null"},
		{"JSON but no message", frame(`{"foo":1}`), -32600, "null"},
		{"a method that is no string", frame(`{"jsonrpc":"2.0","id":71,"method":5}`), -32600, "71"},
		{"no Content-Length", "Content-Type: application/json\r\n\r\n", -32700, "null"},
		{"a bad Content-Length", "Content-Length: -4\r\n\r\n", -32700, "null"},
		{"an unknown method", frame(`{"jsonrpc":"2.0","id":72,"method":"capspec/nothing"}`), -32601, "72"},
		{"bad params", frame(`{"jsonrpc":"2.0","id":73,"method":"textDocument/hover","params":{"position":"here"}}`), -32602, "73"},
	}
	for _, tt := range tests {
		n := c.noteCount()
		c.sendRaw(tt.raw)
		m, _ := c.waitNote(n, func(m rpcMessage) bool { return m.Method == "(response)" })
		if m.Error == nil || m.Error.Code != tt.code || string(m.ID) != tt.id {
			t.Errorf("%s: answered %s %+v, want code %d id %s", tt.name, m.ID, m.Error, tt.code, tt.id)
		}
	}
	// Notifications the server does not know, or cannot read, or about
	// documents that are not open, are dropped.
	c.sendRaw(frame(`{"jsonrpc":"2.0","method":"capspec/unknown","params":[1,2]}`))
	c.sendRaw(frame(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":"garbage"}`))
	c.change("file:///w/never-opened.flags", 2, "x")
	c.notify("textDocument/didChange", DidChangeTextDocumentParams{TextDocument: VersionedTextDocumentIdentifier{URI: uri, Version: 2},
		ContentChanges: []TextDocumentContentChangeEvent{{Range: &Range{Start: Position{0, 9}, End: Position{0, 2}}, Text: "x"}}})
	c.notify("$/cancelRequest", map[string]any{"id": 12345})
	// Requests about documents that are not open are answered with null.
	for _, method := range []string{"textDocument/hover", "textDocument/completion", "textDocument/formatting", "textDocument/codeAction"} {
		var res json.RawMessage
		c.mustCall(method, posParams("file:///w/never-opened.flags", 0, 0), &res)
		if string(res) != "null" {
			t.Errorf("%s of a document not open: %s", method, res)
		}
	}
	// And the server still works.
	var h *Hover
	c.mustCall("textDocument/hover", posParams(uri, 0, 3), &h)
	if h == nil || !strings.Contains(h.Contents.Value, "listening") {
		t.Errorf("hover after the bad messages: %+v", h)
	}
}

func TestStreamSkipsLargeMessages(t *testing.T) {
	var out bytes.Buffer
	big := strings.Repeat("x", 5000)
	in := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(big), big) +
		"X-Long-Header: " + strings.Repeat("h", 3*maxHeaderLine) + "\r\n" +
		"Content-Length: 13\r\n\r\n" + `{"method":"a"}`[:13]
	s := newStream(strings.NewReader(in), &out)
	s.max = 1000
	var v map[string]any
	err := s.ReadObject(&v)
	if !strings.Contains(out.String(), "larger than 1000") {
		t.Errorf("the large message was not answered: %q", out.String())
	}
	// The third frame is cut short of its closing brace: not JSON, then EOF.
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadObject = %v, %v", v, err)
	}
	if strings.Count(out.String(), "Content-Length") != 2 {
		t.Errorf("answers: %q", out.String())
	}
}

// TestHostileDocuments opens documents meant to hurt: the server answers
// every request, publishes a bounded number of bounded diagnostics, and
// keeps working.
func TestHostileDocuments(t *testing.T) {
	c, _ := start(t, Options{}, nil)
	oneMiB := 1 << 20
	// Lines of 1 MiB are single huge flags or comments: a 1 MiB line of
	// thousands of flags costs the reading in package source time
	// quadratic in the line's length today (diag.File.Pos counts the runes
	// from the start of the line for every flag), so many flags on one
	// line are tried at 64 KiB.
	docs := []struct{ name, lang, text string }{
		{"a 1 MiB word", "capspec", "--allow-outbound=tcp://" + strings.Repeat("a", oneMiB) + ":80\n--allow-inbound=tcp://*:80"},
		{"a 1 MiB fullwidth word", "capspec", "--allow-outbound=tcp://" + strings.Repeat("ａ😀", oneMiB/7) + ":80 --allow-inbound=tcp://*:80"},
		{"a 1 MiB port list", "capspec", "--allow-outbound=tcp://a.example:" + strings.Repeat("80,", oneMiB/3) + "81"},
		{"a 1 MiB comment of garbage", "capspec", "--allow-inbound=tcp://*:80 # " + strings.Repeat("\x00\xff😀ｆ\u202e", oneMiB/16) + "\n"},
		{"a 1 MiB script line", "shellscript", "run --allow-inbound='tcp://*:80' '" + strings.Repeat("\x01x", oneMiB/2) + "'\n"},
		{"a 64 KiB line of flags", "capspec", strings.Repeat("--allow-outbound=tcp://a.example:1 ", 64<<10/35)},
		{"a 64 KiB script line of flags", "shellscript", "run" + strings.Repeat(" --allow-inbound='tcp://*:80'", 64<<10/29) + "\n"},
		{"NUL bytes", "capspec", "--allow-outbound=tcp://a\x00.example:80\n\x00\x00--allow-inbound=tcp://*:8\x000\n"},
		{"NUL in a script", "shellscript", "run --allow-inbound='tcp://*:80'\x00\n"},
		{"fullwidth", "capspec", "--ａｌｌｏｗ-ｏｕｔｂｏｕｎｄ=ｔｃｐ://ｅｘａｍｐｌｅ.ｃｏｍ:８０ --allow-resolve=ｌｏｃａｌｈｏｓｔ\n"},
		{"bidi and zero-width", "capspec", "--allow-outbound=tcp://exa\u202emple.com:80 --allow-resolve=a\u200b.example\n"},
		{"many lines", "capspec", strings.Repeat("--allow-inbound=tcp://*:80\n", 20000)},
		{"deep shell nesting", "shellscript", strings.Repeat("$(", 2000) + "x" + strings.Repeat(")", 2000) + "\n"},
	}
	for i, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			uri := fmt.Sprintf("file:///w/hostile%d.%s", i, map[string]string{"capspec": "flags", "shellscript": "sh"}[d.lang])
			c.mu.Lock()
			before := c.bytes
			c.mu.Unlock()
			began := time.Now()
			ds := c.open(uri, d.lang, d.text)
			c.mu.Lock()
			published := c.bytes - before
			c.mu.Unlock()
			t.Logf("%d diagnostics, %d bytes, in %v", len(ds), published, time.Since(began))
			if len(ds) > maxDiagnostics+2 {
				t.Errorf("%d diagnostics", len(ds))
			}
			if published > 2<<20 {
				t.Errorf("%d bytes published", published)
			}
			for _, x := range ds {
				if len(x.Message) > maxMessageLen+len("…") {
					t.Errorf("a message of %d bytes", len(x.Message))
				}
			}
			var h json.RawMessage
			c.mustCall("textDocument/hover", posParams(uri, 0, 20), &h)
			var list CompletionList
			c.mustCall("textDocument/completion", posParams(uri, 0, 17), &list)
			var acts []CodeAction
			c.mustCall("textDocument/codeAction", actionParams(uri, Range{End: Position{0, 100}}, "quickfix"), &acts)
			if len(acts) > maxActions+1 {
				t.Errorf("%d code actions", len(acts))
			}
			// Formatting either works or fails with a message.
			var rerr *rpcError
			if err := c.call("textDocument/formatting", docParams(uri), nil); err != nil && !errors.As(err, &rerr) {
				t.Errorf("formatting: %v", err)
			}
			c.notify("textDocument/didClose", DidCloseTextDocumentParams{TextDocument: TextDocumentIdentifier{URI: uri}})
		})
	}
	// Invalid UTF-8 on the wire: the JSON decoder reads it as U+FFFD.
	body := `{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///w/utf.flags","languageId":"capspec","version":1,"text":"--allow-outbound=tcp://a` + "\xff\xfe" + `.example:80 --allow-inbound=tcp://*:80\n"}}}`
	c.sendRaw(fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
	ds := c.diagnostics("file:///w/utf.flags", 1)
	if got := codes(ds); !slices.Equal(got, []string{"CS001", "CS204", "CS206"}) {
		t.Errorf("invalid UTF-8: %v", got)
	}
}

// TestNoGoroutineLeak ends sessions with work pending: a debounced
// analysis, an analysis running, requests in flight. Every goroutine the
// server started has ended when Serve returns.
func TestNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, orderly := range []bool{true, false} {
		c, wait := newPipeClient(t, Options{Debounce: time.Hour})
		c.initialize(nil)
		const uri = "file:///w/leak.flags"
		c.open(uri, "capspec", genFlags(3000))
		// Version 2 waits an hour; the new settings analyse it now.
		c.change(uri, 2, genFlags(3001))
		c.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"minSeverity": "warning"}})
		for i := range 5 {
			c.send(map[string]any{"jsonrpc": "2.0", "id": 1000 + i, "method": "textDocument/codeAction", "params": actionParams(uri, Range{}, "source.fixAll")})
		}
		c.send(map[string]any{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": map[string]any{"id": 1001}})
		if orderly {
			c.send(map[string]any{"jsonrpc": "2.0", "id": 999, "method": "shutdown"})
			c.notify("exit", nil)
		} else {
			c.w.(io.Closer).Close()
		}
		err := wait()
		if orderly && err != nil || !orderly && !errors.Is(err, ErrExitWithoutShutdown) {
			t.Errorf("orderly %v: Serve = %v", orderly, err)
		}
	}
}

// TestCancelRequest cancels a request in flight: it is answered, with
// RequestCancelled or (when it finished first) its result, never left
// without an answer.
func TestCancelRequest(t *testing.T) {
	c, _ := start(t, Options{}, nil)
	const uri = "file:///w/cancel.flags"
	c.open(uri, "capspec", genFlags(3000))
	c.change(uri, 2, genFlags(3001)) // the next request analyses the new version
	ch := make(chan rpcMessage, 1)
	c.mu.Lock()
	c.pending["900"] = ch
	c.mu.Unlock()
	c.send(map[string]any{"jsonrpc": "2.0", "id": 900, "method": "textDocument/codeAction", "params": actionParams(uri, Range{}, "source.fixAll")})
	c.notify("$/cancelRequest", map[string]any{"id": 900})
	select {
	case m := <-ch:
		if m.Error != nil && m.Error.Code != codeRequestCancelled {
			t.Errorf("cancelled request answered %+v", m.Error)
		}
		t.Logf("answered: error %v, result %d bytes", m.Error, len(m.Result))
	case <-time.After(timeout):
		t.Fatal("the cancelled request was never answered")
	}
}

// TestContextEnds: a session ends when Serve's context does, with work
// pending, and leaves no goroutine behind.
func TestContextEnds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, sr, sw, Options{Debounce: time.Hour}); sw.Close() }()
	c := newTestClient(t, cr, cw)
	c.initialize(nil)
	c.open("file:///w/ctx.flags", "capspec", genFlags(2000))
	c.change("file:///w/ctx.flags", 2, genFlags(2001))
	for i := range 3 {
		c.send(map[string]any{"jsonrpc": "2.0", "id": 50 + i, "method": "textDocument/hover", "params": posParams("file:///w/ctx.flags", 3, 3)})
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrExitWithoutShutdown) {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(timeout):
		t.Fatal("Serve did not end with its context")
	}
	cw.Close()
	<-c.readDone
}
