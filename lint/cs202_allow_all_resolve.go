package lint

import (
	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var allowAllResolveRule = Rule{
	ID:               "CS202",
	Name:             "allow-all-resolve",
	Severity:         diag.Warning,
	SecuritySeverity: 5.0,
	Doc: Doc{
		Summary: "--allow-resolve=* (any name may be looked up)",
		Rationale: `Allowing every lookup lets the guest send arbitrary data to any DNS server on
the path (DNS tunnelling) and learn about the internal network by name. Allow
the names the guest needs; outbound rules to names already imply their
lookups.`,
		Bad:  "--allow-resolve=*\n",
		Good: "--allow-resolve=*.example.com\n",
	},
	Run: runAllowAllResolve,
}

func runAllowAllResolve(p *Pass) {
	for _, r := range p.Rules() {
		if r.Kind == ast.Resolve && r.Host.Kind == policy.AnyHost {
			p.reportAt(r, hostNode(r), "--allow-resolve=%s allows lookups of any name", hostText(r))
		}
	}
}
