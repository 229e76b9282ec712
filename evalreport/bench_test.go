package evalreport

import (
	"fmt"
	"io"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreq"
	"github.com/capspec/capspec/internal/heapwatch"
	"github.com/capspec/capspec/internal/policygen"
)

// BenchmarkRun decides, explains and writes 100 000 distinct requests
// (policygen.BenchRequests: hits, misses, recorded lookups and the
// connects to their answers) against generated policies, streaming, in
// text and JSON. One op is the whole run; the target at 100 000 rules is
// under 10 s and 500 MB (with parsing the policy: see BenchmarkEvalCommand
// in package cli). peak-heap-MB is the most heap in use during the run,
// policy and index included.
func BenchmarkRun(b *testing.B) {
	const requests = 100000
	for _, rules := range []int{1000, 100000} {
		p, _ := policygen.Compile(b, policygen.Bench(rules))
		f := diag.NewFile("bench.requests", policygen.BenchRequests(requests, rules))
		for _, format := range []string{"text", "json"} {
			b.Run(fmt.Sprintf("%s/rules=%d/requests=%d", format, rules, requests), func(b *testing.B) {
				heapwatch.Bench(b, func() {
					var w Writer = NewTextWriter(io.Discard, diag.NewPalette(false))
					if format == "json" {
						w = NewJSONWriter(io.Discard)
					}
					run := NewRunner(p, policygen.Interfaces(), eval.TrackerOptions{})
					n := 0
					for it, d := range evalreq.Requests(f) {
						if d != nil {
							b.Fatal(d.Summary)
						}
						if err := w.Write(run.Decide(it)); err != nil {
							b.Fatal(err)
						}
						n++
					}
					if err := w.Flush(); err != nil || n != requests {
						b.Fatal(err, n)
					}
				})
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*requests), "ns/request")
			})
		}
	}
}
