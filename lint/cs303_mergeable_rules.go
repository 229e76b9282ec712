package lint

import "github.com/capspec/capspec/diag"

var mergeableRulesRule = Rule{
	ID:       "CS303",
	Name:     "mergeable-rules",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "rules that merge into one (SPEC §4.3); fix: merge",
		Rationale: `Rules of the same kind, protocol, host, family and mappings differ only in
their ports and read better as one rule; so do rules equal but for #ipv4-only
and #ipv6-only, and address rules whose networks aggregate into fewer prefixes.
The fix writes the merged rule in place of the first and deletes the others.`,
		Bad: `--allow-outbound=tcp://example.com:80
--allow-outbound=tcp://example.com:443
`,
		Good: `--allow-outbound=tcp://example.com:80,443
--allow-outbound=udp://example.com:443
`,
	},
	Run: runMergeableRules,
}

func runMergeableRules(p *Pass) {}
