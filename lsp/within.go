package lsp

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/diff"
	"github.com/capspec/capspec/source"
)

// maxProblemDiags is how many of a maximum's error diagnostics its problem
// message quotes.
const maxProblemDiags = 3

// maximum is the maximum policy of the within setting as last read (as
// capspec lint --within reads it: diff.ReadMaximum), the Maximum that
// lint's CS401 checks documents against. A maximum is never changed: a
// new reading is a new maximum, and analyses remember which they used.
type maximum struct {
	setting []string      // the within setting it was read for
	files   []maxFile     // each file of the setting, as found
	max     *diff.Maximum // nil when the setting is empty or problem is set
	// problem says why the maximum cannot be used, CS401 being unchecked
	// then: a file that cannot be read, or a policy with errors.
	problem string
}

// maxFile is one file of the within setting.
type maxFile struct {
	name    string // the setting's entry, which messages name it by
	path    string // the entry resolved against the workspace root
	exists  bool
	regular bool // a regular file (not a pipe or a device, which could block)
	size    int64
	modTime time.Time
	content []byte
}

// resolveWithin returns the file of each entry of the within setting: a
// relative path is relative to the workspace root (to the server's working
// directory when the client gave none).
func resolveWithin(setting []string, root string) []maxFile {
	files := make([]maxFile, len(setting))
	for i, name := range setting {
		p := filepath.FromSlash(name)
		if !filepath.IsAbs(p) && root != "" {
			p = filepath.Join(root, p)
		}
		files[i] = maxFile{name: name, path: p}
	}
	return files
}

// stat fills in whether the file exists, its size and modification time.
func (f *maxFile) stat() {
	fi, err := os.Stat(f.path)
	f.exists = err == nil
	if f.exists {
		f.regular, f.size, f.modTime = fi.Mode().IsRegular(), fi.Size(), fi.ModTime()
	}
}

// unchanged reports whether the files of m are those of files, as far as
// their metadata tells.
func (m *maximum) unchanged(files []maxFile) bool {
	return slices.EqualFunc(m.files, files, func(a, b maxFile) bool {
		return a.path == b.path && a.name == b.name && a.exists == b.exists && a.size == b.size && a.modTime.Equal(b.modTime)
	})
}

// sameContent reports whether the files of m hold what files hold.
func (m *maximum) sameContent(files []maxFile) bool {
	return slices.EqualFunc(m.files, files, func(a, b maxFile) bool {
		return a.path == b.path && a.name == b.name && a.exists == b.exists && bytes.Equal(a.content, b.content)
	})
}

// readMaximum reads the maximum of a within setting: nothing for an empty
// setting; else the files, merged into one Maximum by diff.ReadMaximum, or
// the problem that keeps it from being used.
func readMaximum(setting []string, root string) *maximum {
	m := &maximum{setting: setting, files: resolveWithin(setting, root)}
	if len(setting) == 0 {
		return m
	}
	inputs := make([]source.FlagsFile, 0, len(m.files))
	for i := range m.files {
		f := &m.files[i]
		f.stat()
		if f.exists && !f.regular {
			// Reading a pipe or a device could block the server for good.
			if m.problem == "" {
				m.problem = fmt.Sprintf("cannot read %s: not a regular file", f.path)
			}
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			if m.problem == "" {
				m.problem = fmt.Sprintf("cannot read %s: %v", f.path, pathError(err))
			}
			continue
		}
		f.content = b
		inputs = append(inputs, source.FlagsFile{Name: f.name, Content: string(b)})
	}
	if m.problem != "" {
		return m
	}
	max, ds, _, err := diff.ReadMaximum(inputs)
	switch {
	case err != nil:
		m.problem = err.Error()
	case max == nil:
		m.problem = errorsOf(ds)
	default:
		m.max = max
	}
	return m
}

// pathError is what went wrong with a file, without the path.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// errorsOf says which errors a maximum has: the first maxProblemDiags, as
// capspec lint writes their first lines, and how many more there are.
func errorsOf(ds []diag.Diagnostic) string {
	var errs []string
	for _, d := range ds {
		if d.Severity == diag.Error {
			errs = append(errs, d.Error())
		}
	}
	msg := "it has errors: " + strings.Join(errs[:min(len(errs), maxProblemDiags)], "; ")
	if n := len(errs) - maxProblemDiags; n > 0 {
		msg += fmt.Sprintf("; and %d more", n)
	}
	return msg
}

// message is the problem as told to the user.
func (m *maximum) message() string {
	return "the maximum policy of the within setting (" + strings.Join(m.setting, ", ") +
		") cannot be used, so CS401 is not checked: " + m.problem
}

// refreshMaximum reads the within setting's maximum again when the setting
// or the workspace root changed, when force is set (didSave,
// didChangeConfiguration) and its files' content changed, or else when
// their size or modification time did; a new maximum analyses every open
// document again. A maximum that cannot be used is logged and shown to the
// user once, when it becomes so. It runs on the connection's reading
// goroutine, so refreshes never overlap.
func (s *server) refreshMaximum(force bool) {
	s.mu.Lock()
	setting, root, old := s.cfg.within, s.root, s.max
	s.mu.Unlock()
	files := resolveWithin(setting, root)
	if old != nil && slices.Equal(old.setting, setting) {
		if len(setting) == 0 {
			return
		}
		for i := range files {
			files[i].stat()
		}
		if !force && old.unchanged(files) {
			return
		}
	}
	next := readMaximum(setting, root)
	if old != nil && slices.Equal(old.setting, setting) && next.problem == old.problem && next.sameContent(old.files) {
		// Touched but not changed: keep the maximum (and the analyses
		// made with it), remembering the new metadata.
		next.max = old.max
	}
	s.mu.Lock()
	s.max = next
	if !sameMaximum(next, old) {
		for _, d := range s.docs {
			if !d.ignored {
				s.schedule(d, 0)
			}
		}
	}
	s.mu.Unlock()
	switch {
	case next.problem != "" && next.problem != old.problemOrEmpty():
		s.log.Print(next.message())
		s.notify("window/showMessage", MessageParams{Type: messageError, Message: "capspec: " + next.message()})
	case next.max != nil && next.max != old.maxOrNil():
		s.log.Printf("CS401 checks documents within %s", next.max.Name)
	}
}

// related returns the lines of the maximum's files that a finding's text
// names as "name:line:" (CS401's "nearest in max.flags:2: …"): each the
// whole line, with the clause naming it; at most maxRelated.
func (m *maximum) related(full string) []DiagnosticRelatedInformation {
	if m == nil || m.max == nil {
		return nil
	}
	var out []DiagnosticRelatedInformation
	for _, f := range m.files {
		prefix := f.name + ":"
		for from := 0; len(out) < maxRelated; {
			i := strings.Index(full[from:], prefix)
			if i < 0 {
				break
			}
			start := from + i
			end := start + len(prefix)
			for end < len(full) && end-start-len(prefix) < 9 && full[end] >= '0' && full[end] <= '9' {
				end++
			}
			from = end
			if start > 0 && full[start-1] != ' ' {
				continue // the end of another name
			}
			line, err := strconv.Atoi(full[start+len(prefix) : end])
			if err != nil || line < 1 || end >= len(full) || full[end] != ':' {
				continue
			}
			out = append(out, DiagnosticRelatedInformation{
				Location: Location{URI: f.uri(), Range: Range{Start: Position{Line: uint32(line - 1)}, End: Position{Line: uint32(line)}}},
				Message:  clause(full, start, end),
			})
		}
	}
	return out
}

// uri is the file: URI of the file.
func (f maxFile) uri() string {
	p := f.path
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// sameMaximum reports whether analyses made with a and b say the same: the
// same Maximum, or the same problem.
func sameMaximum(a, b *maximum) bool {
	return a.maxOrNil() == b.maxOrNil() && a.problemOrEmpty() == b.problemOrEmpty()
}

func (m *maximum) maxOrNil() *diff.Maximum {
	if m == nil {
		return nil
	}
	return m.max
}

func (m *maximum) problemOrEmpty() string {
	if m == nil {
		return ""
	}
	return m.problem
}
