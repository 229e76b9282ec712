package explain

import (
	"io"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/jsonstream"
	"github.com/capspec/capspec/policy"
)

// JSONVersion is the version of the JSON document WriteJSON writes; it
// changes only when a field changes meaning or goes away.
const JSONVersion = 1

// The JSON document, documented in docs/explain.md. Every field is always
// present; a field that does not apply is null, a list with nothing in it
// is []. Rule indices count from 0.
type (
	jsonDoc struct {
		Version  int           `json:"version"`
		Policies []jsonAccount `json:"policies"`
	}
	jsonAccount struct {
		Policy string       `json:"policy"`
		Rules  []jsonRule   `json:"rules"`
		Grants []jsonGrant  `json:"grants"`
		Denied []jsonDenial `json:"denied"`
		Risks  []jsonRisk   `json:"risks"`
	}
	jsonRule struct {
		Index     int            `json:"index"`
		Kind      string         `json:"kind"`
		Flag      string         `json:"flag"`
		Canonical string         `json:"canonical"`
		Range     diag.JSONRange `json:"range"`
		Sentence  string         `json:"sentence"`
		Implies   *string        `json:"implies"`
	}
	jsonGrant struct {
		Kind        string           `json:"kind"`
		Protocol    *string          `json:"protocol"`
		Host        string           `json:"host"`
		HostKind    string           `json:"host_kind"`
		Addresses   *jsonAddrRange   `json:"addresses"`
		Ports       []jsonPortRange  `json:"ports"`
		Families    []string         `json:"families"`
		HostMapping *string          `json:"host_mapping"`
		PortMapping *jsonPortMapping `json:"port_mapping"`
		Flag        string           `json:"flag"`
		Summary     string           `json:"summary"`
		Rules       []int            `json:"rules"`
		Implied     bool             `json:"implied"`
		ImpliedBy   []int            `json:"implied_by"`
		Also        []int            `json:"also_covers"`
		Overridden  []int            `json:"overridden_by"`
	}
	jsonAddrRange struct {
		First string `json:"first"`
		Last  string `json:"last"`
	}
	jsonPortRange struct {
		First int `json:"first"`
		Last  int `json:"last"`
	}
	jsonPortMapping struct {
		Guest jsonPortRange `json:"guest"`
		Host  jsonPortRange `json:"host"`
	}
	jsonDenial struct {
		Code string `json:"code"`
		Text string `json:"text"`
	}
	jsonRisk struct {
		ID       string         `json:"id"`
		Name     string         `json:"name"`
		Severity string         `json:"severity"`
		Summary  string         `json:"summary"`
		Rule     *int           `json:"rule"`
		Flag     *string        `json:"flag"`
		Range    diag.JSONRange `json:"range"`
	}
)

// WriteJSON writes the accounts as one JSON document (docs/explain.md):
// the same content as the text, as data.
//
// The document is written element by element (internal/jsonstream), laid
// out byte for byte as jsonDoc encoded at once with two spaces of
// indentation (TestJSONStreams), so that the output of a large policy
// needs memory for one element at a time.
func WriteJSON(w io.Writer, accounts []*Account) error {
	s := jsonstream.New(w, false)
	s.Open('{')
	s.Next(0)
	s.Raw(`"version": `)
	s.Value(1, JSONVersion)
	s.Next(0)
	s.Raw(`"policies": `)
	s.Open('[')
	for _, a := range accounts {
		s.Next(1)
		s.Open('{')
		s.Next(2)
		s.Raw(`"policy": `)
		s.Value(3, a.Name)
		writeJSONList(s, "rules", a.Rules, ruleJSON, buildRule)
		writeJSONList(s, "grants", a.Grants, grantJSON, buildGrant)
		writeJSONList(s, "denied", a.Denied, func(d Denial) jsonDenial { return jsonDenial(d) }, buildDenial)
		writeJSONList(s, "risks", a.Risks, riskJSON, buildRisk)
		s.Close(2, '}')
	}
	s.Close(1, ']')
	s.Close(0, '}')
	s.Raw("\n")
	return s.Flush()
}

// writeJSONList writes one list of a policy's object (depth 2), converting
// each element as it is written, and writing it with build: without
// reflection, byte for byte as encoding/json writes it (TestJSONStreams,
// TestBuildJSON), for policies of a hundred thousand rules.
func writeJSONList[E, J any](s *jsonstream.Writer, key string, list []E, conv func(E) J, build func(*jsonstream.Builder, J)) {
	s.Next(2)
	s.Raw(`"` + key + `": `)
	s.Open('[')
	var b jsonstream.Builder
	for _, e := range list {
		b.Reset(4)
		build(&b, conv(e))
		s.Next(3)
		s.RawBytes(b.B)
	}
	s.Close(3, ']')
}

// buildRule writes a rule of the document.
func buildRule(b *jsonstream.Builder, j jsonRule) {
	b.Open('{')
	b.KeyInts([]string{"index"}, j.Index)
	b.KeyString("kind", j.Kind)
	b.KeyString("flag", j.Flag)
	b.KeyString("canonical", j.Canonical)
	buildRange(b, j.Range)
	b.KeyString("sentence", j.Sentence)
	buildOptString(b, "implies", j.Implies)
	b.Close('}')
}

// buildGrant writes a grant of the document.
func buildGrant(b *jsonstream.Builder, j jsonGrant) {
	b.Open('{')
	b.KeyString("kind", j.Kind)
	buildOptString(b, "protocol", j.Protocol)
	b.KeyString("host", j.Host)
	b.KeyString("host_kind", j.HostKind)
	b.Key("addresses")
	if a := j.Addresses; a == nil {
		b.Null()
	} else {
		b.Open('{')
		b.KeyString("first", a.First)
		b.KeyString("last", a.Last)
		b.Close('}')
	}
	b.Key("ports")
	b.List(len(j.Ports), j.Ports == nil, func(i int) { buildPortRange(b, j.Ports[i]) })
	b.Key("families")
	b.List(len(j.Families), j.Families == nil, func(i int) { b.String(j.Families[i]) })
	buildOptString(b, "host_mapping", j.HostMapping)
	b.Key("port_mapping")
	if m := j.PortMapping; m == nil {
		b.Null()
	} else {
		b.Open('{')
		b.Key("guest")
		buildPortRange(b, m.Guest)
		b.Key("host")
		buildPortRange(b, m.Host)
		b.Close('}')
	}
	b.KeyString("flag", j.Flag)
	b.KeyString("summary", j.Summary)
	buildInts(b, "rules", j.Rules)
	b.Key("implied")
	b.Bool(j.Implied)
	buildInts(b, "implied_by", j.ImpliedBy)
	buildInts(b, "also_covers", j.Also)
	buildInts(b, "overridden_by", j.Overridden)
	b.Close('}')
}

// buildDenial writes a denial of the document.
func buildDenial(b *jsonstream.Builder, j jsonDenial) {
	b.Open('{')
	b.KeyString("code", j.Code)
	b.KeyString("text", j.Text)
	b.Close('}')
}

// buildRisk writes a risk of the document.
func buildRisk(b *jsonstream.Builder, j jsonRisk) {
	b.Open('{')
	b.KeyString("id", j.ID)
	b.KeyString("name", j.Name)
	b.KeyString("severity", j.Severity)
	b.KeyString("summary", j.Summary)
	b.Key("rule")
	if j.Rule == nil {
		b.Null()
	} else {
		b.Int(*j.Rule)
	}
	buildOptString(b, "flag", j.Flag)
	buildRange(b, j.Range)
	b.Close('}')
}

// buildRange writes the member "range": a source range.
func buildRange(b *jsonstream.Builder, r diag.JSONRange) {
	b.Key("range")
	b.Open('{')
	diag.BuildRangeJSON(b, r)
	b.Close('}')
}

// buildPortRange writes a port range.
func buildPortRange(b *jsonstream.Builder, p jsonPortRange) {
	b.Open('{')
	b.KeyInts([]string{"first", "last"}, p.First, p.Last)
	b.Close('}')
}

// buildOptString writes a member that is a string, or null.
func buildOptString(b *jsonstream.Builder, key string, s *string) {
	b.Key(key)
	if s == nil {
		b.Null()
		return
	}
	b.String(*s)
}

// buildInts writes a member that is a list of numbers (null when nil).
func buildInts(b *jsonstream.Builder, key string, is []int) {
	b.Key(key)
	b.List(len(is), is == nil, func(i int) { b.Int(is[i]) })
}

func ruleJSON(ra RuleAccount) jsonRule {
	r := ra.Rule
	jr := jsonRule{Index: ra.Index, Kind: r.Kind.String(), Flag: r.Text(), Canonical: r.String(), Range: diag.RangeJSON(r.Range()), Sentence: ra.Sentence}
	if ra.Implies != nil {
		s := ra.Implies.String()
		jr.Implies = &s
	}
	return jr
}

func riskJSON(rk Risk) jsonRisk {
	jr := jsonRisk{ID: rk.ID, Name: rk.Name, Severity: "warning", Summary: rk.Message, Range: diag.RangeJSON(rk.Range)}
	if rk.Rule >= 0 {
		i, f := rk.Rule, rk.Flag
		jr.Rule, jr.Flag = &i, &f
	}
	return jr
}

func grantJSON(g Grant) jsonGrant {
	r := g.Rule
	j := jsonGrant{
		Kind: r.Kind.String(), Host: r.Host.String(), HostKind: r.Host.Kind.String(),
		Families: append([]string{}, r.Families.List()...), Flag: r.String(), Summary: g.Summary,
		Rules: nonNil(g.Rules), Implied: g.IsImplied(), ImpliedBy: nonNil(g.ImpliedBy), Also: nonNil(g.Also), Overridden: nonNil(g.OverriddenBy),
	}
	if r.Kind != ast.Resolve {
		p := r.Protocol.String()
		j.Protocol = &p
		j.Ports = []jsonPortRange{}
		for _, pr := range r.Ports {
			j.Ports = append(j.Ports, portRangeJSON(pr))
		}
	}
	if r.Host.Kind == policy.AddressHost {
		rg := netipx.RangeOfPrefix(r.Host.Prefix)
		j.Addresses = &jsonAddrRange{First: rg.From().String(), Last: rg.To().String()}
	}
	if r.HostMap.IsValid() {
		s := r.HostMap.String()
		j.HostMapping = &s
	}
	if r.PortMap.IsMapped() {
		j.PortMapping = &jsonPortMapping{Guest: portRangeJSON(r.PortMap.From), Host: portRangeJSON(r.PortMap.To)}
	}
	return j
}

func portRangeJSON(r policy.PortRange) jsonPortRange {
	return jsonPortRange{First: int(r.Lo), Last: int(r.Hi)}
}

func nonNil(is []int) []int {
	if is == nil {
		return []int{}
	}
	return is
}
