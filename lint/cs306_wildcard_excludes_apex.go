package lint

import (
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
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
ignore this note.`,
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

// nameGrants is what the name rules of one kind and protocol match.
type nameGrants struct {
	any       bool
	exact     map[string]bool
	wildcards map[string]bool // the x of *.x
}

// covers reports whether the grants match name.
func (g *nameGrants) covers(name string) bool {
	if g == nil {
		return false
	}
	if g.any || g.exact[name] {
		return true
	}
	for i := strings.IndexByte(name, '.'); i >= 0; i = strings.IndexByte(name, '.') {
		name = name[i+1:]
		if g.wildcards[name] {
			return true
		}
	}
	return false
}

func runWildcardExcludesApex(p *Pass) {
	grants := map[grantKey]*nameGrants{}
	add := func(k grantKey, h *ast.Host) {
		g := grants[k]
		if g == nil {
			g = &nameGrants{exact: map[string]bool{}, wildcards: map[string]bool{}}
			grants[k] = g
		}
		switch h.Kind {
		case ast.HostAny:
			g.any = true
		case ast.HostDomain, ast.HostLocalhost:
			g.exact[h.Name] = true
		case ast.HostWildcard:
			g.wildcards[h.Name] = true
		}
	}
	for _, r := range p.Policy.Rules {
		if r.Host == nil || r.Kind() == ast.Inbound {
			continue
		}
		add(grantKey{r.Kind(), r.Protocol()}, r.Host)
		if r.Kind() == ast.Outbound && r.Host.Kind.IsName() {
			add(grantKey{ast.Resolve, ast.NoProtocol}, r.Host) // the implied resolve
		}
	}
	reported := map[grantKey]map[string]bool{}
	for _, r := range p.Policy.Rules {
		if r.Host == nil || r.Host.Kind != ast.HostWildcard {
			continue
		}
		k := grantKey{r.Kind(), r.Protocol()}
		apex := r.Host.Name
		if grants[k].covers(apex) || reported[k][apex] {
			continue
		}
		if reported[k] == nil {
			reported[k] = map[string]bool{}
		}
		reported[k][apex] = true
		what := r.Kind().String()
		if r.Protocol() != ast.NoProtocol {
			what += " " + r.Protocol().String()
		}
		suggestion := r.Text[:r.Host.Start] + apex + r.Text[r.Host.End:]
		if r.Flag.Form == ast.TwoWords {
			suggestion = r.Kind().FlagName() + "=" + r.Text[r.Flag.End+1:r.Host.Start] + apex + r.Text[r.Host.End:]
		}
		p.Report(diag.Diagnostic{
			Range:   r.Range(r.Host),
			Summary: "*." + apex + " does not match " + apex + " itself, and no " + what + " rule grants it",
			Detail:  "if " + apex + " was meant too, add " + suggestion,
		})
	}
}
