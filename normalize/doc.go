// Package normalize rewrites a policy into capspec's canonical form (SPEC
// §4), never changing what the policy allows.
//
// The five steps are functions of their own, composed in order by Rules
// and Format:
//
//   - Spell (steps 1 and 2): compile each flag; a compiled rule's String is
//     its canonical spelling, and its ports are a sorted, merged set;
//   - Merge (step 3): union of ports, #ipv4-only/#ipv6-only twins, CIDR
//     aggregation, to a fixpoint;
//   - Subsume (step 4): drop, from last to first in canonical order, the
//     rules the kept rules already grant (implied resolves included);
//   - Order (step 5): the canonical order.
//
// The meaning of each step lives in package policy (CompileRule, MergeAll,
// Subsume, Sort); this package composes them and carries the comments of a
// flags file along: a comment travels with the flag it stands above or
// beside, a merged rule keeps the comments of all its flags in order, and
// the comments of a dropped rule go to the rule that grants what it
// granted. Header and footer comments stay in place. Result.String prints
// the canonical flags file.
package normalize
