package evalreport

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreq"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/golden"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// TestGolden decides testdata/eval/seed.requests against each policy of
// testdata/eval and compares the text and JSON reports with golden files
// (go test ./evalreport -run Golden -update rewrites them).
func TestGolden(t *testing.T) {
	dir := filepath.Join("..", "testdata", "eval")
	reqText, err := os.ReadFile(filepath.Join(dir, "seed.requests"))
	if err != nil {
		t.Fatal(err)
	}
	items, ds := evalreq.ReadRequests("seed.requests", string(reqText))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	ifaces := eval.NewInterfaces(map[string][]netip.Prefix{
		"eth0": {netip.MustParsePrefix("10.0.0.5/24")},
		"lo":   {netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
	})
	for _, name := range []string{"seed", "narrow"} {
		text, err := os.ReadFile(filepath.Join(dir, name+".flags"))
		if err != nil {
			t.Fatal(err)
		}
		ins, err := source.FlagsFile{Name: name + ".flags", Content: string(text)}.Read()
		if err != nil {
			t.Fatal(err)
		}
		var aps []*ast.Policy
		for _, in := range ins {
			ap, pds := grammar.Parse(in)
			if len(pds) > 0 {
				t.Fatal(pds)
			}
			aps = append(aps, ap)
		}
		p, cds := policy.Compile(aps...)
		if len(cds) > 0 {
			t.Fatal(cds)
		}
		var txt, js bytes.Buffer
		tw, jw := NewTextWriter(&txt, diag.NewPalette(false)), NewJSONWriter(&js)
		// Two runners: each is one guest, with its own remembered lookups.
		for _, w := range []Writer{tw, jw} {
			run := NewRunner(p, ifaces, eval.TrackerOptions{})
			for _, it := range items {
				if err := w.Write(run.Decide(it)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		golden.Check(t, filepath.Join(dir, name+".txt"), txt.String())
		golden.Check(t, filepath.Join(dir, name+".jsonl"), js.String())
	}
}
