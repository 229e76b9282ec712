package explain

import (
	"fmt"
	"io"
	"testing"

	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/heapwatch"
	"github.com/capspec/capspec/internal/hostile"
	"github.com/capspec/capspec/source"
)

// BenchmarkExplain explains generated policies of 1k, 10k and 100k rules
// as capspec explain does once the file is read and parsed: lint, compile,
// the account, and its text. cpu-s/op is the CPU time of the process
// (heapwatch.Bench).
func BenchmarkExplain(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		ins, err := source.FlagsFile{Name: "gen.flags", Content: hostile.Policy(n)}.Read()
		if err != nil {
			b.Fatal(err)
		}
		p, ds := grammar.Parse(ins[0])
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			heapwatch.Bench(b, func() {
				a, errs := Parsed(ins[0], p, ds)
				if a == nil {
					b.Fatalf("errors: %v", errs[0])
				}
				if err := WriteText(io.Discard, []*Account{a}, nil); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
