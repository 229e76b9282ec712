package explain

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/hostile"
	"github.com/capspec/capspec/internal/jsonstream"
	"github.com/capspec/capspec/source"
)

// toJSON converts a whole account, as WriteJSON writes it in pieces.
func toJSON(a *Account) jsonAccount {
	j := jsonAccount{Policy: a.Name, Rules: []jsonRule{}, Grants: []jsonGrant{}, Denied: []jsonDenial{}, Risks: []jsonRisk{}}
	for _, ra := range a.Rules {
		j.Rules = append(j.Rules, ruleJSON(ra))
	}
	for _, g := range a.Grants {
		j.Grants = append(j.Grants, grantJSON(g))
	}
	for _, d := range a.Denied {
		j.Denied = append(j.Denied, jsonDenial(d))
	}
	for _, rk := range a.Risks {
		j.Risks = append(j.Risks, riskJSON(rk))
	}
	return j
}

// TestJSONStreams checks the document WriteJSON writes in pieces against
// jsonDoc encoded at once, byte for byte, for one and several accounts.
func TestJSONStreams(t *testing.T) {
	texts := []string{
		"",
		"--allow-resolve=a-b.example.com\n--allow-outbound=tcp://example.com:80,443#ipv4-only\n--allow-inbound=tcp://*:80->8080\n--allow-outbound=tcp://*:*\n--allow-outbound=udp://db->10.0.0.5:53\n",
		"--allow-outbound=tcp://10.0.0.0/8:1-1000\n--allow-outbound=tcp://10.1.0.0/16:80\n--allow-resolve=*\n",
		// every kind of rule, mapping, family and risk, written without
		// reflection (writeJSONList's builders)
		hostile.Policy(600) + "--allow-resolve=bücher.example\n--allow-inbound=udp://[::1]:53->5353#ipv6-only\n",
	}
	var accounts []*Account
	for i, text := range texts {
		ins, err := source.FlagsFile{Name: "p\"" + strings.Repeat("x", i) + ".flags", Content: text}.Read()
		if err != nil {
			t.Fatal(err)
		}
		p, ds := grammar.Parse(ins[0])
		a, errs := Parsed(ins[0], p, ds)
		if a == nil {
			t.Fatalf("%q: %v", text, errs)
		}
		accounts = append(accounts, a)
	}
	for _, as := range [][]*Account{nil, accounts[:1], accounts[1:2], accounts[3:], accounts} {
		doc := jsonDoc{Version: JSONVersion, Policies: []jsonAccount{}}
		for _, a := range as {
			doc.Policies = append(doc.Policies, toJSON(a))
		}
		want, err := jsonstream.Whole(doc, false)
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		if err := WriteJSON(&got, as); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.String()); diff != "" {
			t.Errorf("%d accounts (-whole +streamed):\n%s", len(as), diff)
		}
	}
}
