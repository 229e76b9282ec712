package grammar

import (
	"github.com/capspec/capspec/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// TestGolden parses each flags file of testdata/grammar and compares the
// rules it means and the diagnostics it gets, as text, with its .golden file.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/grammar/*.flags")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(path)
			ins, err := source.FlagsFile{Name: name, Content: string(content)}.Read()
			if err != nil {
				t.Fatal(err)
			}
			p, ds := Parse(ins[0])
			var b strings.Builder
			for _, r := range p.Rules {
				b.WriteString(r.Range(r).String() + "  " + summary(r) + "\n")
			}
			b.WriteString("\n")
			diag.Sort(ds)
			if err := diag.WriteText(&b, ds, diag.FileSet{name: ins[0].Files[0]}, nil); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, strings.TrimSuffix(path, ".flags")+".golden", b.String())
		})
	}
}
