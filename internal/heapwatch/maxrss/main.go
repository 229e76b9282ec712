//go:build unix

// Command maxrss runs a command and prints, on standard error, the peak
// resident set of the command's process (in bytes) and its CPU time (in
// seconds, user and system): "maxrss BYTES cpu SECONDS". Its exit status
// is the command's. It is the launcher of cli's BenchmarkHostileProcess:
// a process started by a large one inherits, on Linux, the high-water mark
// of its parent's memory in its own peak resident set (getrusage's
// ru_maxrss counts the memory a child shared before exec), so the commands
// measured are started from this small process instead. (Unix only.)
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: maxrss COMMAND [ARG]...")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "maxrss:", err)
		os.Exit(2)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "maxrss: no resource usage on this system")
		os.Exit(2)
	}
	cpu := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	fmt.Fprintf(os.Stderr, "maxrss %d cpu %.6f\n", ru.Maxrss*1024, cpu) // (ru_maxrss is in kilobytes on Linux)
	os.Exit(cmd.ProcessState.ExitCode())
}
