// Command peers compares capspec's index with a plain slice scan, cedar-go
// and OPA's Rego on the benchmark mix (internal/policygen: one generated
// policy per size and 1,024 distinct requests, half allowed), checks that
// every engine decides every request as capspec does, and prints the
// table of docs/performance.md:
//
//	cd bench/peers && go run ./cmd/peers [-sizes 10,1000,10000,100000] [-doc ../../docs/performance.md]
//
// For each engine and size: the setup time (translating and loading the
// compiled policy), the time and allocations per decision (the mean over
// the mix, as testing.Benchmark measures a pass over it), and the heap the
// engine keeps. With -budget, an engine too slow to decide the whole
// mix in that time is checked and timed on its first requests (the
// column requests says how many). With -doc, the table also replaces the lines between the
// markers docBegin and docEnd of that file (atomically, and only when all
// engines agree), so the table of docs/performance.md is never edited by
// hand.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capspec/capspec/bench/peers"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/inplace"
)

// The markers of the table in the document -doc names, each on a line of
// its own.
const (
	docBegin = "<!-- peers table: begin (cd bench/peers && go run ./cmd/peers -doc ../../docs/performance.md) -->"
	docEnd   = "<!-- peers table: end -->"
)

func main() {
	sizes := flag.String("sizes", "10,1000,10000,100000", "policy sizes (rules), comma-separated")
	doc := flag.String("doc", "", "also write the table between the peers table markers of this Markdown file")
	budget := flag.Duration("budget", 0, "at most about this long per engine and size to check and to time (0: no limit); a slower engine decides the first requests of the mix that fit (at least 16)")
	flag.Parse()
	testing.Init()
	if *doc != "" {
		if _, err := replaceTable(*doc, nil); err != nil { // (fail before measuring)
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(2)
		}
	}
	var table bytes.Buffer
	out := io.MultiWriter(os.Stdout, &table)
	fmt.Fprintf(out, "%s, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine())
	fmt.Fprintln(out, "| engine | rules | setup | ns/decision | allocs/decision | memory | requests |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|")
	partial := false
	ifaces := peers.Interfaces()
	failed := false
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers: bad size", s)
			os.Exit(2)
		}
		p, qs, err := peers.Mix(n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(1)
		}
		var want []peers.Verdict
		for _, m := range peers.Makers {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			e, err := m.Make(p, ifaces)
			setup := time.Since(start)
			if err != nil {
				fmt.Fprintf(os.Stderr, "peers: %s: %v\n", m.Name, err)
				os.Exit(1)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			mem := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
			// Every request that fits the budget, checked against
			// capspec's index (the first, which decides them all).
			qs := qs
			if len(want) == len(qs) {
				qs = qs[:fit(e, qs, *budget)]
			}
			for i, q := range qs {
				v := e.Decide(q)
				if want == nil || len(want) <= i {
					want = append(want, v)
				} else if v != want[i] {
					fmt.Fprintf(os.Stderr, "peers: rules=%d: %s: %s decides %s, %s decides %s\n", n, q, peers.Makers[0].Name, want[i], m.Name, v)
					failed = true
				}
			}
			r := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for _, q := range qs {
						e.Decide(q)
					}
				}
			})
			perDecision := float64(r.T.Nanoseconds()) / float64(r.N*len(qs))
			allocs := float64(r.MemAllocs) / float64(uint64(r.N)*uint64(len(qs)))
			fmt.Fprintf(out, "| %s | %d | %s | %s | %.1f | %.1f MB | %d |\n", m.Name, n, setup.Round(10*time.Microsecond), ns(perDecision), allocs, mem, len(qs))
			partial = partial || len(qs) < len(want)
			runtime.KeepAlive(e)
		}
	}
	if failed {
		fmt.Fprintln(os.Stderr, "peers: the engines disagree")
		os.Exit(1)
	}
	if partial {
		fmt.Fprintf(out, "\nAll engines decide the requests they were timed on (the first of the mix, column requests: -budget %v) as capspec does.\n", *budget)
	} else {
		fmt.Fprintln(out, "\nAll engines decide every request alike.")
	}
	if *doc != "" {
		content, err := replaceTable(*doc, table.Bytes())
		if err == nil {
			err = inplace.Rewrite(*doc, content)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(1)
		}
	}
}

// replaceTable returns the content of the Markdown file path with the lines
// between its markers replaced by table, or an error when the markers are
// missing, repeated or out of order.
func replaceTable(path string, table []byte) ([]byte, error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	begin, end := markerLine(old, docBegin), markerLine(old, docEnd)
	if begin < 0 || end < 0 || end < begin {
		return nil, fmt.Errorf("%s: no line %q followed by a line %q (each once)", path, docBegin, docEnd)
	}
	var b bytes.Buffer
	b.Write(old[:begin+bytes.IndexByte(old[begin:], '\n')+1]) // (a line follows: the end marker's)
	b.Write(table)
	b.Write(old[end:])
	return b.Bytes(), nil
}

// markerLine returns the offset of the one line of s that is marker, or -1
// when there is none or more than one.
func markerLine(s []byte, marker string) int {
	at := -1
	for off := 0; off < len(s); {
		line, _, _ := bytes.Cut(s[off:], []byte("\n"))
		if string(bytes.TrimRight(line, "\r")) == marker {
			if at >= 0 {
				return -1
			}
			at = off
		}
		off += len(line) + 1
	}
	return at
}

// fit returns how many of the first requests of qs engine e decides in
// about budget (0: all), from the time of the first 8: at least 16.
func fit(e peers.Engine, qs []eval.Request, budget time.Duration) int {
	if budget <= 0 || len(qs) <= 16 {
		return len(qs)
	}
	start := time.Now()
	for _, q := range qs[:8] {
		e.Decide(q)
	}
	each := time.Since(start) / 8
	// (Checking and timing each take a share of the budget.)
	if k := int(budget / 2 / max(each, 1)); k < len(qs) {
		return max(k, 16)
	}
	return len(qs)
}

// ns writes a duration in nanoseconds readably.
func ns(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.1f ms", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.1f µs", x/1e3)
	}
	return fmt.Sprintf("%.0f ns", x)
}

// machine describes the machine: CPU model, CPUs, Go version, load.
func machine() string {
	model := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	s := fmt.Sprintf("%s, %d CPUs, %s", model, runtime.NumCPU(), runtime.Version())
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		s += ", load average " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return s
}
