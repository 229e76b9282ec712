package jsonstream

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAppendString compares AppendString with encoding/json on every
// byte, the runes it escapes, invalid UTF-8 and random strings.
func TestAppendString(t *testing.T) {
	cases := []string{"", "plain", "a\"b\\c", "<a&b>", "é\u2028\u2029x", "\xff\xfe", "a\xc3", "\U0001F600", "\x7f\x00\x1f\t\n\r\b\f"}
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "\"", "\\", "<", "&", "\n", "\x01", "\x7f", "é", "\u2028", "\xff", "\xe2\x80", "世", "\U0001F600"}
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, escape := range []bool{false, true} {
		for _, s := range cases {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(escape)
			if err := enc.Encode(s); err != nil {
				t.Fatal(err)
			}
			if got := string(AppendString(nil, s, escape)) + "\n"; got != want.String() {
				t.Errorf("AppendString(%q, %v) = %s, encoding/json: %s", s, escape, got, want.String())
			}
		}
	}
}

// TestBuilder writes nested objects and arrays, empty and not, with the
// Builder and compares them with Writer.Value at several depths.
func TestBuilder(t *testing.T) {
	type inner struct {
		N    int      `json:"n"`
		List []string `json:"list"`
		Yes  bool     `json:"yes"`
		Nil  *int     `json:"nil"`
	}
	type outer struct {
		Name   string  `json:"name"`
		Inners []inner `json:"inners"`
		Empty  inner   `json:"empty"`
	}
	v := outer{Name: "a\"<b>", Inners: []inner{{N: 1, List: []string{"x", "y\n"}, Yes: true}, {N: -2, List: []string{}}}, Empty: inner{List: []string{}}}
	for depth := range 4 {
		var want bytes.Buffer
		s := New(&want, false)
		s.Value(depth, v)
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		var b Builder
		b.Reset(depth)
		writeInner := func(in inner) {
			b.Open('{')
			b.KeyInts([]string{"n"}, in.N)
			b.Key("list")
			b.List(len(in.List), false, func(i int) { b.String(in.List[i]) })
			b.Key("yes")
			b.Bool(in.Yes)
			b.Key("nil")
			b.Null()
			b.Close('}')
		}
		b.Open('{')
		b.KeyString("name", v.Name)
		b.Key("inners")
		b.Open('[')
		for _, in := range v.Inners {
			b.Elem()
			writeInner(in)
		}
		b.Close(']')
		b.Key("empty")
		writeInner(v.Empty)
		b.Close('}')
		if diff := cmp.Diff(want.String(), string(b.B)); diff != "" {
			t.Errorf("depth %d (-Writer.Value +Builder):\n%s", depth, diff)
		}
	}
}
