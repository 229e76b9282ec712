// Package policy gives parsed flags their meaning (SPEC §3) and provides the
// set operations that lint, fmt, explain and eval share.
//
// # Model
//
// Compile turns ast.Policy values into a Policy: compiled Rules in flag
// order, plus Resolves, the resolve rules in effect (explicit ones and the
// ones outbound rules to names imply, §3.4, marked by ImpliedBy). A Rule is:
//
//   - Kind (resolve, outbound, inbound) and Protocol (tcp, udp; none for resolve);
//   - Host: AnyHost "*", AddressHost (an IP as a /32 or /128 prefix, or a
//     CIDR), LocalhostHost, InterfaceHost (inbound), NameHost (exact,
//     lowercase A-labels, no trailing dot) or WildcardHost ("*.x": one or
//     more whole labels before x, never x itself);
//   - Ports: a PortSet of sorted, merged ranges ("*" is 1-65535 outbound,
//     0-65535 inbound; inbound 0 is "a port the system picks");
//   - Families: the effective families, the modifier narrowed by what an
//     address or host mapping implies. Inbound 0.0.0.0 and [::] compile to
//     "*" with IPv4 or IPv6 only; "..." compiles to "*" with every port;
//   - HostMap ("name->ip") and PortMap (guest range -> host range);
//   - Index, Source and Sources: where it came from (for ranges and text).
//
// Compile reports CS101 mapping conflicts (a name mapped to two addresses of
// one family; one guest port to two host ports; two guest ports onto one
// inbound host port) for rules whose hosts and families overlap; an
// outbound rule to a name overlaps a network holding an address the name
// is mapped to by any rule. Where several rules match one request, a
// mapping rule wins over one without; the evaluator breaks remaining ties
// without regard to rule order (package eval, docs/eval.md).
//
// # Operations
//
//   - Rule.String: the canonical flag (§4.1, §4.2); Rule.Spec without the
//     flag name. Host.String, PortSet.Spell, Families.Modifier spell parts.
//   - Rule.ImpliedResolve: the resolve rule an outbound name rule implies.
//   - Covers(a, b): a grants everything b grants by itself.
//   - Merge(a, b): one rule granting both, when §4.3 allows.
//   - Subtract(a, b): rules for what b grants and a does not.
//   - MergeAll: §4.3 to a fixpoint, including CIDR aggregation (netipx).
//   - Subsume: §4.4, dropping rules other kept rules grant, last to first.
//   - Sort and Compare: §4.5 canonical order; Canonicalize does §4 steps 2-5.
//   - Rule.Key and Group: bucket rules by kind, protocol, host, families and
//     mappings so that callers compare within buckets, not all pairs.
//
// PortSet and Families are small value types with set operations of their
// own (Contains, Covers, Union, Intersect, Minus; Has, Overlaps).
package policy
