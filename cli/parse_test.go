package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/jsonstream"
)

// TestTreeJSONStreams checks the streamed parse --format json document
// against the whole document encoded at once, byte for byte.
func TestTreeJSONStreams(t *testing.T) {
	for _, argv := range [][]string{
		{"capspec"},
		{"capspec", "--allow-outbound=tcp://example.com:80,443", "--allow-inbound", "tcp://*:80->8080", "--allow-resolve=a..b"},
		{"capspec", "--allow-resolve=<&>"},
	} {
		a := &app{env: Env{Args: argv, Stdin: strings.NewReader("--allow-resolve=x.com\n--allow-resolve=db->10.0.0.1#ipv4-only\n")}}
		set, err := a.load([]string{"-"})
		if err != nil {
			t.Fatal(err)
		}
		type jsonPolicy struct {
			Name  string     `json:"name"`
			Rules []jsonRule `json:"rules"`
		}
		whole := struct {
			Policies    []jsonPolicy          `json:"policies"`
			Diagnostics []diag.JSONDiagnostic `json:"diagnostics"`
		}{Policies: []jsonPolicy{}, Diagnostics: []diag.JSONDiagnostic{}}
		for _, it := range set.items {
			jp := jsonPolicy{Name: it.input.Name, Rules: []jsonRule{}}
			for _, r := range it.policy.Rules {
				j := ruleJSON(r)
				if r.Ports != nil {
					for _, item := range r.Ports.Items {
						j.Ports.Items = append(j.Ports.Items, portItemJSON(r, item))
					}
				}
				jp.Rules = append(jp.Rules, j)
			}
			whole.Policies = append(whole.Policies, jp)
		}
		ds := set.diagnostics()
		for _, d := range ds {
			whole.Diagnostics = append(whole.Diagnostics, diag.ToJSON(d, nil))
		}
		want, err := jsonstream.Whole(whole, false)
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		if err := writeTreeJSON(&got, set, ds); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.String()); diff != "" {
			t.Errorf("%v (-whole +streamed):\n%s", argv, diff)
		}
	}
}
