// Package lint checks policies against the diagnostic rules of SPEC §5.
//
// Every rule is a Rule value in a file of its own: an ID, a name, a default
// severity, a doc with examples, and a Run function that inspects one
// policy through a Pass and reports diagnostics with ranges and suggested
// fixes, in the manner of go/analysis analyzers. The syntax and literal
// errors CS001–CS012 are reported by package grammar; they are registered
// here with their docs and no Run, so that every ID a user can see has one.
//
// Lint runs the rules over one parsed input, applies the input's
// "# capspec:ignore" suppressions and drops disabled IDs.
package lint

import (
	"fmt"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// Rule is one diagnostic rule.
type Rule struct {
	// ID is the rule's stable identifier, e.g. "CS203".
	ID string
	// Name is the rule's kebab-case name, e.g. "public-suffix-wildcard".
	Name string
	// Severity is the severity the rule reports with.
	Severity diag.Severity
	// SecuritySeverity scores a security rule from 0.1 to 10 (as CVSS
	// does; SARIF's security-severity). It is 0 for rules that are not
	// about security.
	SecuritySeverity float64
	// Doc explains the rule.
	Doc Doc
	// Run checks one policy. It is nil for rules that the reading and
	// parsing of inputs report.
	Run func(*Pass)
}

// Doc is the documentation of a rule.
type Doc struct {
	// Summary says in one line what the rule finds.
	Summary string
	// Rationale says why it matters and what to do about it.
	Rationale string
	// Bad is a flags file that the rule reports.
	Bad string
	// Good is a close flags file that the rule does not report.
	Good string
}

// IsSecurity reports whether the rule is about security.
func (r Rule) IsSecurity() bool { return r.SecuritySeverity > 0 }

// Rules returns every rule, ordered by ID. The slice is new on every call.
func Rules() []Rule {
	return []Rule{
		syntaxRule, portOutOfRangeRule, badPortZeroRule, badIPLiteralRule,
		ipv4MappedIPv6Rule, cidrHostBitsRule, badNameRule, badWildcardRule,
		badMappingRule, familyConflictRule, unspecifiedDestinationRule,
		invisibleCharactersRule, dynamicValueRule,
		mappingConflictRule,
		allowAllOutboundRule, allowAllResolveRule, publicSuffixWildcardRule,
		listenAllInterfacesRule, sensitiveDestinationRule,
		privilegedInboundPortRule, mixedScriptNameRule, inboundDomainLikeRule,
		underscoreInNameRule, embeddedIPv4Rule, detachedFamilyRule,
		unquotedGlobRule,
		duplicateRuleRule, subsumedRuleRule, mergeableRulesRule,
		impliedResolveRule, noncanonicalSpellingRule,
		wildcardExcludesApexRule,
		exceedsMaximumRule,
		exportWiderRule, exportNarrowerRule, exportMappingRule,
		importWiderRule, importNarrowerRule, unsupportedEntryRule, runtimeSyntaxRule,
		unjustifiedSuppressionRule,
	}
}

// Lookup finds a rule by ID or by name, ignoring case.
func Lookup(idOrName string) (Rule, bool) {
	for _, r := range Rules() {
		if strings.EqualFold(r.ID, idOrName) || strings.EqualFold(r.Name, idOrName) {
			return r, true
		}
	}
	return Rule{}, false
}

// Name returns the name of the rule with the given ID, or "".
func Name(id string) string {
	if r, ok := Lookup(id); ok && r.ID == id {
		return r.Name
	}
	return ""
}

// Pass is what a rule's Run sees of one policy, and how it reports.
type Pass struct {
	// Rule is the rule being run.
	Rule *Rule
	// Input is the text the policy was read from: its flags and comments.
	Input *source.Input
	// Policy is the parsed policy. Flags with errors are not in it;
	// Rule.Index is the index of a rule's flag in Input.Flags.
	Policy *ast.Policy

	shared *shared
	out    *diag.Store
}

// Report records a diagnostic of the pass's rule. An empty ID or a zero
// severity is filled in from the rule.
func (p *Pass) Report(d diag.Diagnostic) {
	if d.ID == "" {
		d.ID = p.Rule.ID
		d.Severity = p.Rule.Severity
	}
	p.out.Add(d)
}

// Reportf records a diagnostic of the pass's rule at r with a formatted
// summary and optional fixes.
func (p *Pass) Reportf(r diag.Range, fixes []diag.Fix, format string, args ...any) {
	p.Report(diag.Diagnostic{Range: r, Summary: fmt.Sprintf(format, args...), Fixes: fixes})
}

// File returns the content of an origin of the input, or nil.
func (p *Pass) File(origin string) *diag.File { return p.Input.File(origin) }

// Flag returns the flag a rule was parsed from.
func (p *Pass) Flag(r *ast.Rule) *source.Flag {
	if r.Index < 0 || r.Index >= len(p.Input.Flags) {
		return nil
	}
	return p.Input.Flags[r.Index]
}
