package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/golden"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// TestExportGolden exports the seed and three realistic policies to every
// runtime and compares the output and the report with golden files
// (testdata/interop/NAME.RUNTIME.golden; go test -update rewrites them).
func TestExportGolden(t *testing.T) {
	files := []string{"../testdata/examples/seed.flags", "../testdata/interop/web-service.flags", "../testdata/interop/db-client.flags", "../testdata/interop/crawler.flags"}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		ins, err := source.FlagsFile{Name: name, Content: string(b)}.Read()
		if err != nil {
			t.Fatal(err)
		}
		ap, ds := grammar.Parse(ins[0])
		p, cds := policy.Compile(ap)
		if diag.HasErrors(append(ds, cds...)) {
			t.Fatalf("%s: %v", name, ds)
		}
		for _, tg := range Targets() {
			t.Run(name+"/"+tg, func(t *testing.T) {
				e, err := ExportPolicy(tg, p)
				if err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				fmt.Fprintf(&out, "$ capspec export --to %s %s\n%s\n\n", tg, name, e.Config.Text)
				if err := diag.WriteText(&out, e.Diagnostics(), diag.FileSet{name: ins[0].Files[0]}, diag.NewPalette(false)); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join("../testdata/interop", strings.TrimSuffix(name, ".flags")+"."+tg+".golden"), out.String())
			})
		}
	}
}
