package lint

import "github.com/capspec/capspec/diag"

// dynamicValueRule is reported by the shell source (package source) while
// reading a script; it has no Run.
var dynamicValueRule = Rule{
	ID:       "CS013",
	Name:     "dynamic-value",
	Severity: diag.Warning,
	Doc: Doc{
		Summary: "in a shell script, a flag whose value depends on a variable, a command substitution or another expansion",
		Rationale: `capspec checks the flags a script passes literally. A value the shell computes
when the script runs ($PORT, $(cat hosts), {80,443}) cannot be known in
advance, so capspec does not guess it: the flag is left out of the policy and
reported. Write the flag literally to have it checked, or check the value
where it is computed. Reported for shell scripts (--shell) only; the examples
are scripts.`,
		Bad:  "wasmtime run --allow-outbound=tcp://api.example.com:$PORT app.wasm\n",
		Good: "wasmtime run --allow-outbound=tcp://api.example.com:443 app.wasm\n",
	},
}
