package interop

import (
	"os"
	"testing"

	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// BenchmarkExport exports the seed and the realistic policies to every
// runtime: what capspec export costs, comparison included.
func BenchmarkExport(b *testing.B) {
	var ps []*policy.Policy
	for _, path := range []string{"../testdata/examples/seed.flags", "../testdata/interop/web-service.flags", "../testdata/interop/db-client.flags", "../testdata/interop/crawler.flags"} {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		ins, _ := source.FlagsFile{Name: path, Content: string(data)}.Read()
		ap, _ := grammar.Parse(ins[0])
		p, _ := policy.Compile(ap)
		ps = append(ps, p)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := ps[i%len(ps)]
		for _, tg := range Targets() {
			if _, err := ExportPolicy(tg, p); err != nil {
				b.Fatal(err)
			}
		}
	}
}
