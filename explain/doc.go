// Package explain says in plain words what a policy allows: one sentence
// per rule (in the spirit of the WASI "Granting access" comments), the
// effective grants grouped as lookups, outbound connections and inbound
// listeners with the implied lookups marked by the rule implying them, what
// is denied in broad strokes, and the risks (warning-level lint findings).
//
// Explain makes an Account from a compiled policy in one pass; WriteText,
// WriteTable and WriteJSON render accounts. The JSON document is described
// in docs/explain.md.
package explain
