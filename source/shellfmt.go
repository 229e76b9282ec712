package source

import (
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/capspec/capspec/diag"
)

// ShellRewrite asks that the flags of one command of a script become Flags.
type ShellRewrite struct {
	// Input is one of the inputs Shell.Read returned for the script.
	Input *Input
	// Flags are the new flags without shell quoting, in order, e.g.
	// "--allow-inbound=tcp://*:80->8888".
	Flags []string
}

// RewriteShell returns the script content with the flag words of each
// command replaced by its new flags, quoted for the shell; every other byte
// is kept. The i-th new flag takes the place of the i-th old one; a flag
// whose text does not change and that has nothing to quote is left as
// written. Old flags beyond the new ones are removed with the blanks (and
// continuation lines) before them; new flags beyond the old ones follow the
// last old flag, separated as it is from the word before it.
func RewriteShell(content string, rws []ShellRewrite) (string, error) {
	var edits []diag.TextEdit
	for _, rw := range rws {
		es, err := shellEdits(content, rw)
		if err != nil {
			return "", err
		}
		for _, e := range es {
			edits = append(edits, diag.TextEdit{Range: diag.Range{Start: diag.Pos{Offset: e.start}, End: diag.Pos{Offset: e.end}}, NewText: e.text})
		}
	}
	return diag.ApplyEdits(content, edits)
}

// edit replaces content[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// shellEdits returns the edits that rewrite one command.
func shellEdits(content string, rw ShellRewrite) ([]edit, error) {
	old := rw.Input.Flags
	if len(old) == 0 {
		if len(rw.Flags) == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: no flag to put the new flags in place of", rw.Input.Name)
	}
	var edits []edit
	floor := 0 // the end of the previous flag
	for i, f := range old {
		start, end := f.Words[0].Start.Offset, f.Words[len(f.Words)-1].End.Offset
		if start < 0 || end > len(content) || end < start {
			return nil, fmt.Errorf("%s: flag %d lies outside the script", rw.Input.Name, i)
		}
		prevEnd := floor
		floor = end
		if i >= len(rw.Flags) {
			edits = append(edits, edit{start: separatorStart(content, start, prevEnd), end: end})
			continue
		}
		if rw.Flags[i] == f.Text && len(f.Globs) == 0 {
			continue
		}
		q, err := QuoteFlag(rw.Flags[i], content[start:end])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rw.Input.Name, err)
		}
		edits = append(edits, edit{start: start, end: end, text: q})
	}
	if len(rw.Flags) > len(old) {
		last := old[len(old)-1]
		start, end := last.Words[0].Start.Offset, last.Words[len(last.Words)-1].End.Offset
		prevEnd := 0
		if len(old) > 1 {
			prev := old[len(old)-2]
			prevEnd = prev.Words[len(prev.Words)-1].End.Offset
		}
		sep := content[separatorStart(content, start, prevEnd):start]
		if sep == "" {
			sep = " "
		}
		var b strings.Builder
		for _, nf := range rw.Flags[len(old):] {
			q, err := QuoteFlag(nf, content[start:end])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rw.Input.Name, err)
			}
			b.WriteString(sep)
			b.WriteString(q)
		}
		edits = append(edits, edit{start: end, end: end, text: b.String()})
	}
	return edits, nil
}

// separatorStart returns where the blanks and continuation lines before
// offset begin, not before floor. A blank or newline that a backslash
// escapes belongs to the word before it.
func separatorStart(content string, offset, floor int) int {
	i := offset
	for i > floor {
		switch {
		case (content[i-1] == ' ' || content[i-1] == '\t') && !escapedAt(content, i-1):
			i--
		case i-2 >= floor && content[i-2:i] == "\\\n" && !escapedAt(content, i-2):
			i -= 2
		default:
			return i
		}
	}
	return i
}

// escapedAt reports whether an odd number of backslashes precede offset.
func escapedAt(content string, offset int) bool {
	n := 0
	for j := offset - 1; j >= 0 && content[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// QuoteFlag quotes a flag "--allow-X=VALUE" as one shell word. The value
// is quoted only when the shell would change it: in double quotes when
// written (the old word, as in the script) used them and they suffice,
// else in single quotes (or $'...' for unprintable characters).
func QuoteFlag(flag, written string) (string, error) {
	name, value, ok := strings.Cut(flag, "=")
	if !ok || !plainName(name) {
		return quoteWord(flag, written)
	}
	if value == "" {
		return name + "=", nil
	}
	// After "--allow-X=" the value never starts a word, so "#", "~" and "="
	// mean nothing to the shell there.
	if !strings.ContainsAny(value, shellSpecial) && plainText(value) {
		return name + "=" + value, nil
	}
	qv, err := quoteWord(value, written)
	if err != nil {
		return "", err
	}
	return name + "=" + qv, nil
}

// shellSpecial are the characters that the shell reads specially inside a
// word (other than at its start).
const shellSpecial = ";\"'()$|&<>` \t\r\n\\*?[{!"

// plainName reports whether a flag name needs no quotes.
func plainName(s string) bool {
	for _, c := range []byte(s) {
		if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// plainText reports whether s is printable ASCII.
func plainText(s string) bool {
	for _, c := range []byte(s) {
		if c < ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// quoteWord quotes s for the shell when it must be, preferring the double
// quotes of written when they keep s as it is.
func quoteWord(s, written string) (string, error) {
	q, err := syntax.Quote(s, syntax.LangBash)
	if err != nil {
		return "", fmt.Errorf("cannot quote %q for the shell: %w", s, err)
	}
	if q == s {
		return s, nil
	}
	if strings.Contains(written, `"`) && plainText(s) && !strings.ContainsAny(s, "$`\\\"!") {
		return `"` + s + `"`, nil
	}
	return q, nil
}
