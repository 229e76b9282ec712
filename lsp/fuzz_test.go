package lsp

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/capspec/capspec/internal/syncbuf"
)

// FuzzPositions checks the conversions between byte offsets and LSP
// positions against the test oracle on arbitrary text, in both encodings:
// every rune start round-trips, and every position maps to a rune start.
func FuzzPositions(f *testing.F) {
	f.Add("--allow-outbound=tcp://ｅｘ😀.com:80\r\nx\ry\n")
	f.Add("\xff\xfe\xe2\x82 \r\r\n\n")
	f.Add(strings.Repeat("ａ😀", 300) + "\n" + strings.Repeat("b", 700))
	f.Fuzz(func(t *testing.T, s string) {
		tx := newText(s)
		for _, enc := range []string{encodingUTF8, encodingUTF16} {
			for off := 0; off <= len(s); off++ {
				if off < len(s) && tx.runeStart(off) != off || off > 0 && off < len(s) && s[off] == '\n' && s[off-1] == '\r' {
					continue
				}
				p := tx.position(off, enc)
				if want := naivePosition(s, off, enc); p != want {
					t.Fatalf("%s: position(%d) = %+v, want %+v", enc, off, p, want)
				}
				if back := tx.offset(p, enc); back != off {
					t.Fatalf("%s: offset(%+v) = %d, want %d", enc, p, back, off)
				}
				// Characters inside and past the rune map to rune starts.
				for d := uint32(1); d <= 2; d++ {
					o := tx.offset(Position{p.Line, p.Character + d}, enc)
					if o < len(s) && o != tx.runeStart(o) || o < off {
						t.Fatalf("%s: offset(%d:%d) = %d is no rune start after %d", enc, p.Line, p.Character+d, o, off)
					}
				}
			}
		}
		if utf8.ValidString(s) && tx.offset(Position{Line: 1 << 31}, encodingUTF16) != len(s) {
			t.Fatal("a line past the end is not the end")
		}
	})
}

// FuzzServe feeds arbitrary bytes to a server after a valid initialize: it
// answers, never panics (a recovered panic is logged and fails the test) and
// ends at the end of its input.
func FuzzServe(f *testing.F) {
	frame := func(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }
	f.Add(frame(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///a.flags","languageId":"capspec","version":1,"text":"--allow-inbound=tcp://*:80"}}}`) +
		frame(`{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.flags"},"position":{"line":0,"character":3}}}`))
	f.Add(frame(`{"jsonrpc":"2.0","id":3,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"file:///a.flags"},"range":{"start":{"line":4294967295,"character":4294967295},"end":{"line":0,"character":0}},"context":{}}}`))
	f.Add("Content-Length: 99999999999\r\n\r\n")
	f.Add(frame(`[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]`) + frame(`{"id":{"x":1},"method":"exit"}`))
	f.Fuzz(func(t *testing.T, input string) {
		init := frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
		log := &syncbuf.Buffer{}
		done := make(chan error, 1)
		go func() {
			done <- Serve(context.Background(), strings.NewReader(init+input), io.Discard, Options{Log: log, Debounce: time.Millisecond})
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("Serve did not end at the end of its input")
		}
		if l := log.String(); strings.Contains(l, "panic") {
			t.Fatalf("a panic was recovered:\n%s", l)
		}
	})
}
