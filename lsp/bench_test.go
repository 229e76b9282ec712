package lsp

import (
	"fmt"
	"strings"
	"testing"
)

// genFlags generates a flags file of n flags of every kind, with comments,
// duplicates, rules that merge and subsume, warnings, infos and a few
// errors: what a large real policy might hold.
func genFlags(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "--allow-resolve=host%d.example%d.com\n", i, i%97)
		case 1:
			fmt.Fprintf(&b, "--allow-outbound=tcp://api%d.svc%d.example.com:443,80%d\n", i, i%13, i%10)
		case 2:
			fmt.Fprintf(&b, "--allow-outbound=tcp://10.%d.%d.%d:%d\n", (i>>16)&255, (i>>8)&255, i&255, 1024+i%5000)
		case 3:
			fmt.Fprintf(&b, "--allow-inbound=tcp://127.0.%d.%d:%d\n", (i>>8)&255, i&255, 1024+i%60000)
		case 4:
			fmt.Fprintf(&b, "# zone %d\n--allow-outbound=udp://*.zone%d.example.org:53\n", i, i)
		case 5:
			fmt.Fprintf(&b, "--allow-outbound=tcp://172.%d.%d.0/24:443#ipv4-only\n", 16+(i>>16)&15, (i>>8)&255)
		case 6:
			fmt.Fprintf(&b, "--allow-resolve=db%d.internal->10.1.%d.%d\n", i, (i>>8)&255, i&255)
		case 7:
			fmt.Fprintf(&b, "--allow-inbound=udp://veth%d:%d->%d\n", i%4096, 10000+i%20000, 40000+i%20000)
		case 8:
			fmt.Fprintf(&b, "--allow-outbound=TCP://API%d.Example.com:0443\n", i) // noncanonical spelling
		case 9:
			if i%100 == 99 {
				fmt.Fprintf(&b, "--allow-outbound=tpc://typo%d.example.com:80\n", i) // an error
			} else {
				b.WriteString("--allow-outbound=tcp://api8.example.com:443\n") // duplicates
			}
		}
	}
	return b.String()
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
