package lint

import (
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/diff"
)

// CS401 compares each rule with a maximum policy given to lint
// (capspec lint --within MAX, Options.Within); without one it reports
// nothing. Its examples start with a "# maximum:" line holding the
// maximum's flags, which the tests read.

var exceedsMaximumRule = Rule{
	ID:               "CS401",
	Name:             "exceeds-maximum",
	Severity:         diag.Error,
	SecuritySeverity: 7.0,
	Doc: Doc{
		Summary: "the rule allows a request that the maximum policy (lint --within MAX) does not",
		Rationale: `An organisation can keep the widest policy it accepts in a flags file and check
every service's policy against it in CI with capspec lint --within MAX
(repeatable: the maxima are merged). Each rule that allows a request the
maximum does not is reported, with one such request and the rule of the
maximum that came closest, and why it misses; a rule whose implied lookup
escapes the maximum is reported with the lookup. The comparison is on
meaning (mappings and implied lookups included). Narrow the rule, widen the
maximum on purpose, or suppress the finding with a reason.`,
		Bad:  "# maximum: --allow-outbound=tcp://10.1.0.0/16:5432\n--allow-outbound=tcp://10.0.0.0/8:5432\n",
		Good: "# maximum: --allow-outbound=tcp://10.1.0.0/16:5432\n--allow-outbound=tcp://10.1.2.0/24:5432\n",
	},
	Run: runExceedsMaximum,
}

func runExceedsMaximum(p *Pass) {
	m := p.shared.within
	if m == nil {
		return
	}
	cp, _ := p.compiled()
	if len(cp.Rules) == 0 {
		return
	}
	first := cp.Rules[0].Range()
	// Each excess becomes its finding as it comes: a run may find a
	// hundred thousand, and neither their nearest rules nor the rules
	// they are about are held once reported (Lint runs this rule last, and
	// needs the compiled policy no more).
	p.shared.policy = nil
	err := m.EachExcess(cp, func(x diff.Excess) {
		summary, detail := m.Describe(x)
		p.Report(diag.Diagnostic{Range: valueRange(x.Rule.Source), Summary: summary, Detail: detail})
	})
	if err != nil {
		// An example the reference evaluator does not confirm is a bug;
		// say so on the first rule rather than report what is not sure.
		p.Reportf(first, nil, "cannot check against %s: %v", m.Name, err)
	}
}
