//go:build js && wasm

// Command wasm is capspec's playground API (package playground) compiled to
// WebAssembly for the page of `capspec playground`. It is glue only: it
// sets the global object "capspec" whose functions take strings and return
// JSON strings (or {"error": "..."} should capspec panic, so that the page
// lives on), then calls the page's capspecReady() and waits.
//
//	capspec.analyze(policy, requests, old, interfaces) → playground.Analysis
//	capspec.lint(policy)                               → []playground.Diagnostic
//	capspec.format(policy)                             → playground.Panel
//	capspec.explain(policy)                            → playground.Panel
//	capspec.eval(policy, requests, interfaces)         → playground.EvalResult
//	capspec.diff(old, policy)                          → playground.DiffResult
//
// Rebuild it with `go generate ./playground/...` (see docs/playground.md).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"syscall/js"

	"github.com/capspec/capspec/playground"
)

func main() {
	// Collect garbage less often: a keystroke allocates a few hundred
	// kilobytes, and the page can afford a larger heap better than pauses
	// while typing (WebAssembly has one thread, so the collector stops it).
	debug.SetGCPercent(400)
	// One session for the page: a text that did not change since the last
	// call (the old policy, while the policy is typed) is not read again.
	var s playground.Session
	api := js.Global().Get("Object").New()
	export := func(name string, nargs int, f func(args []string) any) {
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) (result any) {
			// A panic would end the Go program and leave the page dead:
			// it is answered as {"error": ...} instead, which the page shows.
			defer func() {
				if p := recover(); p != nil {
					result = `{"error":` + quote(fmt.Sprintf("capspec.%s failed: %v", name, p)) + `}`
				}
			}()
			ss := make([]string, nargs)
			for i := range ss {
				if i < len(args) && args[i].Type() == js.TypeString {
					ss[i] = args[i].String()
				}
			}
			return encode(f(ss))
		}))
	}
	export("analyze", 4, func(a []string) any {
		return s.Analyze(playground.Input{Policy: a[0], Requests: a[1], Old: a[2], Interfaces: a[3]})
	})
	export("lint", 1, func(a []string) any { return s.Lint(a[0]) })
	export("format", 1, func(a []string) any { return s.Format(a[0]) })
	export("explain", 1, func(a []string) any { return s.Explain(a[0]) })
	export("eval", 3, func(a []string) any { return s.Eval(a[0], a[1], a[2]) })
	export("diff", 2, func(a []string) any { return s.Diff(a[0], a[1]) })
	api.Set("defaultInterfaces", playground.DefaultInterfaces)
	js.Global().Set("capspec", api)
	if ready := js.Global().Get("capspecReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// encode writes v as JSON, without HTML escaping ("->" stays readable).
func encode(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return `{"error":` + quote(err.Error()) + `}`
	}
	return b.String()
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
