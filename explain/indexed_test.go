package explain

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/hostile"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// trickyFlags are flags whose grants cover, overlap or override one
// another in every way the indexes must find: "*", networks of every
// length, loopback, names, wildcards at several depths, host and port
// mappings, families, interfaces, both protocols and all kinds.
var trickyFlags = []string{
	"--allow-resolve=*",
	"--allow-resolve=*#ipv4-only",
	"--allow-resolve=db.example.com",
	"--allow-resolve=db.example.com->10.0.0.5",
	"--allow-resolve=*.example.com",
	"--allow-resolve=*.a.example.com#ipv6-only",
	"--allow-resolve=localhost",
	"--allow-resolve=a.example.com->[2001:db8::1]",
	"--allow-outbound=tcp://*:*",
	"--allow-outbound=tcp://*:443",
	"--allow-outbound=tcp://*:80->8080",
	"--allow-outbound=tcp://0.0.0.0/0:443#ipv4-only",
	"--allow-outbound=tcp://[::/0]:443",
	"--allow-outbound=tcp://10.0.0.0/8:*",
	"--allow-outbound=tcp://10.0.0.0/24:5432",
	"--allow-outbound=tcp://10.0.0.5:5432->5433",
	"--allow-outbound=tcp://10.0.0.5:5432",
	"--allow-outbound=tcp://127.0.0.0/8:80",
	"--allow-outbound=tcp://localhost:80",
	"--allow-outbound=tcp://localhost:80->8080",
	"--allow-outbound=tcp://db.example.com:5432",
	"--allow-outbound=tcp://db.example.com->10.0.0.5:5432->6432",
	"--allow-outbound=tcp://*.example.com:443,5432",
	"--allow-outbound=tcp://*.example.com:1000-3000->5000-7000",
	"--allow-outbound=tcp://a.example.com:2000",
	"--allow-outbound=udp://*:53",
	"--allow-outbound=udp://*.example.com:53->5353",
	"--allow-outbound=tcp://[2001:db8::/32]:443",
	"--allow-outbound=tcp://[2001:db8::1]:443->8443",
	"--allow-inbound=tcp://*:80",
	"--allow-inbound=tcp://*:80->8080",
	"--allow-inbound=tcp://*:1-2000",
	"--allow-inbound=tcp://localhost:80",
	"--allow-inbound=tcp://127.0.0.1:80->9090",
	"--allow-inbound=tcp://127.0.0.1:80",
	"--allow-inbound=tcp://eth0:80",
	"--allow-inbound=tcp://eth0:80,443",
	"--allow-inbound=tcp://127.0.0.1:80,81",
	"--allow-outbound=tcp://b.a.example.com:1500,5432",
	"--allow-outbound=tcp://10.0.0.7:79-81",
	"--allow-inbound=tcp://eth0:80->8081",
	"--allow-inbound=udp://*:53->5353",
	"--allow-inbound=udp://[::1]:53",
	"--allow-inbound=tcp://*:0",
}

// policies returns the policies the indexed passes are compared on: the
// golden archives, every pair and a run of triples of tricky flags, and
// generated large ones.
func policies(t *testing.T) map[string]string {
	t.Helper()
	out := goldenSections(t, func(name string) bool { return strings.HasSuffix(name, ".flags") })
	if b, err := os.ReadFile("../testdata/examples/seed.flags"); err == nil {
		out["seed"] = string(b)
	}
	n := len(trickyFlags)
	for i := range n {
		for j := range n {
			out[fmt.Sprintf("pair %d %d", i, j)] = trickyFlags[i] + "\n" + trickyFlags[j] + "\n"
			k := (i*7 + j*3) % n
			out[fmt.Sprintf("triple %d %d %d", i, j, k)] = trickyFlags[i] + "\n" + trickyFlags[j] + "\n" + trickyFlags[k] + "\n"
		}
	}
	out["all tricky"] = strings.Join(trickyFlags, "\n")
	out["generated 3000"] = hostile.Policy(3000)
	return out
}

// TestIndexedSameAsReference checks that the indexed passes of an account
// (grants, covered connection grants, risks, the apex denials) give what
// the quadratic ones they replaced give, on policies where grants cover,
// overlap and override one another.
func TestIndexedSameAsReference(t *testing.T) {
	compared := 0
	for name, text := range policies(t) {
		ins, err := source.FlagsFile{Name: "p.flags", Content: text}.Read()
		if err != nil {
			t.Fatal(err)
		}
		p, ds := grammar.Parse(ins[0])
		findings := lint.Lint(ins[0], p, ds, lint.Options{})
		cp, errs := policy.Compile(p)
		if len(errs) > 0 || len(ds) > 0 {
			continue // conflicts (CS101) or errors: nothing to explain
		}
		compared++
		if diff := cmp.Diff(grantsText(grantsReference(cp)), grantsText(grants(cp))); diff != "" {
			t.Errorf("%s: grants (-reference +indexed):\n%s", name, diff)
		}
		conns := policy.Canonicalize(append(cp.OfKind(ast.Outbound), cp.OfKind(ast.Inbound)...))
		if diff := cmp.Diff(rulesText(dropCoveredReference(conns)), rulesText(dropCovered(conns))); diff != "" {
			t.Errorf("%s: dropCovered (-reference +indexed):\n%s", name, diff)
		}
		if diff := cmp.Diff(risksReference(cp, ins[0].Flags, findings), risks(cp, ins[0].Flags, findings)); diff != "" {
			t.Errorf("%s: risks (-reference +indexed):\n%s", name, diff)
		}
		gs := grants(cp)
		f := gather(gs)
		lookups := policy.NewIndex(f.lookups)
		for _, r := range f.lookups {
			if r.Host.Kind == policy.WildcardHost && lookupGranted(f.lookups, lookups, r) != lookupGrantedReference(f.lookups, r.Host.Name) {
				t.Errorf("%s: lookupGranted(%s) differs", name, r)
			}
		}
		for _, rs := range f.out {
			byHost := policy.NewIndex(rs)
			for _, r := range rs {
				if r.Host.Kind == policy.WildcardHost && outboundToName(rs, byHost, r) != outboundToNameReference(rs, r.Host.Name) {
					t.Errorf("%s: outboundToName(%s) differs", name, r)
				}
			}
		}
	}
	if compared < 1000 {
		t.Errorf("only %d policies compared", compared)
	}
}

// grantsText is what a comparison of grants looks at: each grant's rule
// (as text), summary and rule lists.
func grantsText(gs []Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, fmt.Sprintf("%s | %s | rules %v implied by %v also %v overridden by %v", g.Rule, g.Summary, g.Rules, g.ImpliedBy, g.Also, g.OverriddenBy))
	}
	return out
}

// rulesText writes rules as text.
func rulesText(rs []*policy.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}
