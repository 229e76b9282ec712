// Package peers decides one generated policy and one request set (the
// benchmark mix of internal/policygen) with capspec's index, a plain slice
// scan, cedar-go and OPA's Rego, so that they can be compared: what each
// decides (they must agree) and what each costs. It is its own module, so
// that cedar-go and OPA never become dependencies of capspec.
//
// Cedar and Rego answer allow or deny to one question, so the policy they
// are given and the questions they are asked follow capspec's meaning
// (SPEC §3) as a runtime enforcing the flags with them would: a request is
// asked per family; a connect by name first asks the lookup of the name;
// requests are normalized first (eval.Request.Normalize: names to
// lowercase A-labels, addresses unmapped), as capspec does. They model
// policies without mappings and without networks that cover a family
// only together (the mix has neither; Translate refuses others), and
// compare on what they can answer: allowed or not, and in which families.
package peers

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// Verdict is what every engine answers: allowed or not, in which families.
type Verdict struct {
	Allowed  bool
	Families policy.Families
}

// String writes "allow ipv4+ipv6" or "deny".
func (v Verdict) String() string {
	if !v.Allowed {
		return "deny"
	}
	return "allow " + v.Families.String()
}

// Engine decides requests.
type Engine interface {
	Decide(eval.Request) Verdict
}

// Maker builds an engine of a compiled policy and an interface table.
type Maker struct {
	Name string
	Make func(p *policy.Policy, ifaces *eval.Interfaces) (Engine, error)
}

// Makers are the engines compared, capspec's first.
var Makers = []Maker{
	{"capspec-index", func(p *policy.Policy, ifaces *eval.Interfaces) (Engine, error) {
		return decider{eval.NewIndex(p, ifaces)}, nil
	}},
	{"slice-scan", func(p *policy.Policy, ifaces *eval.Interfaces) (Engine, error) {
		s, err := policygen.NewScan(p, ifaces)
		if err != nil {
			return nil, err
		}
		return decider{s}, nil
	}},
	{"cedar-go", func(p *policy.Policy, ifaces *eval.Interfaces) (Engine, error) { return NewCedar(p, ifaces) }},
	{"opa-rego", func(p *policy.Policy, ifaces *eval.Interfaces) (Engine, error) { return NewRego(p, ifaces) }},
}

// decider is an Engine of a capspec eval.Decider.
type decider struct{ d eval.Decider }

func (e decider) Decide(q eval.Request) Verdict {
	d := e.d.Decide(q)
	return Verdict{Allowed: d.Allowed, Families: d.Families}
}

// Mix returns the policy of n rules and the requests of the benchmark mix.
func Mix(n int) (*policy.Policy, []eval.Request, error) {
	p, err := compile(policygen.MixPolicy(n))
	if err != nil {
		return nil, nil, fmt.Errorf("the mix policy of %d rules: %w", n, err)
	}
	return p, policygen.MixRequests(p, policygen.MixSize), nil
}

// Interfaces is the interface table of the mix.
func Interfaces() *eval.Interfaces { return policygen.Interfaces() }

// checkModel refuses a policy the allow-or-deny engines cannot model
// exactly (mappings, networks covering a family together): the slice scan
// makes the same refusal.
func checkModel(p *policy.Policy) error {
	_, err := policygen.NewScan(p, nil)
	return err
}

// A question is one allow-or-deny question to an engine: one request in
// one family.
type question struct {
	op       eval.Op
	family   policy.Families
	name     string     // lookup; connect or send by name or via a name
	addr     netip.Addr // connect or send; listen on an address
	port     uint16
	local    string // listen or bind: "addr", "any", "iface"
	iface    string
	loopback bool     // listen or bind: a loopback address or interface
	owners   []string // listen or bind on an address: the interfaces owning it
}

// famName names a family as the translations do.
func famName(f policy.Families) string {
	if f == policy.IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// askPerFamily decides a request by asking ask one question per family,
// as a runtime would ask an allow-or-deny engine: a connect by name asks
// the lookup of the name first, then the connect to the address the lookup
// answers without DNS (localhost) or to an address DNS gives (none given).
func askPerFamily(q eval.Request, ifaces *eval.Interfaces, ask func(*question) bool) Verdict {
	q, err := q.Normalize()
	if err != nil {
		return Verdict{}
	}
	var v Verdict
	if q.Op == eval.Lookup && q.Addr.IsValid() {
		// An IP literal: no question to ask.
		want := q.Family
		if want == 0 {
			want = policy.AllFamilies
		}
		v.Families = policy.FamilyOf(q.Addr) & want
		return Verdict{Allowed: true, Families: v.Families}
	}
	for _, f := range []policy.Families{policy.IPv4, policy.IPv6} {
		qq := question{op: q.Op, family: f, name: q.Name, port: q.Port}
		switch q.Op {
		case eval.Lookup:
			if q.Family != 0 && q.Family != f {
				continue
			}
		case eval.Connect, eval.Send:
			if q.Addr.IsValid() {
				if policy.FamilyOf(q.Addr) != f {
					continue
				}
				qq.addr = q.Addr
				break
			}
			if !ask(&question{op: eval.Lookup, family: f, name: q.Name}) {
				continue
			}
			qq.addr, _, _ = policy.Answer(q.Name, f, policy.NameMaps{})
		default:
			local, addr := q.Local, q.Addr
			switch {
			case local == eval.LocalAddr && policy.FamilyOf(addr) != f:
				continue
			case local == eval.LocalAddr && addr.IsUnspecified():
				local = eval.LocalAny
			case local == eval.LocalLocalhost:
				local, addr = eval.LocalAddr, policy.LoopbackAddr(f)
			}
			qq.name = ""
			switch local {
			case eval.LocalAddr:
				qq.local, qq.addr, qq.loopback, qq.owners = "addr", addr, policy.IsLoopback(addr), ifaces.Owners(addr)
			case eval.LocalInterface:
				qq.local, qq.iface, qq.loopback = "iface", q.Name, ifaces.IsLoopback(q.Name)
			default:
				qq.local = "any"
			}
		}
		if ask(&qq) {
			v.Allowed = true
			v.Families |= f
		}
	}
	return v
}

// portRanges writes the ports of a rule as [lo, hi] pairs.
func portRanges(ps policy.PortSet) [][2]int {
	out := make([][2]int, len(ps))
	for i, r := range ps {
		out[i] = [2]int{int(r.Lo), int(r.Hi)}
	}
	return out
}

// families lists the names of the families of a rule.
func families(fs policy.Families) []string {
	var out []string
	for _, f := range []policy.Families{policy.IPv4, policy.IPv6} {
		if fs.Has(f) {
			out = append(out, famName(f))
		}
	}
	return out
}

// quoteCedar writes a Cedar string literal of s (names and interface names
// have no quotes or backslashes, but be exact).
func quoteCedar(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// likeBelow writes the Cedar "like" pattern of the names below domain d:
// "*.d", whose "*" matches one or more whole labels, since a normalized name
// has no empty label (a "*" in d itself is escaped).
func likeBelow(d string) string {
	return `"*.` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "*", `\*`).Replace(d) + `"`
}

// netipPrefix returns the single-address network of a.
func netipPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// compile parses and compiles flags, which must have no errors.
func compile(flags []string) (*policy.Policy, error) {
	ap := &ast.Policy{Name: "flags"}
	for _, f := range flags {
		r, ds := grammar.ParseFlag(f, nil)
		if r == nil {
			return nil, fmt.Errorf("%s: %v", f, ds)
		}
		r.Index = len(ap.Rules)
		ap.Rules = append(ap.Rules, r)
	}
	p, ds := policy.Compile(ap)
	if diag.HasErrors(ds) {
		return nil, fmt.Errorf("policy has errors: %v", ds)
	}
	return p, nil
}

// mustAddr parses an address of a test.
func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
