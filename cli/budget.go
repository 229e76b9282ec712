package cli

import (
	"math"
	"runtime/debug"
)

// The memory budget of a one-shot command (every command but the
// long-running proxy, lsp and playground): issue 10 promises that any
// command on any input of up to 1 MiB stays under 100 MB. What such a
// command keeps alive at its peak is 40 to 65 MB (docs/performance.md,
// "Memory"); the collector's default pacing lets the heap grow to twice
// what is alive before it collects, which alone would pass 100 MB, and the
// process holds about 12 MB more than its heap (the runtime, its code). A
// soft limit on the Go heap (debug.SetMemoryLimit) makes the collector run
// sooner instead, and only when the heap nears the budget: budgetBase for
// inputs up to 1 MiB, and budgetPerByte more for each byte beyond, well
// above what any command keeps alive per byte of input, so that a large
// input is never held to a limit below its live heap (which would make
// the collector run without pause; the runtime caps it at half the CPU
// even then). A GOMEMLIMIT in the environment is the user's choice and
// wins; so does a limit the process set before.
const (
	budgetBase    = 72 << 20
	budgetFree    = 1 << 20
	budgetPerByte = 160
)

// memoryBudget returns the soft memory limit for a one-shot command that
// has read inputs of n bytes in all.
func memoryBudget(n int64) int64 {
	return budgetBase + budgetPerByte*max(0, n-budgetFree)
}

// inputRead records that a command read n more bytes of input and, for a
// one-shot command run as the program (Env.MemoryBudget), sets the memory
// budget for what it has read so far.
func (a *app) inputRead(n int) {
	a.inputBytes += int64(n)
	if a.env.MemoryBudget && !a.longRunning && a.env.Getenv("GOMEMLIMIT") == "" {
		if a.budgetSet || debug.SetMemoryLimit(-1) == math.MaxInt64 {
			debug.SetMemoryLimit(memoryBudget(a.inputBytes))
			a.budgetSet = true
		}
	}
}
