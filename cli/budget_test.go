package cli

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestMemoryBudget(t *testing.T) {
	for _, tc := range []struct {
		n, want int64
	}{
		{0, 72 << 20},
		{1 << 20, 72 << 20},
		{1<<20 + 1, 72<<20 + 160},
		{4 << 20, 72<<20 + 160*3<<20},
	} {
		if got := memoryBudget(tc.n); got != tc.want {
			t.Errorf("memoryBudget(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// TestInputReadSetsBudget runs commands with Env.MemoryBudget and checks
// the soft memory limit they leave: the budget of what a one-shot command
// read, none for a long-running command, none when GOMEMLIMIT is set or a
// limit was set before, none without MemoryBudget. (The limit is
// process-wide: this test does not run in parallel, and restores it.)
func TestInputReadSetsBudget(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	reset := func() { debug.SetMemoryLimit(math.MaxInt64) }
	input := strings.Repeat("--allow-outbound=tcp://example.com:443\n", 40000) // 1.5 MiB
	run := func(budget bool, gomemlimit string, args ...string) {
		reset()
		Run(Env{Args: append([]string{"capspec"}, args...), Stdin: strings.NewReader(input),
			Stdout: new(strings.Builder), Stderr: new(strings.Builder), MemoryBudget: budget,
			Getenv: func(k string) string {
				if k == "GOMEMLIMIT" {
					return gomemlimit
				}
				return ""
			}})
	}
	run(true, "", "fmt", "--check", "-")
	argv := int64(len("capspec") + len("fmt") + len("--check") + len("-")) // (the command line is input too)
	if got, want := limit(), memoryBudget(argv+int64(len(input))); got != want {
		t.Errorf("fmt --check: limit %d, want %d", got, want)
	}
	run(false, "", "fmt", "--check", "-")
	if got := limit(); got != math.MaxInt64 {
		t.Errorf("without MemoryBudget: limit %d, want none", got)
	}
	run(true, "200MiB", "fmt", "--check", "-")
	if got := limit(); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: limit %d, want none (the runtime's own)", got)
	}
	debug.SetMemoryLimit(1 << 30) // a limit of the process's own wins
	Run(Env{Args: []string{"capspec", "fmt", "--check", "-"}, Stdin: strings.NewReader(input),
		Stdout: new(strings.Builder), Stderr: new(strings.Builder), MemoryBudget: true})
	if got := limit(); got != 1<<30 {
		t.Errorf("with a limit set before: limit %d, want it kept", got)
	}
	reset()
	a := &app{env: Env{MemoryBudget: true, Getenv: func(string) string { return "" }}, longRunning: true}
	a.inputRead(len(input))
	if got := limit(); got != math.MaxInt64 {
		t.Errorf("long-running command: limit %d, want none", got)
	}
}
