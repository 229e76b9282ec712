package eval

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/eval")

// TestGolden decides testdata/eval/seed.requests against each policy of
// testdata/eval and compares the text and JSON reports with golden files
// (go test ./eval -run Golden -update rewrites them).
func TestGolden(t *testing.T) {
	dir := filepath.Join("..", "testdata", "eval")
	reqText, err := os.ReadFile(filepath.Join(dir, "seed.requests"))
	if err != nil {
		t.Fatal(err)
	}
	items, ds := ReadRequests("seed.requests", string(reqText))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	ifaces := NewInterfaces(map[string][]netip.Prefix{
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
		results := Run(p, ifaces, items)
		var txt, js bytes.Buffer
		if err := WriteText(&txt, results, diag.NewPalette(false)); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&js, results); err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join(dir, name+".txt"), txt.Bytes())
		golden(t, filepath.Join(dir, name+".jsonl"), js.Bytes())
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./eval -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./eval -run Golden -update and review the diff):\n%s", path, got)
	}
}
