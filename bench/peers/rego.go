package peers

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	cast "github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// The Rego model: the rules are data, keyed the way a Rego author would
// key them (data.capspec_rules, written by RegoData), and one module
// (regoModule) decides an input of the same fields as Cedar's context
// (see cedar.go) plus kind ("resolve", "outbound", "inbound": the kind of
// rule that decides, an equality OPA indexes) and proto. Names, wildcard domains, inbound
// addresses and interfaces are object keys, so they are found by lookup:
// a wildcard "*.d" is found by looking up every proper suffix of the name
// at a label boundary, which is exactly capspec's meaning. Networks are a
// list tested with net.cidr_contains, one by one: Rego has no builtin
// that masks an address, so they cannot be keyed.
const regoModule = `package capspec

import rego.v1

default allow := false

fam_ok(r) if input.family in r.fams

port_ok(r) if {
	some p in r.ports
	p[0] <= input.port
	input.port <= p[1]
}

# The proper suffixes of the name at label boundaries.
suffixes contains s if {
	parts := split(input.name, ".")
	some i in numbers.range(1, count(parts) - 1)
	s := concat(".", array.slice(parts, i, count(parts)))
}

# Lookups.
allow if {
	input.kind == "resolve"
	some r in data.capspec_rules.resolve.any
	fam_ok(r)
}

allow if {
	input.kind == "resolve"
	some r in data.capspec_rules.resolve.exact[input.name]
	fam_ok(r)
}

allow if {
	input.kind == "resolve"
	some s in suffixes
	some r in data.capspec_rules.resolve.wild[s]
	fam_ok(r)
}

# Connects and sends: never to an unspecified address.
unspecified if net.cidr_contains("0.0.0.0/8", input.addr)

unspecified if input.addr == "::"

allow if {
	input.kind == "outbound"
	not unspecified
	out_ok
}

out_ok if {
	some r in data.capspec_rules.out[input.proto].any
	fam_ok(r)
	port_ok(r)
}

out_ok if {
	some r in data.capspec_rules.out[input.proto].net
	net.cidr_contains(r.cidr, input.addr)
	fam_ok(r)
	port_ok(r)
}

out_ok if {
	resolved_from
	some r in data.capspec_rules.out[input.proto].name[input.name]
	fam_ok(r)
	port_ok(r)
}

out_ok if {
	resolved_from
	some s in suffixes
	some r in data.capspec_rules.out[input.proto].wild[s]
	fam_ok(r)
	port_ok(r)
}

# An address DNS gives (or none yet) is resolved from a name; localhost
# gives loopback addresses only.
resolved_from if input.name != "localhost"

resolved_from if {
	input.name == "localhost"
	net.cidr_contains({"ipv4": "127.0.0.0/8", "ipv6": "::1/128"}[input.family], input.addr)
}

# Listens and binds.
allow if {
	input.kind == "inbound"
	in_ok
}

in_ok if {
	some r in data.capspec_rules["in"][input.proto].any
	fam_ok(r)
	port_ok(r)
}

in_ok if {
	input["local"] == "addr"
	some r in data.capspec_rules["in"][input.proto].addr[input.addr]
	fam_ok(r)
	port_ok(r)
}

in_ok if {
	input["local"] in {"addr", "iface"}
	input.loopback
	some r in data.capspec_rules["in"][input.proto].localhost
	fam_ok(r)
	port_ok(r)
}

in_ok if {
	input["local"] == "addr"
	some o in input.owners
	some r in data.capspec_rules["in"][input.proto].iface[o]
	fam_ok(r)
	port_ok(r)
}

in_ok if {
	input["local"] == "iface"
	some r in data.capspec_rules["in"][input.proto].iface[input.iface]
	fam_ok(r)
	port_ok(r)
}
`

// RegoData writes the rules of a compiled policy as the data of
// regoModule.
func RegoData(p *policy.Policy) (map[string]any, error) {
	if err := checkModel(p); err != nil {
		return nil, err
	}
	rule := func(r *policy.Rule) map[string]any {
		ports := []any{}
		for _, pr := range portRanges(r.Ports) {
			ports = append(ports, []any{pr[0], pr[1]})
		}
		fams := []any{}
		for _, f := range families(r.Families) {
			fams = append(fams, f)
		}
		return map[string]any{"fams": fams, "ports": ports}
	}
	add := func(m map[string]any, key string, v any) {
		l, _ := m[key].([]any)
		m[key] = append(l, v)
	}
	resolve := map[string]any{"any": []any{}, "exact": map[string]any{}, "wild": map[string]any{}}
	for _, r := range p.Resolves {
		switch r.Host.Kind {
		case policy.AnyHost:
			add(resolve, "any", rule(r))
		case policy.WildcardHost:
			add(resolve["wild"].(map[string]any), r.Host.Name, rule(r))
		default:
			add(resolve["exact"].(map[string]any), r.Host.Name, rule(r))
		}
	}
	side := func() map[string]any {
		return map[string]any{"any": []any{}, "net": []any{}, "name": map[string]any{}, "wild": map[string]any{},
			"localhost": []any{}, "addr": map[string]any{}, "iface": map[string]any{}}
	}
	out := map[string]any{"tcp": side(), "udp": side()}
	in := map[string]any{"tcp": side(), "udp": side()}
	for _, r := range p.Rules {
		proto := r.Protocol.String()
		switch {
		case r.Kind == cast.Outbound:
			o := out[proto].(map[string]any)
			switch r.Host.Kind {
			case policy.AnyHost:
				add(o, "any", rule(r))
			case policy.AddressHost:
				nr := rule(r)
				nr["cidr"] = r.Host.Prefix.Masked().String()
				add(o, "net", nr)
			case policy.WildcardHost:
				add(o["wild"].(map[string]any), r.Host.Name, rule(r))
			default:
				add(o["name"].(map[string]any), r.Host.Name, rule(r))
			}
		case r.Kind == cast.Inbound:
			i := in[proto].(map[string]any)
			switch r.Host.Kind {
			case policy.AnyHost:
				add(i, "any", rule(r))
			case policy.LocalhostHost:
				add(i, "localhost", rule(r))
			case policy.AddressHost:
				add(i["addr"].(map[string]any), r.Host.Prefix.Addr().String(), rule(r))
			case policy.InterfaceHost:
				add(i["iface"].(map[string]any), r.Host.Name, rule(r))
			}
		}
	}
	return map[string]any{"resolve": resolve, "out": out, "in": in}, nil
}

// Rego decides with OPA: a query prepared once, evaluated per question.
type Rego struct {
	pq     rego.PreparedEvalQuery
	ifaces *eval.Interfaces
}

// NewRego loads the rules of a compiled policy as data and prepares the
// query data.capspec.allow.
func NewRego(p *policy.Policy, ifaces *eval.Interfaces) (*Rego, error) {
	data, err := RegoData(p)
	if err != nil {
		return nil, err
	}
	store := inmem.NewFromObject(map[string]any{"capspec_rules": data})
	pq, err := rego.New(
		rego.Query("data.capspec.allow"),
		rego.Module("capspec.rego", regoModule),
		rego.Store(store),
	).PrepareForEval(context.Background())
	if err != nil {
		return nil, err
	}
	return &Rego{pq: pq, ifaces: ifaces}, nil
}

// Decide asks OPA a question per family.
func (e *Rego) Decide(q eval.Request) Verdict {
	return askPerFamily(q, e.ifaces, e.ask)
}

func (e *Rego) ask(q *question) bool {
	in := ast.NewObject(
		ast.Item(ast.StringTerm("kind"), ast.StringTerm(q.op.Kind().String())),
		ast.Item(ast.StringTerm("proto"), ast.StringTerm(q.op.Protocol().String())),
		ast.Item(ast.StringTerm("family"), ast.StringTerm(famName(q.family))),
		ast.Item(ast.StringTerm("port"), ast.IntNumberTerm(int(q.port))),
	)
	if q.name != "" {
		in.Insert(ast.StringTerm("name"), ast.StringTerm(q.name))
	}
	if q.addr.IsValid() {
		in.Insert(ast.StringTerm("addr"), ast.StringTerm(q.addr.String()))
	}
	if q.local != "" {
		owners := make([]*ast.Term, len(q.owners))
		for i, o := range q.owners {
			owners[i] = ast.StringTerm(o)
		}
		in.Insert(ast.StringTerm("local"), ast.StringTerm(q.local))
		in.Insert(ast.StringTerm("iface"), ast.StringTerm(q.iface))
		in.Insert(ast.StringTerm("loopback"), ast.BooleanTerm(q.loopback))
		in.Insert(ast.StringTerm("owners"), ast.ArrayTerm(owners...))
	}
	rs, err := e.pq.Eval(context.Background(), rego.EvalParsedInput(in))
	if err != nil {
		panic(fmt.Sprintf("rego: %v", err)) // the module and its input are ours: a bug
	}
	return rs.Allowed()
}
