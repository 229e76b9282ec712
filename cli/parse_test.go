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
		{"capspec", "--allow-outbound=tcp://a:1-5,7,65535", "--allow-outbound", "udp://[::1]:0,00080-00443"},
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

// TestPortItemJSON checks the port items written without reflection
// against encoding/json's indented form, byte for byte.
func TestPortItemJSON(t *testing.T) {
	for _, j := range []jsonPortItem{
		{},
		{Low: 80, High: 80, Raw: "80", Range: diag.JSONRange{Origin: "<stdin>", Line: 1, Column: 36, EndLine: 1, EndColumn: 38, Offset: 35, EndOffset: 37}},
		{Low: 1000, High: 65535, Raw: "01000-65535", Range: diag.JSONRange{Origin: "dir/a b.flags", Line: 123456, Column: 1 << 20, EndLine: 123456, EndColumn: 1<<20 + 11, Offset: 1 << 30, EndOffset: 1<<30 + 11}},
	} {
		want, err := jsonstream.Element(6, j)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(appendPortItemJSON(nil, j))); diff != "" {
			t.Errorf("%+v (-encoding/json +appendPortItemJSON):\n%s", j, diff)
		}
	}
}

func TestPlainJSON(t *testing.T) {
	for s, want := range map[string]bool{"": true, "80": true, "<stdin>": true, "a b/c.flags": true, `a"b`: false, `a\b`: false, "a\nb": false, "é": false, "\x7f": false} {
		if got := plainJSON(s); got != want {
			t.Errorf("plainJSON(%q) = %v, want %v", s, got, want)
		}
	}
}
