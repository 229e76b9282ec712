package evalreq

import (
	"iter"
	"strings"

	"github.com/capspec/capspec/diag"
)

// Requests yields the requests of a request file in order, one per line:
// an Item, or for a line that cannot be read a diagnostic (CS001, error,
// with its range; the Item is then zero). Blank lines and "#" comments are
// skipped, and so is a UTF-8 byte order mark at the start of the file. It
// keeps nothing: each line is read when the loop asks for it.
func Requests(f *diag.File) iter.Seq2[Item, *diag.Diagnostic] {
	return func(yield func(Item, *diag.Diagnostic) bool) {
		content := f.Content
		start := 0
		if strings.HasPrefix(content, "\uFEFF") {
			start = len("\uFEFF")
		}
		for start <= len(content) {
			end := strings.IndexByte(content[start:], '\n')
			if end < 0 {
				end = len(content)
			} else {
				end += start
			}
			line := strings.TrimSuffix(content[start:end], "\r")
			if strings.TrimSpace(stripComment(line)) != "" {
				it, err := ParseRequest(line)
				if err != nil {
					d := requestDiag(f, start, err)
					if !yield(Item{}, &d) {
						return
					}
				} else {
					lead := len(line) - len(strings.TrimLeft(line, " \t"))
					it.Range = f.Range(start+lead, start+lead+len(it.Text))
					if !yield(it, nil) {
						return
					}
				}
			}
			if end == len(content) {
				break
			}
			start = end + 1
		}
	}
}

// ReadRequests reads a whole request file: its requests, and a diagnostic
// for every line that cannot be read. Programs deciding many requests
// should range over Requests instead, which keeps nothing.
func ReadRequests(name, content string) ([]Item, []diag.Diagnostic) {
	var items []Item
	var ds []diag.Diagnostic
	for it, d := range Requests(diag.NewFile(name, content)) {
		if d != nil {
			ds = append(ds, *d)
		} else {
			items = append(items, it)
		}
	}
	return items, ds
}

// requestDiag turns a request error at line offset base into a diagnostic.
func requestDiag(f *diag.File, base int, err error) diag.Diagnostic {
	d := diag.Diagnostic{ID: "CS001", Severity: diag.Error, Summary: err.Error(), Range: f.Range(base, base)}
	if se, ok := err.(*SyntaxError); ok {
		d.Range = f.Range(base+se.Start, base+se.End)
		if se.ID != "" {
			d.ID = se.ID
		}
	}
	return d
}

// RequestDiagnostic locates an error of ParseRequest(text) in an origin
// called name (for example "argv[3]").
func RequestDiagnostic(name, text string, err error) diag.Diagnostic {
	return requestDiag(diag.NewFile(name, text), 0, err)
}
