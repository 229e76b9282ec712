package lsp

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// genFlags generates a flags file of n flags drawn at random (seeded by n):
// every kind and protocol; names, wildcards, addresses, networks,
// interfaces; port lists and ranges, families, host and port mappings;
// comments; about 5% repeats of an earlier line, 5% spelled noncanonically
// and 1% with a typo: what a large real policy might hold, with findings of
// every severity.
func genFlags(n int) string {
	r := rand.New(rand.NewPCG(uint64(n), 2026))
	host := func(inbound bool) string {
		switch r.IntN(6) {
		case 0:
			return fmt.Sprintf("svc%d.team%d.example.com", r.IntN(5000), r.IntN(40))
		case 1:
			return fmt.Sprintf("*.zone%d.example.org", r.IntN(3000))
		case 2:
			return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))
		case 3:
			return fmt.Sprintf("172.%d.%d.0/24", 16+r.IntN(16), r.IntN(256))
		case 4:
			if inbound {
				return fmt.Sprintf("eth%d", r.IntN(8))
			}
			return fmt.Sprintf("[2001:db8::%x]", 1+r.IntN(60000))
		}
		return "localhost"
	}
	ports := func() string {
		lo := 1024 + r.IntN(60000)
		switch r.IntN(3) {
		case 0:
			return fmt.Sprint(lo)
		case 1:
			return fmt.Sprintf("%d-%d", lo, lo+r.IntN(400))
		}
		return fmt.Sprintf("%d,%d", lo, 443)
	}
	var lines []string
	for flags := 0; flags < n; flags++ {
		var flag string
		switch k := r.IntN(10); {
		case len(lines) > 0 && k == 0 && r.IntN(2) == 0:
			flag = lines[r.IntN(len(lines))] // a repeat (or a comment)
		case k < 3:
			flag = fmt.Sprintf("--allow-resolve=name%d.example.net", r.IntN(8000))
			if r.IntN(4) == 0 {
				flag = fmt.Sprintf("--allow-resolve=db%d.internal->10.9.%d.%d", r.IntN(9000), r.IntN(256), 1+r.IntN(254))
			}
		case k < 7:
			proto := [2]string{"tcp", "udp"}[r.IntN(2)]
			h := host(false)
			flag = fmt.Sprintf("--allow-outbound=%s://%s:%s", proto, h, ports())
			if r.IntN(5) == 0 && !strings.HasPrefix(h, "[") {
				flag += "#ipv4-only"
			}
		default:
			local := [...]string{"*", "localhost", "eth1", "127.0.0.1", "[::1]"}[r.IntN(5)]
			flag = fmt.Sprintf("--allow-inbound=tcp://%s:%d", local, 1+r.IntN(65535))
			if r.IntN(3) == 0 {
				flag = fmt.Sprintf("--allow-inbound=udp://%s:%d->%d", local, 2000+r.IntN(5000), 20000+r.IntN(20000))
			}
		}
		switch r.IntN(100) {
		case 0:
			flag = strings.Replace(flag, "://", ":/", 1) // a typo
		case 1, 2, 3, 4, 5:
			name, value, _ := strings.Cut(flag, "=")
			flag = name + "=" + strings.ToUpper(value[:len(value)/2]) + value[len(value)/2:] // noncanonical
		case 6, 7, 8:
			lines = append(lines, fmt.Sprintf("# rule %d", len(lines)))
		}
		lines = append(lines, flag)
	}
	return strings.Join(lines, "\n") + "\n"
}

// BenchmarkDiagnosticsAfterChange10k measures what a user waits for: from a
// change of one line of a 10,000-flag document to its diagnostics
// published, debounce included (DefaultDebounce), through the protocol.
// Each iteration edits a different line.
func BenchmarkDiagnosticsAfterChange10k(b *testing.B) {
	benchmarkChange(b, 10_000)
}

func BenchmarkDiagnosticsAfterChange1k(b *testing.B) {
	benchmarkChange(b, 1_000)
}

func benchmarkChange(b *testing.B, n int) {
	c, wait := newPipeClient(b, Options{})
	c.initialize(nil)
	const uri = "file:///bench/big.flags"
	content := genFlags(n)
	lines := strings.SplitAfter(content, "\n")
	c.open(uri, "capspec", content)
	version := int32(1)
	var diags int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		version++
		line := (i * 7919) % (len(lines) - 1)
		c.notify("textDocument/didChange", DidChangeTextDocumentParams{
			TextDocument: VersionedTextDocumentIdentifier{URI: uri, Version: version},
			ContentChanges: []TextDocumentContentChangeEvent{{
				Range: &Range{Start: Position{uint32(line), 0}, End: Position{uint32(line), 0}},
				Text:  fmt.Sprintf("--allow-outbound=tcp://edit%d.example.net:%d ", i, 1+i%60000),
			}}})
		diags = len(c.diagnostics(uri, version))
	}
	b.StopTimer()
	b.ReportMetric(float64(diags), "diags")
	c.shutdown()
	if err := wait(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAnalyzeAfterEdit10k measures the server's own work after a
// change of one line of a 10,000-flag document, without the debounce and
// the protocol: reading, parsing (what the cache does not hold), linting
// and converting the findings to LSP diagnostics.
func BenchmarkAnalyzeAfterEdit10k(b *testing.B) {
	lines := strings.SplitAfter(genFlags(10_000), "\n")
	snap := &snapshot{name: "big.flags", enc: encodingUTF16, cfg: defaultConfig()}
	snap.text = newText(strings.Join(lines, ""))
	snap.cache = analyze(b.Context(), snap).cache
	var diags int
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		line := (i * 7919) % (len(lines) - 1)
		edited := append([]string(nil), lines...)
		edited[line] = fmt.Sprintf("--allow-outbound=tcp://edit%d.example.net:%d\n", i, 1+i%60000)
		next := *snap
		next.text = newText(strings.Join(edited, ""))
		a := analyze(b.Context(), &next)
		snap.cache = a.cache
		diags = len(a.lsp)
	}
	// The CPU time of the process per analysis: what the work costs on a
	// machine whose other loads stretch the wall-clock time.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(diags), "diags")
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
