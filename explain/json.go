package explain

import (
	"encoding/json"
	"io"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
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
func WriteJSON(w io.Writer, accounts []*Account) error {
	doc := jsonDoc{Version: JSONVersion, Policies: []jsonAccount{}}
	for _, a := range accounts {
		doc.Policies = append(doc.Policies, toJSON(a))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func toJSON(a *Account) jsonAccount {
	j := jsonAccount{Policy: a.Name, Rules: []jsonRule{}, Grants: []jsonGrant{}, Denied: []jsonDenial{}, Risks: []jsonRisk{}}
	for _, ra := range a.Rules {
		r := ra.Rule
		jr := jsonRule{Index: ra.Index, Kind: r.Kind.String(), Flag: r.Text(), Canonical: r.String(), Range: diag.RangeJSON(r.Range()), Sentence: ra.Sentence}
		if ra.Implies != nil {
			s := ra.Implies.String()
			jr.Implies = &s
		}
		j.Rules = append(j.Rules, jr)
	}
	for i := range a.Grants {
		j.Grants = append(j.Grants, grantJSON(&a.Grants[i]))
	}
	for _, d := range a.Denied {
		j.Denied = append(j.Denied, jsonDenial(d))
	}
	for _, rk := range a.Risks {
		jr := jsonRisk{ID: rk.ID, Name: rk.Name, Severity: "warning", Summary: rk.Message, Range: diag.RangeJSON(rk.Range)}
		if rk.Rule >= 0 {
			i, f := rk.Rule, rk.Flag
			jr.Rule, jr.Flag = &i, &f
		}
		j.Risks = append(j.Risks, jr)
	}
	return j
}

func grantJSON(g *Grant) jsonGrant {
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
