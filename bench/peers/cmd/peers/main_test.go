package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplaceTable: the table replaces exactly the lines between the
// markers; a file without both markers, once each and in order, is refused.
func TestReplaceTable(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string // want "": refused
	}{
		{"replaced", "# T\n\n" + docBegin + "\nold\nlines\n" + docEnd + "\nafter\n", "# T\n\n" + docBegin + "\nNEW\n" + docEnd + "\nafter\n"},
		{"empty", docBegin + "\n" + docEnd + "\n", docBegin + "\nNEW\n" + docEnd + "\n"},
		{"no end", docBegin + "\nold\n", ""},
		{"no begin", "old\n" + docEnd + "\n", ""},
		{"reversed", docEnd + "\n" + docBegin + "\n", ""},
		{"twice", docBegin + "\n" + docEnd + "\n" + docBegin + "\n" + docEnd + "\n", ""},
		{"not alone on its line", "x " + docBegin + "\n" + docEnd + "\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "doc.md")
			if err := os.WriteFile(path, []byte(c.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := replaceTable(path, []byte("NEW\n"))
			switch {
			case c.want == "" && err == nil:
				t.Errorf("accepted:\n%s", got)
			case c.want == "" && !strings.Contains(err.Error(), "peers table"):
				t.Errorf("error %q does not name the markers", err)
			case c.want != "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && string(got) != c.want:
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}
