package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/capspec/capspec/cli"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"capspec": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the command scripts in testdata/script, one per command
// and behaviour; each names the exit statuses and output it expects.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": exitCode,
			"waitfor":  waitFor,
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			env.Setenv("FORCE_COLOR", "")
			return nil
		},
	})
}

// exitCode is the script command "exitcode N COMMAND [ARGS...]": it runs
// the command as exec does (its output is then checked with stdout and
// stderr) and fails unless the command exits with status N. It is how a
// script expects a failure, since "! exec" only says the status was not 0.
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("exitcode cannot be negated: name the status")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: status %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// TestScriptsNameExitStatus checks that no script expects a failure with
// "! exec", which accepts any non-zero status, or checks a status through a
// shell (a status.sh helper, "echo status $?"): each says which status it
// expects with exitcode, the one convention.
func TestScriptsNameExitStatus(t *testing.T) {
	paths, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			l := strings.TrimSpace(line)
			for strings.HasPrefix(l, "[") && strings.Contains(l, "] ") { // conditions
				l = strings.TrimSpace(l[strings.Index(l, "] ")+1:])
			}
			if strings.HasPrefix(l, "! exec") || strings.Contains(l, "status.sh") || strings.Contains(l, "echo status $?") {
				t.Errorf("%s:%d: %q: write exitcode N instead, with the status expected", p, i+1, line)
			}
			if strings.HasPrefix(line, "-- ") {
				break // the files of the archive
			}
		}
	}
}

// waitFor is the script command "waitfor FILE REGEXP": it waits (up to 20
// seconds) until FILE exists and matches REGEXP, for a command running in
// the background (capspec proxy) to have written it.
func waitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor FILE REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && re.Match(b) {
			return
		}
	}
	ts.Fatalf("%s does not match %q after 20s", args[0], args[1])
}
