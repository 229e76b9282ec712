package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capspec/capspec/internal/heapwatch"
	"github.com/capspec/capspec/internal/policygen"
)

// BenchmarkEvalCommand runs "capspec eval --policy P --requests R" as a
// user would: 100 000 rules read from a flags file, parsed, compiled and
// indexed, then 100 000 distinct requests read, decided, explained and
// written (to nowhere), in text and JSON. The target is under 10 s and
// 500 MB; peak-heap-MB is the most heap in use during the run.
func BenchmarkEvalCommand(b *testing.B) {
	const rules, requests = 100000, 100000
	dir := b.TempDir()
	pol, req := filepath.Join(dir, "policy.flags"), filepath.Join(dir, "requests.txt")
	if err := os.WriteFile(pol, []byte(strings.Join(policygen.Bench(rules), "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(req, []byte(policygen.BenchRequests(requests, rules)), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		b.Run(fmt.Sprintf("%s/rules=%d/requests=%d", format, rules, requests), func(b *testing.B) {
			heapwatch.Bench(b, func() {
				var stderr strings.Builder
				code := Run(Env{Args: []string{"capspec", "eval", "--format", format, "--iface", "eth0=10.0.0.5/24", "--policy", pol, "--requests", req},
					Stdout: io.Discard, Stderr: &stderr})
				if code != ExitFailed { // some requests are denied
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			})
		})
	}
}
