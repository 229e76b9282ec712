// Package interop translates capspec policies to and from the network
// permissions of the WebAssembly runtimes people use today — Spin, Deno,
// wasmer, WAMR (iwasm) and wasmtime — and says exactly what a translation
// loses.
//
// Each runtime's semantics is a model (a decision function over capspec
// requests, eval.Request) written from the runtime's source; docs/interop.md
// gives the source of every claim. ExportPolicy writes the runtime's
// closest configuration to a policy, reads it back as the runtime would,
// and compares the two: the boundaries of both sides (names, networks,
// ports) cut the space of requests into cells on which both decide alike,
// one request per cell is decided by both, and every cell where they
// differ becomes part of a Difference, charged to the rule or entry that
// allows it and shown by an example request (checked with
// eval.NewReference). The connects and sends to unspecified addresses
// (0.0.0.0/8, [::]), which capspec denies whatever the rules say and the
// runtimes allow, are one difference of their own (Difference.Unspecified),
// left out of Export.Wider and Import.Exact. ImportConfig goes the other
// way: a runtime's configuration as canonical capspec flags, with the same
// computed report.
package interop
