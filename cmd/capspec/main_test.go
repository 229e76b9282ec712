package main

import (
	"os"
	"regexp"
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
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"waitfor": waitFor},
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			env.Setenv("FORCE_COLOR", "")
			return nil
		},
	})
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
