package explain

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/golden"
	"github.com/capspec/capspec/source"
)

// goldenDir holds the golden archives: each has one or more *.flags files
// (one policy each, explained in order) and the outputs "text", "table"
// and "json", and "errors" when a policy has errors. The comment says what
// the case is; for seed examples, it is the seed's comment.
const goldenDir = "../testdata/explain"

// outputs are the sections a golden archive is checked against.
var outputs = []string{"text", "table", "json", "errors"}

// TestGolden explains every golden archive and compares the outputs; run
// go test -update to rewrite them.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden archives in %s: %v", goldenDir, err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, ar)
			var files []txtar.File
			for _, f := range ar.Files {
				if strings.HasSuffix(f.Name, ".flags") {
					files = append(files, f)
				}
			}
			for _, name := range outputs {
				if got[name] != "" {
					files = append(files, txtar.File{Name: name, Data: []byte(got[name])})
				}
			}
			ar.Files = files
			golden.Check(t, path, string(txtar.Format(ar)))
		})
	}
}

// render explains the flags files of an archive and returns the outputs.
func render(t *testing.T, ar *txtar.Archive) map[string]string {
	t.Helper()
	var accounts []*Account
	var errs []diag.Diagnostic
	files := diag.FileSet{}
	for _, f := range ar.Files {
		if !strings.HasSuffix(f.Name, ".flags") {
			continue
		}
		ins, err := source.FlagsFile{Name: f.Name, Content: string(f.Data)}.Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			files.Add(in.Files...)
			p, ds := grammar.Parse(in)
			a, es := Parsed(in, p, append(append([]diag.Diagnostic(nil), in.Diags...), ds...))
			if a == nil {
				errs = append(errs, es...)
				continue
			}
			accounts = append(accounts, a)
		}
	}
	out := map[string]string{}
	var b bytes.Buffer
	if len(accounts) > 0 {
		if err := WriteText(&b, accounts, nil); err != nil {
			t.Fatal(err)
		}
		out["text"] = b.String()
		b.Reset()
		if err := WriteTable(&b, accounts, nil); err != nil {
			t.Fatal(err)
		}
		out["table"] = b.String()
		b.Reset()
	}
	if err := WriteJSON(&b, accounts); err != nil {
		t.Fatal(err)
	}
	out["json"] = b.String()
	if len(errs) > 0 {
		b.Reset()
		if err := diag.WriteText(&b, errs, files, nil); err != nil {
			t.Fatal(err)
		}
		out["errors"] = b.String()
	}
	return out
}
