package eval

import (
	"errors"
	"strings"
	"testing"

	"github.com/capspec/capspec/literal"
)

// TestNormalizeName: request names go through literal.Name; invisible
// characters are errors at their bytes (issue 10, finding 7), never
// dropped; lookalike spellings of addresses are no names.
func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, want   string
		id         string // the error's ID, "" for none
		start, end int
	}{
		{"Example.COM.", "example.com", "", 0, 0},
		{"bücher.example", "xn--bcher-kva.example", "", 0, 0},
		{"ｌｏｃａｌｈｏｓｔ", "localhost", "", 0, 0},
		{"exam\u200bple.com", "", "CS012", 4, 7}, // zero-width space
		{"exam\u00adple.com", "", "CS012", 4, 6}, // soft hyphen
		{"exam\u2060ple.com", "", "CS012", 4, 7}, // word joiner
		{"\ufeffexample.com", "", "CS012", 0, 3}, // byte order mark
		{"exa\u202emple.com", "", "CS012", 3, 6}, // right-to-left override
		{"exa\x00mple.com", "", "CS012", 3, 4},
		{"１２７.０.０.１", "", "CS004", 0, len("１２７.０.０.１")},
		{"a..b", "", "CS007", 1, 3},
		{"exa\xffmple.com", "", "CS007", 3, 4},
	}
	for _, tt := range tests {
		got, err := NormalizeName(tt.in)
		var p *literal.Problem
		switch {
		case tt.id == "" && (err != nil || got != tt.want):
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.id != "" && !errors.As(err, &p):
			t.Errorf("NormalizeName(%q) = %q, %v; want a %s problem", tt.in, got, err, tt.id)
		case tt.id != "" && (p.ID != tt.id || p.Start != tt.start || p.End != tt.end):
			t.Errorf("NormalizeName(%q): %s at %d-%d %q; want %s at %d-%d", tt.in, p.ID, p.Start, p.End, p.Message, tt.id, tt.start, tt.end)
		}
	}
	// A request made in code is invalid too.
	q := Request{Op: Connect, Name: "exam\u200bple.com", Port: 443}
	if _, err := q.Normalize(); err == nil || !strings.Contains(err.Error(), "ZERO WIDTH SPACE") {
		t.Errorf("Normalize = %v", err)
	}
}
