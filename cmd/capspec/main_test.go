package main

import (
	"os"
	"testing"

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
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			env.Setenv("FORCE_COLOR", "")
			return nil
		},
	})
}
