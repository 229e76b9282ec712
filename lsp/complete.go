package lsp

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/source"
)

// complete answers textDocument/completion from the text of the line up to
// the cursor: flag names where a word starts, schemes after "--allow-X=",
// "*" and "..." where a host starts, "*" where ports start,
// "#ipv4-only"/"#ipv6-only" after "#" in a flag, and rule IDs after
// "capspec:ignore" in a comment. Every item replaces what was typed of it.
func (s *server) complete(_ context.Context, snap *snapshot, p TextDocumentPositionParams) (any, error) {
	t, enc := snap.text, snap.enc
	off := t.offset(p.Position, enc)
	list := &CompletionList{Items: []CompletionItem{}}
	for _, c := range completionsAt(t.s, off) {
		item := CompletionItem{Label: c.label, Kind: c.kind, Detail: c.detail, SortText: c.sort,
			TextEdit: &TextEdit{Range: t.rangeOf(c.start, off, enc), NewText: c.label}}
		if c.doc != "" {
			item.Documentation = &MarkupContent{Kind: "plaintext", Value: c.doc}
		}
		list.Items = append(list.Items, item)
	}
	return list, nil
}

// completion is one completion item: its text replaces the bytes from start
// to the cursor.
type completion struct {
	label, detail, doc, sort string
	kind                     int
	start                    int
}

var (
	// ignoreIDs matches a "capspec:ignore" comment up to the cursor: the
	// IDs listed, and what is typed of the next.
	ignoreIDs = regexp.MustCompile(`#[ \t]*capspec:ignore[ \t]+((?:[A-Za-z0-9]+[ \t]*,[ \t]*)*)([A-Za-z0-9]*)$`)
	// ignoreWord matches a comment whose first word is being typed.
	ignoreWord = regexp.MustCompile(`#[ \t]*([a-z:]*)$`)
)

var flagDocs = map[string]string{
	"--allow-resolve":  "DNS lookups of names: --allow-resolve=PATTERN",
	"--allow-outbound": "TCP connects and UDP sends: --allow-outbound=PROTO://TARGET:PORTS",
	"--allow-inbound":  "TCP listens and UDP binds: --allow-inbound=PROTO://LOCAL:PORTS",
}

// completionsAt returns the completions at byte offset off of s.
func completionsAt(s string, off int) []completion {
	ls := lineStart(s, off)
	line := s[ls:off]
	if ci := commentStart(line); ci >= 0 {
		return commentCompletions(line, ci, ls)
	}
	ws := strings.LastIndexAny(line, " \t") + 1
	word := line[ws:]
	prev := previousWord(line[:ws])
	switch {
	case strings.HasPrefix(word, "-") && !strings.Contains(word, "="), word == "" && !source.IsFlagName(prev):
		return flagNameCompletions(ls + ws)
	case strings.HasPrefix(word, "-"):
		eq := strings.IndexByte(word, '=')
		return valueCompletions(word[:eq], word[eq+1:], ls+ws+eq+1)
	case source.IsFlagName(prev):
		return valueCompletions(prev, word, ls+ws)
	}
	return nil
}

// commentStart returns the index of the "#" that starts a comment in a
// line (at its start or after a blank), or -1.
func commentStart(line string) int {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// previousWord returns the last word of s.
func previousWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[len(f)-1], `'"`)
}

func flagNameCompletions(start int) []completion {
	var out []completion
	for i, n := range ast.FlagNames() {
		out = append(out, completion{label: n + "=", kind: completionKeyword, detail: "capspec flag",
			doc: flagDocs[n], sort: fmt.Sprint(i), start: start})
	}
	return out
}

// valueCompletions completes the value of flag name, typed so far as
// value, which starts at offset start.
func valueCompletions(name, value string, start int) []completion {
	if !source.IsFlagName(name) {
		return nil
	}
	if strings.HasPrefix(value, "'") || strings.HasPrefix(value, `"`) {
		value, start = value[1:], start+1
	}
	if i := strings.LastIndexByte(value, '#'); i >= 0 {
		return []completion{
			{label: "#ipv4-only", kind: completionEnumMember, detail: "family modifier", doc: "IPv4 only (A records for a lookup)", sort: "0", start: start + i},
			{label: "#ipv6-only", kind: completionEnumMember, detail: "family modifier", doc: "IPv6 only (AAAA records for a lookup)", sort: "1", start: start + i},
		}
	}
	if name == "--allow-resolve" {
		if value == "" {
			return []completion{{label: "*", kind: completionValue, detail: "any name", doc: "Allows looking up any name (CS202 warns about it).", start: start}}
		}
		return nil
	}
	scheme := strings.Index(value, "://")
	if scheme < 0 {
		return []completion{
			{label: "tcp://", kind: completionKeyword, detail: "protocol", sort: "0", start: start},
			{label: "udp://", kind: completionKeyword, detail: "protocol", sort: "1", start: start},
		}
	}
	rest, rs := value[scheme+3:], start+scheme+3
	if rest == "" || strings.HasPrefix("...", rest) {
		out := []completion{{label: "...", kind: completionValue, detail: "any host, any port", doc: `"..." stands for the whole host:ports part: "*:*".`, sort: "1", start: rs}}
		if rest == "" {
			out = append([]completion{{label: "*", kind: completionValue, detail: "any host", sort: "0", start: rs}}, out...)
		}
		return out
	}
	if c := portsColon(rest); c >= 0 && c == len(rest)-1 {
		return []completion{{label: "*", kind: completionValue, detail: "any port", start: rs + c + 1}}
	}
	return nil
}

// portsColon returns the index of the colon before the ports of a value's
// "host:ports" part, or -1: the last colon outside brackets.
func portsColon(rest string) int {
	depth, last := 0, -1
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ':':
			if depth == 0 {
				last = i
			}
		}
	}
	return last
}

// commentCompletions completes "capspec:ignore" and the rule IDs after it.
func commentCompletions(line string, ci, ls int) []completion {
	c := line[ci:]
	if m := ignoreIDs.FindStringSubmatchIndex(c); m != nil {
		listed := map[string]bool{}
		for _, id := range strings.Split(c[m[2]:m[3]], ",") {
			listed[strings.ToUpper(strings.TrimSpace(id))] = true
		}
		var out []completion
		for _, r := range lint.Rules() {
			if listed[r.ID] {
				continue
			}
			out = append(out, completion{label: r.ID, kind: completionConstant,
				detail: r.Name + " (" + r.Severity.String() + ")", doc: r.Doc.Summary, sort: r.ID, start: ls + ci + m[4]})
		}
		return out
	}
	if m := ignoreWord.FindStringSubmatchIndex(c); m != nil && strings.HasPrefix("capspec:ignore", c[m[2]:m[3]]) {
		return []completion{{label: "capspec:ignore", kind: completionKeyword, detail: "silence rules for a flag",
			doc: "# capspec:ignore ID[,ID...] reason — silences those rule IDs for the flag below or on this line.", start: ls + ci + m[2]}}
	}
	return nil
}
