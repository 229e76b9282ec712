package lsp

import (
	"context"
	"path"
	"strings"
	"time"

	"github.com/capspec/capspec/grammar"
)

// document is an open document.
type document struct {
	uri     string
	name    string // its origin name in diagnostics
	shell   bool   // read as a shell script (--shell), else as a flags file
	ignored bool   // not capspec's (see readAs)
	version int32
	text    *text

	timer  *time.Timer        // the pending analysis, if any
	cancel context.CancelFunc // cancels the analysis of the last version

	last  *analysis      // the newest analysis done, perhaps of an older version
	cache *grammar.Cache // the flags parsed by the newest analysis
}

// snapshot is what background work needs of a document, taken under the
// server's lock: one version of its text and the settings of the moment.
type snapshot struct {
	uri, name string
	shell     bool
	version   int32
	text      *text
	enc       string
	markdown  bool
	resolve   bool // the client resolves code actions' edits
	cfg       config
	max       *maximum       // the within setting's maximum of the moment
	last      *analysis      // the document's newest analysis, if of this version
	cache     *grammar.Cache // flags already parsed
}

// snapshot takes a snapshot of d; s.mu is held.
func (s *server) snapshot(d *document) *snapshot {
	snap := &snapshot{uri: d.uri, name: d.name, shell: d.shell, version: d.version, text: d.text,
		enc: s.enc, markdown: s.markdown, resolve: s.resolve, cfg: s.cfg, max: s.max, cache: d.cache}
	if d.last != nil && d.last.snap.text == d.text && d.last.cfg.equal(s.cfg) && sameMaximum(d.last.snap.max, s.max) {
		snap.last = d.last
	}
	return snap
}

// readAs decides how a document is read: as a shell script for the
// language ids of shells (shellscript, sh, bash, zsh, ksh, dash) and the
// extensions .sh and .bash, as a flags file for the language id capspec
// and the extension .flags. Other documents are not capspec's: ok is
// false, and the server leaves them alone (a client that sends every
// plain-text file gets no findings about prose).
func readAs(languageID, uri string) (shell, ok bool) {
	switch strings.ToLower(languageID) {
	case "shellscript", "sh", "bash", "zsh", "ksh", "dash":
		return true, true
	case "capspec":
		return false, true
	}
	switch strings.ToLower(path.Ext(uri)) {
	case ".sh", ".bash":
		return true, true
	case ".flags":
		return false, true
	}
	return false, false
}

func (s *server) didOpen(p DidOpenTextDocumentParams) {
	td := p.TextDocument
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.docs[td.URI]; old != nil {
		s.unschedule(old)
	}
	shell, ok := readAs(td.LanguageID, td.URI)
	d := &document{uri: td.URI, name: originName(td.URI), shell: shell, ignored: !ok,
		version: td.Version, text: newText(td.Text)}
	s.docs[td.URI] = d
	if !d.ignored {
		s.schedule(d, 0)
	}
}

func (s *server) didChange(p DidChangeTextDocumentParams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docs[p.TextDocument.URI]
	if d == nil {
		s.log.Printf("didChange of %s, which is not open", p.TextDocument.URI)
		return
	}
	t := d.text
	for _, c := range p.ContentChanges {
		next, err := t.applyChange(c, s.enc)
		if err != nil {
			// The client and the server disagree on the text; keep the last
			// good text (the client's next full sync mends it).
			s.log.Printf("didChange of %s: %v", d.uri, err)
			return
		}
		t = newText(next)
	}
	d.text = t
	d.version = p.TextDocument.Version
	if !d.ignored {
		s.schedule(d, s.opts.Debounce)
	}
}

func (s *server) didClose(p DidCloseTextDocumentParams) {
	s.mu.Lock()
	d := s.docs[p.TextDocument.URI]
	if d != nil {
		s.unschedule(d)
		delete(s.docs, d.uri)
	}
	s.mu.Unlock()
	if d != nil && !d.ignored {
		// Clear the document's diagnostics; publishing holds publishMu, so
		// no analysis of it can publish after this.
		s.publishMu.Lock()
		s.notify("textDocument/publishDiagnostics", PublishDiagnosticsParams{URI: d.uri, Diagnostics: []Diagnostic{}})
		s.publishMu.Unlock()
	}
}

// didChangeConfiguration applies new settings, reads the within setting's
// maximum again (refreshMaximum), and analyses every open document again
// when anything changed.
func (s *server) didChangeConfiguration(p DidChangeConfigurationParams) {
	s.mu.Lock()
	cfg, problems := s.cfg.update(p.Settings)
	changed := !cfg.equal(s.cfg)
	s.cfg = cfg
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		s.showProblems(conn, problems)
	}
	s.refreshMaximum(true)
	if changed {
		s.mu.Lock()
		for _, d := range s.docs {
			if !d.ignored {
				s.schedule(d, 0)
			}
		}
		s.mu.Unlock()
	}
}

// schedule starts the analysis of d's current version after delay,
// canceling the analysis of any older version; s.mu is held.
func (s *server) schedule(d *document, delay time.Duration) {
	s.unschedule(d)
	if s.stopped {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	d.cancel = cancel
	snap := s.snapshot(d)
	s.wg.Add(1)
	d.timer = time.AfterFunc(delay, func() {
		defer s.wg.Done()
		s.diagnose(ctx, snap)
	})
}

// unschedule cancels d's pending or running analysis; s.mu is held.
func (s *server) unschedule(d *document) {
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
	if d.timer != nil {
		if d.timer.Stop() {
			s.wg.Done() // the analysis will not run
		}
		d.timer = nil
	}
}

// diagnose analyses one version of a document and publishes its
// diagnostics, unless a newer version came meanwhile.
func (s *server) diagnose(ctx context.Context, snap *snapshot) {
	a := s.analysisOf(ctx, snap)
	if a == nil {
		return
	}
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	s.mu.Lock()
	d := s.docs[snap.uri]
	current := d != nil && d.text == snap.text && ctx.Err() == nil
	s.mu.Unlock()
	if !current {
		return
	}
	v := snap.version
	s.notify("textDocument/publishDiagnostics", PublishDiagnosticsParams{URI: snap.uri, Version: &v, Diagnostics: a.lspDiagnostics()})
}

// analysisOf returns the analysis of a snapshot: the one done already, or a
// new one (one at a time), or nil when ctx is done first.
func (s *server) analysisOf(ctx context.Context, snap *snapshot) *analysis {
	if snap.last != nil {
		return snap.last
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	defer func() { <-s.sem }()
	if ctx.Err() != nil {
		return nil
	}
	// The analysis just done for this version, while this one waited.
	s.mu.Lock()
	if d := s.docs[snap.uri]; d != nil && d.last != nil && d.last.snap.text == snap.text && d.last.cfg.equal(snap.cfg) && sameMaximum(d.last.snap.max, snap.max) {
		a := d.last
		s.mu.Unlock()
		return a
	}
	s.mu.Unlock()
	a := analyze(ctx, snap)
	if a == nil {
		return nil
	}
	s.mu.Lock()
	if d := s.docs[snap.uri]; d != nil && d.text == snap.text {
		d.last, d.cache = a, a.cache
	}
	s.mu.Unlock()
	return a
}
