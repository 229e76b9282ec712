// Package lsp is capspec's language server: the Language Server Protocol
// 3.17 over a byte stream (standard input and output for `capspec lsp`),
// for flags files and shell scripts. It stands on the other layers and adds
// no meaning of its own: diagnostics are lint's (with grammar's and
// source's), quick fixes are their suggested fixes, formatting is
// normalize's (and source.RewriteShell for scripts), hover is explain's
// sentence and lint's rule docs and relations.
//
// JSON-RPC is github.com/sourcegraph/jsonrpc2; the LSP structures the
// server uses are in protocol.go; the framing, which survives bad input,
// in stream.go. docs/editors.md says how to set editors up.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// Options configure a server.
type Options struct {
	// Debounce is how long after a change the diagnostics of a document are
	// computed; a newer change restarts the wait. Zero means
	// DefaultDebounce.
	Debounce time.Duration
	// Log receives the server's log (capspec lsp: standard error); nil
	// discards it.
	Log io.Writer
	// Version is the server version reported to the client.
	Version string
}

// DefaultDebounce is the wait between a change and its diagnostics.
const DefaultDebounce = 150 * time.Millisecond

// ErrExitWithoutShutdown is Serve's result when the client sent exit
// without shutdown first, or closed the stream without exit: LSP asks the
// server to exit with status 1 then.
var ErrExitWithoutShutdown = errors.New("the client ended the session without shutdown")

// Serve runs a language server reading requests from in and writing
// responses and notifications to out, until the client sends exit, in
// ends, or ctx is done. It returns nil after shutdown and exit. When it
// returns, the analyses, requests and timers of the session have ended; the
// goroutine reading in ends with in (which Serve closes at exit when it is
// an io.Closer).
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	s := &server{
		opts:     opts,
		log:      log.New(logw, "capspec lsp: ", log.LstdFlags),
		docs:     map[string]*document{},
		requests: map[jsonrpc2.ID]context.CancelFunc{},
		sem:      make(chan struct{}, 1),
		enc:      encodingUTF16,
		cfg:      defaultConfig(),
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	defer s.cancel()
	conn := jsonrpc2.NewConn(s.ctx, newStream(in, out), s, jsonrpc2.SetLogger(s.log))
	<-conn.DisconnectNotify()
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateExited && s.shutdown {
		return nil
	}
	return ErrExitWithoutShutdown
}

// Session states.
const (
	stateNew = iota
	stateRunning
	stateShutdown
	stateExited
)

// server is one session with one client.
type server struct {
	opts Options
	log  *log.Logger
	ctx  context.Context // the session; canceled when it ends
	// cancel ends the session's background work.
	cancel context.CancelFunc

	mu       sync.Mutex
	conn     *jsonrpc2.Conn
	stopped  bool // no more background work starts
	state    int
	shutdown bool
	enc      string // the negotiated position encoding
	markdown bool   // the client shows Markdown in hovers
	resolve  bool   // the client resolves the edits of code actions
	root     string // the workspace folder, for relative paths in settings
	cfg      config
	max      *maximum // the maximum of cfg.within, as last read
	docs     map[string]*document
	requests map[jsonrpc2.ID]context.CancelFunc // requests being answered

	publishMu sync.Mutex     // orders the check and the sending of diagnostics
	sem       chan struct{}  // one analysis at a time
	wg        sync.WaitGroup // every goroutine of the session
	answering sync.WaitGroup // the goroutines answering requests
}

// stop ends the session: every pending analysis and request is canceled
// and waited for.
func (s *server) stop() {
	s.cancel()
	s.mu.Lock()
	s.stopped = true
	for _, d := range s.docs {
		s.unschedule(d)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Handle answers one message. It runs on the connection's reading
// goroutine, so notifications are applied in the order they were sent;
// requests that take time are answered from goroutines of their own on a
// snapshot of the document taken here.
func (s *server) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Printf("panic handling %s: %v\n%s", req.Method, r, debug.Stack())
			if !req.Notif {
				s.replyError(conn, req, jsonrpc2.CodeInternalError, fmt.Sprintf("internal error: %v", r))
			}
		}
	}()
	s.mu.Lock()
	if s.conn == nil {
		s.conn = conn
	}
	state := s.state
	s.mu.Unlock()

	switch {
	case req.Method == "exit":
		s.exit(conn)
		return
	case state == stateNew && req.Method != "initialize":
		if !req.Notif {
			s.replyError(conn, req, codeServerNotInitialized, "the server is not initialized")
		}
		return
	case state != stateNew && req.Method == "initialize":
		s.replyError(conn, req, jsonrpc2.CodeInvalidRequest, "the server is initialized already")
		return
	case state == stateShutdown:
		if !req.Notif {
			s.replyError(conn, req, jsonrpc2.CodeInvalidRequest, "the server is shut down")
		}
		return
	}

	switch req.Method {
	case "initialize":
		s.initialize(conn, req)
	case "initialized":
		s.refreshMaximum(true)
	case "shutdown":
		s.mu.Lock()
		s.state, s.shutdown = stateShutdown, true
		s.mu.Unlock()
		// The requests sent before shutdown are answered before it.
		s.answering.Wait()
		s.reply(conn, req, nil)
	case "$/cancelRequest":
		var p struct {
			ID jsonrpc2.ID `json:"id"`
		}
		if decode(req, &p) == nil {
			s.mu.Lock()
			if cancel, ok := s.requests[p.ID]; ok {
				cancel()
			}
			s.mu.Unlock()
		}
	case "textDocument/didOpen":
		s.refreshMaximum(false)
		onNotification(s, req, s.didOpen)
	case "textDocument/didChange":
		s.refreshMaximum(false)
		onNotification(s, req, s.didChange)
	case "textDocument/didSave":
		// The saved file may be a maximum of the within setting.
		s.refreshMaximum(true)
	case "textDocument/didClose":
		onNotification(s, req, s.didClose)
	case "workspace/didChangeConfiguration":
		onNotification(s, req, s.didChangeConfiguration)
	case "textDocument/codeAction":
		onDocument(s, conn, req, s.codeActions)
	case "codeAction/resolve":
		onDocument(s, conn, req, s.resolveFixAll)
	case "textDocument/formatting":
		onDocument(s, conn, req, s.format)
	case "textDocument/hover":
		onDocument(s, conn, req, s.hover)
	case "textDocument/completion":
		onDocument(s, conn, req, s.complete)
	default:
		// Other notifications ($/setTrace, ...) need nothing.
		if !req.Notif {
			s.replyError(conn, req, jsonrpc2.CodeMethodNotFound, "method not found: "+req.Method)
		}
	}
}

// initialize negotiates the session: the position encoding (UTF-8 when the
// client offers it, else UTF-16), Markdown, the settings.
func (s *server) initialize(conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	var p InitializeParams
	if !s.decodeRequest(conn, req, &p) {
		return
	}
	s.mu.Lock()
	enc := encodingUTF16
	if g := p.Capabilities.General; g != nil {
		for _, e := range g.PositionEncodings {
			if e == encodingUTF8 {
				enc = encodingUTF8
			}
		}
	}
	s.enc = enc
	if td := p.Capabilities.TextDocument; td != nil {
		if td.Hover != nil {
			s.markdown = slices.Contains(td.Hover.ContentFormat, "markdown")
		}
		if td.CodeAction != nil && td.CodeAction.ResolveSupport != nil {
			s.resolve = slices.Contains(td.CodeAction.ResolveSupport.Properties, "edit")
		}
	}
	// The workspace root: rootUri, else the first workspace folder, else
	// rootPath; relative paths of the within setting start there.
	switch {
	case p.RootURI != nil:
		if dir, ok := filePath(*p.RootURI); ok {
			s.root = dir
		}
	case len(p.WorkspaceFolders) > 0:
		if dir, ok := filePath(p.WorkspaceFolders[0].URI); ok {
			s.root = dir
		}
	case p.RootPath != nil:
		s.root = *p.RootPath
	}
	cfg, problems := s.cfg.update(p.InitializationOptions)
	s.cfg = cfg
	s.state = stateRunning
	s.mu.Unlock()
	s.showProblems(conn, problems)
	s.reply(conn, req, InitializeResult{
		Capabilities: ServerCapabilities{
			PositionEncoding:           enc,
			TextDocumentSync:           TextDocumentSyncOptions{OpenClose: true, Change: 2, Save: true},
			HoverProvider:              true,
			CompletionProvider:         CompletionOptions{TriggerCharacters: []string{"-", "=", "/", ":", "#", ",", "."}},
			CodeActionProvider:         CodeActionOptions{CodeActionKinds: []string{kindQuickFix, kindFixAll}, ResolveProvider: true},
			DocumentFormattingProvider: true,
		},
		ServerInfo: ServerInfo{Name: "capspec", Version: s.opts.Version},
	})
}

// exit ends the session.
func (s *server) exit(conn *jsonrpc2.Conn) {
	s.mu.Lock()
	s.state = stateExited
	s.mu.Unlock()
	conn.Close()
}

// answer answers a request about a document from a goroutine of its own,
// on a snapshot of the document taken now. A request about a document
// that is not open, or not capspec's, is answered with null. $/cancelRequest cancels it.
func (s *server) answer(conn *jsonrpc2.Conn, req *jsonrpc2.Request, uri string, fn func(context.Context, *snapshot) (any, error)) {
	s.mu.Lock()
	d := s.docs[uri]
	if s.stopped {
		s.mu.Unlock()
		return
	}
	if d == nil || d.ignored {
		s.mu.Unlock()
		s.reply(conn, req, nil)
		return
	}
	snap := s.snapshot(d)
	ctx, cancel := context.WithCancel(s.ctx)
	s.requests[req.ID] = cancel
	s.wg.Add(1)
	s.answering.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.answering.Done()
		defer func() {
			s.mu.Lock()
			delete(s.requests, req.ID)
			s.mu.Unlock()
			cancel()
		}()
		defer func() {
			if r := recover(); r != nil {
				s.log.Printf("panic answering %s: %v\n%s", req.Method, r, debug.Stack())
				s.replyError(conn, req, jsonrpc2.CodeInternalError, fmt.Sprintf("internal error: %v", r))
			}
		}()
		res, err := fn(ctx, snap)
		switch {
		case ctx.Err() != nil:
			s.replyError(conn, req, codeRequestCancelled, "request cancelled")
		case err != nil:
			var re *jsonrpc2.Error
			if errors.As(err, &re) {
				s.replyError(conn, req, re.Code, re.Message)
			} else {
				s.replyError(conn, req, codeRequestFailed, err.Error())
			}
		default:
			s.reply(conn, req, res)
		}
	}()
}

// reply sends a result; a closed connection is no error worth reporting.
func (s *server) reply(conn *jsonrpc2.Conn, req *jsonrpc2.Request, result any) {
	if err := conn.Reply(s.ctx, req.ID, result); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		s.log.Printf("replying to %s: %v", req.Method, err)
	}
}

func (s *server) replyError(conn *jsonrpc2.Conn, req *jsonrpc2.Request, code int64, msg string) {
	err := conn.ReplyWithError(s.ctx, req.ID, &jsonrpc2.Error{Code: code, Message: msg})
	if err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		s.log.Printf("replying to %s: %v", req.Method, err)
	}
}

// notify sends a notification.
func (s *server) notify(method string, params any) {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return
	}
	if err := conn.Notify(s.ctx, method, params); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		s.log.Printf("sending %s: %v", method, err)
	}
}

// showProblems shows problems with the settings to the user.
func (s *server) showProblems(conn *jsonrpc2.Conn, problems []string) {
	for _, p := range problems {
		s.log.Print(p)
		if err := conn.Notify(s.ctx, "window/showMessage", MessageParams{Type: messageWarning, Message: "capspec: " + p}); err != nil {
			return
		}
	}
}

// decode reads a message's params.
func decode(req *jsonrpc2.Request, v any) error {
	if req.Params == nil {
		return nil
	}
	return json.Unmarshal(*req.Params, v)
}

// decodeRequest reads a request's params, answering InvalidParams when
// they do not decode.
func (s *server) decodeRequest(conn *jsonrpc2.Conn, req *jsonrpc2.Request, v any) bool {
	if err := decode(req, v); err != nil {
		s.replyError(conn, req, jsonrpc2.CodeInvalidParams, "invalid params: "+err.Error())
		return false
	}
	return true
}

// onNotification applies a notification; params that do not decode are
// logged (a notification has no answer).
func onNotification[P any](s *server, req *jsonrpc2.Request, apply func(P)) {
	var p P
	if err := decode(req, &p); err != nil {
		s.log.Printf("%s: invalid params: %v", req.Method, err)
		return
	}
	apply(p)
}

// documentParams are the params of a request about one document.
type documentParams interface {
	documentURI() string
}

func (p CodeActionParams) documentURI() string           { return p.TextDocument.URI }
func (p DocumentFormattingParams) documentURI() string   { return p.TextDocument.URI }
func (p TextDocumentPositionParams) documentURI() string { return p.TextDocument.URI }

// documentURI of a code action is that of the "fix all" data it carries.
func (p CodeAction) documentURI() string {
	var data fixAllData
	json.Unmarshal(p.Data, &data)
	return data.URI
}

// onDocument answers a request about a document (see answer); params that
// do not decode are answered with InvalidParams.
func onDocument[P documentParams](s *server, conn *jsonrpc2.Conn, req *jsonrpc2.Request, fn func(context.Context, *snapshot, P) (any, error)) {
	var p P
	if s.decodeRequest(conn, req, &p) {
		s.answer(conn, req, p.documentURI(), func(ctx context.Context, snap *snapshot) (any, error) {
			return fn(ctx, snap, p)
		})
	}
}

// filePath returns the path of a file: URI.
func filePath(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		return "", false
	}
	return filepath.FromSlash(u.Path), true
}

// originName is how a document is named in diagnostics ("policy.flags:3:1")
// and in the positions of their texts: the last element of its URI's path.
func originName(uri string) string {
	name := uri
	if u, err := url.Parse(uri); err == nil {
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		if p != "" {
			name = p
		}
	}
	name = path.Base(strings.TrimRight(name, "/"))
	if name == "." || name == "/" || name == "" {
		return "document"
	}
	return name
}
