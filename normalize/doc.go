// Package normalize rewrites a policy into capspec's canonical form (SPEC
// §4): spelling, ports, merge, subsume and order, one pass each, never
// changing what the policy allows.
package normalize
