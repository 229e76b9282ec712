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
	b.Key("index")
	b.Int(j.Index)
	b.Key("kind")
	b.String(j.Kind)
	b.Key("flag")
	b.String(j.Flag)
	b.Key("canonical")
	b.String(j.Canonical)
	b.Key("range")
	buildRange(b, j.Range)
	b.Key("sentence")
	b.String(j.Sentence)
	b.Key("implies")
	buildOptString(b, j.Implies)
	b.Close('}')
}

// buildGrant writes a grant of the document.
func buildGrant(b *jsonstream.Builder, j jsonGrant) {
	b.Open('{')
	b.Key("kind")
	b.String(j.Kind)
	b.Key("protocol")
	buildOptString(b, j.Protocol)
	b.Key("host")
	b.String(j.Host)
	b.Key("host_kind")
	b.String(j.HostKind)
	b.Key("addresses")
	if j.Addresses == nil {
		b.Null()
	} else {
		b.Open('{')
		b.Key("first")
		b.String(j.Addresses.First)
		b.Key("last")
		b.String(j.Addresses.Last)
		b.Close('}')
	}
	b.Key("ports")
	if j.Ports == nil {
		b.Null()
	} else {
		b.Open('[')
		for _, p := range j.Ports {
			b.Elem()
			buildPortRange(b, p)
		}
		b.Close(']')
	}
	b.Key("families")
	if j.Families == nil {
		b.Null()
	} else {
		b.Open('[')
		for _, f := range j.Families {
			b.Elem()
			b.String(f)
		}
		b.Close(']')
	}
	b.Key("host_mapping")
	buildOptString(b, j.HostMapping)
	b.Key("port_mapping")
	if j.PortMapping == nil {
		b.Null()
	} else {
		b.Open('{')
		b.Key("guest")
		buildPortRange(b, j.PortMapping.Guest)
		b.Key("host")
		buildPortRange(b, j.PortMapping.Host)
		b.Close('}')
	}
	b.Key("flag")
	b.String(j.Flag)
	b.Key("summary")
	b.String(j.Summary)
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
	b.Key("code")
	b.String(j.Code)
	b.Key("text")
	b.String(j.Text)
	b.Close('}')
}

// buildRisk writes a risk of the document.
func buildRisk(b *jsonstream.Builder, j jsonRisk) {
	b.Open('{')
	b.Key("id")
	b.String(j.ID)
	b.Key("name")
	b.String(j.Name)
	b.Key("severity")
	b.String(j.Severity)
	b.Key("summary")
	b.String(j.Summary)
	b.Key("rule")
	if j.Rule == nil {
		b.Null()
	} else {
		b.Int(*j.Rule)
	}
	b.Key("flag")
	buildOptString(b, j.Flag)
	b.Key("range")
	buildRange(b, j.Range)
	b.Close('}')
}

// buildRange writes a source range (diag.JSONRange).
func buildRange(b *jsonstream.Builder, r diag.JSONRange) {
	b.Open('{')
	b.Key("origin")
	b.String(r.Origin)
	for _, m := range [...]struct {
		key string
		n   int
	}{{"line", r.Line}, {"column", r.Column}, {"end_line", r.EndLine},
		{"end_column", r.EndColumn}, {"offset", r.Offset}, {"end_offset", r.EndOffset}} {
		b.Key(m.key)
		b.Int(m.n)
	}
	b.Close('}')
}

// buildPortRange writes a port range.
func buildPortRange(b *jsonstream.Builder, p jsonPortRange) {
	b.Open('{')
	b.Key("first")
	b.Int(p.First)
	b.Key("last")
	b.Int(p.Last)
	b.Close('}')
}

// buildOptString writes a string, or null.
func buildOptString(b *jsonstream.Builder, s *string) {
	if s == nil {
		b.Null()
		return
	}
	b.String(*s)
}

// buildInts writes a member that is a list of numbers (null when nil).
func buildInts(b *jsonstream.Builder, key string, is []int) {
	b.Key(key)
	if is == nil {
		b.Null()
		return
	}
	b.Open('[')
	for _, i := range is {
		b.Elem()
		b.Int(i)
	}
	b.Close(']')
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
