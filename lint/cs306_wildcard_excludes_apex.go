package lint

import (
	"golang.org/x/net/publicsuffix"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var wildcardExcludesApexRule = Rule{
	ID:       "CS306",
	Name:     "wildcard-excludes-apex",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "*.x granted for a kind and protocol while x itself is not: says so, in case the apex was meant",
		Rationale: `*.example.com matches names below example.com (a.example.com, a.b.example.com)
but not example.com itself. When no other rule of the same kind and protocol
grants example.com (exactly, through *, or through a wildcard above it), the
policy may miss the apex its author meant. Resolve rules count the resolves
that outbound rules imply. Add a rule for the apex if it was meant; otherwise
ignore this note. No note is given when the apex is a public suffix (com,
co.uk, github.io, or any single label such as internal): no one means to grant
a top-level domain itself, and CS203 reports wildcards over listed suffixes.`,
		Bad:  "--allow-resolve=*.example.com\n",
		Good: "--allow-resolve=*.example.com\n--allow-resolve=example.com\n",
	},
	Run: runWildcardExcludesApex,
}

// grantKey is a kind and protocol.
type grantKey struct {
	kind  ast.Kind
	proto ast.Protocol
}

func runWildcardExcludesApex(p *Pass) {
	// The hosts of the name rules of each kind and protocol, the implied
	// resolves included, as compiled: a set, so that whether one matches
	// an apex is a few lookups (policy.NameCandidates), not a pass over
	// every rule.
	type grantHost struct {
		grantKey
		host policy.Host
	}
	grants := map[grantHost]bool{}
	for _, r := range p.Rules() {
		if r.Kind == ast.Inbound || !r.Host.Kind.IsName() && r.Host.Kind != policy.AnyHost {
			continue
		}
		grants[grantHost{grantKey{r.Kind, r.Protocol}, r.Host}] = true
		if ir := r.ImpliedResolve(); ir != nil {
			grants[grantHost{grantKey{ast.Resolve, ast.NoProtocol}, ir.Host}] = true
		}
	}
	covered := func(k grantKey, apex string) bool {
		found := false
		policy.NameCandidates(apex, func(h policy.Host) {
			found = found || grants[grantHost{k, h}] && h.MatchesName(apex)
		})
		return found
	}
	reported := map[grantKey]map[string]bool{}
	for _, r := range p.Rules() {
		if r.Kind == ast.Inbound || r.Host.Kind != policy.WildcardHost {
			continue
		}
		k := grantKey{r.Kind, r.Protocol}
		apex := r.Host.Name
		if reported[k][apex] || covered(k, apex) || isPublicSuffix(apex) {
			continue
		}
		if reported[k] == nil {
			reported[k] = map[string]bool{}
		}
		reported[k][apex] = true
		what := r.Kind.String()
		if r.Protocol != ast.NoProtocol {
			what += " " + r.Protocol.String()
		}
		// The suggestion is the rule with the apex for host, spelled as
		// capspec spells rules.
		withApex := *r
		withApex.Host = policy.Host{Kind: policy.NameHost, Name: apex}
		p.Report(diag.Diagnostic{
			Range:   r.Source.Range(hostNode(r)),
			Summary: "*." + apex + " does not match " + apex + " itself, and no " + what + " rule grants it",
			Detail:  "if " + apex + " was meant too, add " + withApex.String(),
		})
	}
}

// isPublicSuffix reports whether a name is a public suffix by the Public
// Suffix List, its default rule included (any single label).
func isPublicSuffix(name string) bool {
	ps, _ := publicsuffix.PublicSuffix(name)
	return ps == name
}
