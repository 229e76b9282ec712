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

// BenchmarkDiffCommand runs "capspec diff OLD NEW" and "capspec lint
// --within MAX" as a user would, on the pairs of package diff's benchmarks
// (policygen.DiffPair) written to flags files: a change of about 1% of the
// rules (shuffled), and two unrelated policies, at 10k and 100k rules;
// the output goes to nowhere. The target is under 1 s at 10k rules, under
// 10 s and 500 MB at 100k; peak-heap-MB is the most heap in use during
// the run (the process's RSS is some tens of MB more).
func BenchmarkDiffCommand(b *testing.B) {
	dir := b.TempDir()
	for _, n := range []int{10000, 100000} {
		for _, related := range []bool{true, false} {
			kind := "change"
			if !related {
				kind = "unrelated"
			}
			old, new := policygen.DiffPair(n, related)
			oldPath := filepath.Join(dir, fmt.Sprintf("%d-%s-old.flags", n, kind))
			newPath := filepath.Join(dir, fmt.Sprintf("%d-%s-new.flags", n, kind))
			for path, flags := range map[string][]string{oldPath: old, newPath: new} {
				if err := os.WriteFile(path, []byte(strings.Join(flags, "\n")+"\n"), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			runs := []struct {
				name string
				args []string
			}{
				{"diff", []string{"diff", "--exit-code", oldPath, newPath}},
				{"diff-json", []string{"diff", "--exit-code", "--format", "json", oldPath, newPath}},
				{"within", []string{"lint", "--within", oldPath, newPath}},
			}
			for _, r := range runs {
				b.Run(fmt.Sprintf("%s/rules=%d/%s", r.name, n, kind), func(b *testing.B) {
					if !related && n > 10000 && testing.Short() {
						b.Skip("long")
					}
					heapwatch.Bench(b, func() {
						var stderr strings.Builder
						code := Run(Env{Args: append([]string{"capspec"}, r.args...), Stdout: io.Discard, Stderr: &stderr})
						if code != ExitFailed { // every pair differs
							b.Fatalf("exit %d: %s", code, stderr.String())
						}
					})
				})
			}
		}
	}
}
