package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/capspec/capspec/cli"
	"github.com/capspec/capspec/internal/heapwatch"
	"github.com/capspec/capspec/internal/hostile"
)

// commands are the command lines every hostile input is run through; the
// input is standard input ("-"), or the policy of eval.
var commands = []struct {
	name string
	args []string
}{
	{"parse", []string{"parse", "-"}},
	{"parse-json", []string{"parse", "--format", "json", "-"}},
	{"lint", []string{"lint", "-"}},
	{"lint-json", []string{"lint", "--format", "json", "-"}},
	{"lint-sarif", []string{"lint", "--format", "sarif", "-"}},
	{"lint-github", []string{"lint", "--format", "github", "-"}},
	{"fmt", []string{"fmt", "-"}},
	{"fmt-check", []string{"fmt", "--check", "-"}},
	{"explain", []string{"explain", "-"}},
	{"explain-json", []string{"explain", "--format", "json", "-"}},
	{"eval", []string{"eval", "--policy", "-", "--iface", "eth0=10.0.0.5/24",
		"lookup example.com", "connect tcp 127.0.0.1:80", "connect tcp a:80", "send udp 10.0.0.1:53",
		"listen tcp 10.0.0.5:80", "bind udp [::1]:53", "lookup db"}},
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// run runs one command line on an input as standard input and returns the
// exit status and the size of its output.
func run(args []string, input string) (int, int64) {
	var out countingWriter
	code := cli.Run(cli.Env{Args: append([]string{"capspec"}, args...), Stdin: strings.NewReader(input), Stdout: &out, Stderr: &out})
	return code, out.n
}

// BenchmarkHostile runs every command on every large hostile input (1 MiB
// each): the resource target is under 1 s and 100 MB per run. B/op is
// what a run allocates in all, cpu-s/op its CPU time, peak-heap-MB the
// most heap in use (heapwatch.Bench); "out-B" is the size of its output.
func BenchmarkHostile(b *testing.B) {
	for _, in := range hostile.Large() {
		for _, c := range commands {
			b.Run(in.Name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.Text)))
				var size int64
				heapwatch.Bench(b, func() {
					_, size = run(c.args, in.Text)
				})
				b.ReportMetric(float64(size), "out-B")
			})
		}
	}
}

// BenchmarkHostileProcess runs every command on every large hostile input
// as the program is run: the capspec binary, built once, in a process of
// its own per run, with the input on standard input. It reports the
// process's peak resident set (max-rss-MB, in MB of 10^6 bytes, the most
// of any run: what the operating system counts, the collector's headroom,
// the runtime and the program's code included) and its CPU time
// (cpu-s/op, user and system). Issue 10's target is under 1 s and under
// 100 MB for each. (Unix only: getrusage.)
func BenchmarkHostileProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "capspec")
	build := exec.Command("go", "build", "-o", bin, "../cmd/capspec")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dir := b.TempDir()
	for _, in := range hostile.Large() {
		path := filepath.Join(dir, in.Name+".flags")
		if err := os.WriteFile(path, []byte(in.Text), 0o644); err != nil {
			b.Fatal(err)
		}
		for _, c := range commands {
			b.Run(in.Name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.Text)))
				var rss int64
				var cpu float64
				for b.Loop() {
					f, err := os.Open(path)
					if err != nil {
						b.Fatal(err)
					}
					cmd := exec.Command(bin, c.args...)
					cmd.Stdin, cmd.Env = f, append(os.Environ(), "GOMEMLIMIT=", "NO_COLOR=1")
					err = cmd.Run()
					f.Close()
					if _, ok := err.(*exec.ExitError); err != nil && !ok {
						b.Fatal(err)
					}
					ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
					if !ok {
						b.Skip("no resource usage on this system")
					}
					rss = max(rss, ru.Maxrss*1024) // (kilobytes on Linux)
					cpu += float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
				}
				b.ReportMetric(float64(rss)/1e6, "max-rss-MB")
				b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			})
		}
	}
}
