package web

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/capspec/capspec/playground/internal/gz"
)

// TestHandler serves every file of the page, plain and gzipped, with its
// MIME type and the security headers, and nothing else.
func TestHandler(t *testing.T) {
	h := Handler()
	types := map[string]string{
		"/": "text/html; charset=utf-8", "/index.html": "text/html; charset=utf-8",
		"/style.css": "text/css; charset=utf-8", "/app.js": "text/javascript; charset=utf-8",
		"/wasm_exec.js": "text/javascript; charset=utf-8", "/capspec.wasm": "application/wasm",
	}
	for path, ctype := range types {
		name := strings.TrimPrefix(path, "/")
		if name == "" {
			name = "index.html"
		}
		stored, err := fs.ReadFile(Static(), stored(name))
		if err != nil {
			t.Fatal(err)
		}
		want := stored
		if name == "capspec.wasm" {
			if want, err = gz.Decompress(stored); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(want, []byte("\x00asm")) {
				t.Fatalf("capspec.wasm is no WebAssembly module")
			}
		}
		for _, enc := range []string{"", "gzip", "br, gzip;q=0.5", "gzip;q=0, *", "*"} {
			req := httptest.NewRequest("GET", path, nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != ctype {
				t.Errorf("GET %s (%q): %d %q", path, enc, res.StatusCode, res.Header.Get("Content-Type"))
			}
			gzipped := res.Header.Get("Content-Encoding") == "gzip"
			if wantGzip := enc == "gzip" || enc == "br, gzip;q=0.5" || enc == "*"; gzipped != wantGzip {
				t.Errorf("GET %s (Accept-Encoding %q): gzipped %v", path, enc, gzipped)
			}
			if gzipped {
				if body, err = gz.Decompress(body); err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
			}
			if !bytes.Equal(body, want) {
				t.Errorf("GET %s (%q): %d bytes, not the file (%d bytes)", path, enc, len(body), len(want))
			}
			for k, v := range map[string]string{"Content-Security-Policy": ContentSecurityPolicy, "X-Content-Type-Options": "nosniff",
				"Referrer-Policy": "no-referrer", "Vary": "Accept-Encoding", "Cache-Control": "no-cache"} {
				if got := res.Header.Get(k); got != v {
					t.Errorf("GET %s: %s %q, want %q", path, k, got, v)
				}
			}
		}
	}
}

func TestHandlerRefuses(t *testing.T) {
	h := Handler()
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/capspec.wasm.gz", 404}, {"GET", "/static/index.html", 404}, {"GET", "/../go.mod", 404},
		{"GET", "/favicon.ico", 404}, {"GET", "/wasm.version", 404},
		{"POST", "/", 405}, {"PUT", "/app.js", 405}, {"DELETE", "/", 405},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.status)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s %s: no Content-Security-Policy", tt.method, tt.path)
		}
	}
}

// TestHandlerCaching answers a repeated request with 304 and HEAD without
// a body.
func TestHandlerCaching(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/app.js") // the client asks for gzip
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if etag == "" || !res.Uncompressed {
		t.Fatalf("ETag %q, gzipped %v", etag, res.Uncompressed)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/app.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("If-None-Match", `"other", `+etag)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d", etag, res.StatusCode)
	}
	res, err = http.Head(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(body) != 0 || res.ContentLength <= 0 {
		t.Errorf("HEAD /: %d, %d bytes, Content-Length %d", res.StatusCode, len(body), res.ContentLength)
	}
}

// TestPageSelfContained checks that the page names nothing outside its
// origin: no URL with a scheme or "//" in its HTML, CSS and JavaScript
// (wasm_exec.js, the Go runtime's, only mentions URLs in comments).
func TestPageSelfContained(t *testing.T) {
	for _, name := range []string{"index.html", "style.css", "app.js"} {
		b, err := fs.ReadFile(Static(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http:", "https:", "//cdn", "src=\"//", "href=\"//", "url(", "@import", "fetch(\"/", "XMLHttpRequest", "sendBeacon", "WebSocket", "EventSource", "localStorage", "document.cookie"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}
