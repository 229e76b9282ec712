package jsonstream

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type item struct {
	Name  string         `json:"name"`
	Tags  []string       `json:"tags"`
	Inner map[string]int `json:"inner,omitempty"`
}

type doc struct {
	Items []item `json:"items"`
	Other []item `json:"other"`
}

// TestSameAsWhole writes documents in pieces and compares them byte for
// byte with encoding/json's indented form of the whole.
func TestSameAsWhole(t *testing.T) {
	for _, escape := range []bool{false, true} {
		for _, d := range []doc{
			{Items: []item{}, Other: []item{}},
			{Items: []item{{Name: "a<b>&", Tags: []string{}}}, Other: []item{}},
			{Items: []item{{Name: "x", Tags: []string{"1", "2"}, Inner: map[string]int{"k": 1}}, {Name: "é\u2028", Tags: nil}}, Other: []item{{Name: "o"}}},
		} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(escape)
			enc.SetIndent("", "  ")
			if err := enc.Encode(d); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			s := New(&got, escape)
			s.Open('{')
			for _, field := range []struct {
				key   string
				items []item
			}{{"items", d.Items}, {"other", d.Other}} {
				s.Next(0)
				s.Raw(`"` + field.key + `": `)
				s.Open('[')
				for _, it := range field.items {
					s.Elem(1, it)
				}
				s.Close(1, ']')
			}
			s.Close(0, '}')
			s.Raw("\n")
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("escape=%v (-whole +pieces):\n%s", escape, diff)
			}
		}
	}
}
