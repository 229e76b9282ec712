package lint

import (
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/policy"
)

var publicSuffixWildcardRule = Rule{
	ID:               "CS203",
	Name:             "public-suffix-wildcard",
	Severity:         diag.Warning,
	SecuritySeverity: 6.5,
	Doc: Doc{
		Summary: "wildcard over a public suffix (*.com, *.co.uk, *.github.io), per the Public Suffix List",
		Rationale: `A public suffix is a name under which anyone can register their own domain: a
top-level domain (com), a registry's second level (co.uk), or a hosting
provider's shared domain (github.io). A wildcard over one grants every site any
stranger can set up there. The check uses the ICANN and private sections of the
Public Suffix List; a name that is only a suffix by the list's default rule
(an unlisted top-level label such as "internal") is not reported. Name the
domain you mean: *.example.co.uk, *.myorg.github.io.`,
		Bad:  "--allow-resolve=*.github.io\n",
		Good: "--allow-resolve=*.myorg.github.io\n",
	},
	Run: runPublicSuffixWildcard,
}

func runPublicSuffixWildcard(p *Pass) {
	for _, r := range p.Rules() {
		if r.Host.Kind != policy.WildcardHost {
			continue
		}
		if section, ok := publicSuffixSection(r.Host.Name); ok {
			p.reportAt(r, hostNode(r), "*.%s covers every domain anyone can register under the public suffix %s (%s section of the Public Suffix List)", r.Host.Name, r.Host.Name, section)
		}
	}
}

// publicSuffixSection reports whether name is listed as a public suffix,
// and in which section ("ICANN" or "private"). A name that is a suffix
// only by the list's default rule "*" (an unlisted top-level label) is not.
func publicSuffixSection(name string) (string, bool) {
	ps, icann := publicsuffix.PublicSuffix(name)
	if ps != name {
		return "", false
	}
	if icann {
		return "ICANN", true
	}
	if strings.Contains(ps, ".") {
		return "private", true
	}
	return "", false
}
