// Package web serves the playground page of `capspec playground` (SPEC
// §10): static files embedded in the binary — the page (index.html,
// style.css, app.js), the WebAssembly build of package playground
// (capspec.wasm, stored gzipped as capspec.wasm.gz) and the Go runtime's
// wasm_exec.js. The page runs capspec in the browser and requests nothing
// but these files.
//
// capspec.wasm.gz and wasm_exec.js are generated: after changing any
// package the playground uses, run `go generate ./playground/...` (a test
// fails while they are stale).
package web

//go:generate go run gen.go

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/capspec/capspec/playground/internal/gz"
)

//go:embed static/index.html static/style.css static/app.js static/wasm_exec.js static/capspec.wasm.gz
var embedded embed.FS

// Files are the files the page consists of, as served.
var Files = []string{"index.html", "style.css", "app.js", "wasm_exec.js", "capspec.wasm"}

// stored returns the name a served file is stored under: capspec.wasm is
// kept gzipped.
func stored(name string) string {
	if name == "capspec.wasm" {
		return name + ".gz"
	}
	return name
}

// Static returns the embedded files, at the root of the file system.
func Static() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err) // cannot happen: "static" is a valid path
	}
	return sub
}

// ContentSecurityPolicy is sent with every response. It lets the page load
// its own scripts, styles and wasm from the origin and nothing else, and
// connect nowhere but the origin (which it only does to fetch capspec.wasm):
// even a bug in the page cannot send the policy anywhere.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the MIME types of the files served, by extension.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".wasm": "application/wasm",
}

// Handler serves the embedded page.
func Handler() http.Handler { return HandlerFS(Static()) }

// HandlerFS serves the page from fsys, which holds Files at its root, with
// capspec.wasm as capspec.wasm.gz (tests serve a fresh build of the wasm
// this way). Files are read on first request and kept. A file stored
// gzipped is sent as it is to clients that take gzip, and decompressed
// once for others; the other files are compressed once, when first asked
// for in gzip.
func HandlerFS(fsys fs.FS) http.Handler {
	h := &handler{fsys: fsys, files: map[string]*file{}}
	for _, name := range Files {
		h.files["/"+name] = &file{name: name}
	}
	h.files["/"] = h.files["/index.html"]
	return h
}

type handler struct {
	fsys  fs.FS
	files map[string]*file
}

// file is one served file: its bytes and their gzip form, read once.
type file struct {
	name    string
	once    sync.Once
	raw, gz []byte
	etag    string
	err     error
}

// load reads the file and makes both forms of it, once.
func (f *file) load(fsys fs.FS) error {
	f.once.Do(func() {
		name := stored(f.name)
		var b []byte
		b, f.err = fs.ReadFile(fsys, name)
		if f.err != nil {
			return
		}
		if name != f.name {
			f.gz = b
			f.raw, f.err = gz.Decompress(b)
		} else {
			f.raw, f.gz = b, gz.Compress(b)
		}
		sum := sha256.Sum256(f.raw)
		f.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	})
	return f.err
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := h.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := f.load(h.fsys); err != nil {
		http.Error(w, fmt.Sprintf("cannot read %s: %v", f.name, err), http.StatusInternalServerError)
		return
	}
	body, etag := f.raw, f.etag
	hd.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = f.gz
		etag = strings.TrimSuffix(etag, `"`) + `-gz"`
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Type", contentTypes[path.Ext(f.name)])
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed
// (or "*") without q=0.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		zero := false
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				zero = err == nil && q == 0
			}
		}
		switch coding {
		case "gzip", "x-gzip":
			return !zero
		case "*":
			star = !zero
		}
	}
	return star
}

// etagMatches reports whether an If-None-Match header lists etag (or "*").
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
