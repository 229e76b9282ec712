package lint

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/source"
)

func TestRelations(t *testing.T) {
	tests := []struct {
		name, flags string
		want        []Relation
	}{
		{"duplicate", "--allow-outbound=tcp://example.com:443\n--allow-outbound=TCP://Example.com.:443\n",
			[]Relation{{ID: "CS301", Rule: 1, Others: []int{0}}}},
		{"subsumed", "--allow-outbound=tcp://*.example.com:*\n--allow-outbound=tcp://api.example.com:443\n",
			[]Relation{{ID: "CS302", Rule: 1, Others: []int{0}}}},
		{"implied", "--allow-resolve=example.com\n--allow-outbound=tcp://example.com:443\n",
			[]Relation{{ID: "CS304", Rule: 0, Others: []int{1}}}},
		{"merge", "--allow-outbound=tcp://example.com:80\n--allow-resolve=x.org\n--allow-outbound=tcp://example.com:443\n",
			[]Relation{{ID: "CS303", Rule: 0, Others: []int{2}, Merged: "--allow-outbound=tcp://example.com:80,443"}}},
		{"none", "--allow-outbound=tcp://example.com:80\n--allow-outbound=udp://example.com:80\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := source.FlagsFile{Name: "p.flags", Content: tt.flags}.Read()
			if err != nil {
				t.Fatal(err)
			}
			p, ds := grammar.Parse(ins[0])
			if len(ds) > 0 {
				t.Fatal(ds)
			}
			got := Relations(ins[0], p)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Relations (-want +got):\n%s", diff)
			}
			// Every relation is one that Lint reports on the same flag.
			reported := map[[2]any]bool{}
			for _, d := range Lint(ins[0], p, nil, Options{}) {
				reported[[2]any{d.ID, d.Range.Start.Line}] = true
			}
			for _, r := range got {
				if !reported[[2]any{r.ID, r.Rule + 1}] {
					t.Errorf("relation %+v is not reported by Lint", r)
				}
			}
		})
	}
}
