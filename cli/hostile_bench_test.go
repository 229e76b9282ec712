package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
// each) in this process: B/op is what a run allocates in all, cpu-s/op its
// CPU time, peak-heap-MB the most heap in use (heapwatch.Bench: the
// benchmark's own inputs, 32 MiB, included, and without the memory budget
// of the program, whose limit is process-wide); "out-B" is the size of its
// output. Issue 10's target (under 1 s and 100 MB per run) is about the
// program: BenchmarkHostileProcess measures it.
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
// its own per run, with the input on standard input, started by the small
// launcher internal/heapwatch/maxrss (a process started by this large one
// would count this one's memory in its peak). It reports the process's
// peak resident set (max-rss-MB, in MB of 10^6 bytes, the most of any run:
// what the operating system counts, the collector's headroom, the runtime
// and the program's code included) and its CPU time (cpu-s/op, user and
// system). Issue 10's target is under 1 s and under 100 MB for each.
// (Unix only: getrusage.)
func BenchmarkHostileProcess(b *testing.B) {
	dir := b.TempDir()
	bin, launcher := filepath.Join(dir, "capspec"), filepath.Join(dir, "maxrss")
	for _, p := range [][2]string{{bin, "../cmd/capspec"}, {launcher, "../internal/heapwatch/maxrss"}} {
		if out, err := exec.Command("go", "build", "-o", p[0], p[1]).CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", p[1], err, out)
		}
	}
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
					var stderr strings.Builder
					cmd := exec.Command(launcher, append([]string{bin}, c.args...)...)
					cmd.Stdin, cmd.Stderr = f, &stderr
					cmd.Env = append(os.Environ(), "GOMEMLIMIT=", "NO_COLOR=1")
					err = cmd.Run()
					f.Close()
					if _, ok := err.(*exec.ExitError); err != nil && !ok {
						b.Fatal(err)
					}
					var r int64
					var s float64
					lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
					if _, err := fmt.Sscanf(lines[len(lines)-1], "maxrss %d cpu %g", &r, &s); err != nil {
						b.Fatalf("maxrss: %v in %q", err, lines[len(lines)-1])
					}
					rss, cpu = max(rss, r), cpu+s
				}
				b.ReportMetric(float64(rss)/1e6, "max-rss-MB")
				b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			})
		}
	}
}
