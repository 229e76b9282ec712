package playground

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestFragmentRoundTrip(t *testing.T) {
	texts := []string{"", "a", "--allow-outbound=tcp://example.com:443\n", "#&=%?+/ \t\r\n", "😀 bücher ｅｘ \u202e\u200b",
		strings.Repeat("--allow-resolve=*.example.com\n", 500)}
	for _, p := range texts {
		for _, r := range texts[:3] {
			for _, i := range []string{"", DefaultInterfaces, "eth1=10.1.2.3/16"} {
				in := Input{Policy: p, Requests: r, Old: r + p, Interfaces: i}
				f := Fragment(in)
				if strings.ContainsAny(f, "#+/ \n%") {
					t.Errorf("Fragment(%q) = %q: not URL-safe", p, f)
				}
				got, err := ParseFragment("#" + f)
				if err != nil || got != in {
					t.Errorf("ParseFragment(Fragment(%+v)) = %+v, %v", in, got, err)
				}
			}
		}
	}
}

func TestFragmentFormat(t *testing.T) {
	tests := []struct {
		frag string
		want Input
		err  string
	}{
		{"", Input{Interfaces: DefaultInterfaces}, ""},
		{"#p=YQ", Input{Policy: "a", Interfaces: DefaultInterfaces}, ""},
		{"p=YQ==", Input{Policy: "a", Interfaces: DefaultInterfaces}, ""}, // padding is accepted
		{"x=1&p=YQ&&r=Yg&o=Yw&i=", Input{Policy: "a", Requests: "b", Old: "c"}, ""},
		{"p=-_8", Input{Policy: "\xfb\xff", Interfaces: DefaultInterfaces}, "fragment key p: not UTF-8 text"},
		{"r=a*b", Input{}, "fragment key r: not base64url"},
		{"p=YQ&p=Yg", Input{Policy: "b", Interfaces: DefaultInterfaces}, ""}, // the last wins
	}
	for _, tt := range tests {
		got, err := ParseFragment(tt.frag)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("ParseFragment(%q) error %v, want %q", tt.frag, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFragment(%q) = %+v, %v; want %+v", tt.frag, got, err, tt.want)
		}
	}
	if f := Fragment(Input{Policy: "a", Interfaces: DefaultInterfaces}); f != "p=YQ" {
		t.Errorf("Fragment = %q, want p=YQ", f)
	}
	if f := Fragment(Input{Policy: "a"}); f != "p=YQ&i=" {
		t.Errorf("an empty interface table is written: %q", f)
	}
}

// FuzzFragment checks that every text survives a link, and that reading
// any fragment never fails but with an error.
func FuzzFragment(f *testing.F) {
	f.Add("--allow-outboud=tcp://example.com:443\n", "connect tcp example.com:443", "p=YQ&r=*")
	f.Add("😀\u202e#&=", "", "p=-_8")
	f.Fuzz(func(t *testing.T, policy, requests, raw string) {
		if utf8.ValidString(policy) && utf8.ValidString(requests) {
			in := Input{Policy: policy, Requests: requests, Interfaces: DefaultInterfaces}
			got, err := ParseFragment(Fragment(in))
			if err != nil || got != in {
				t.Fatalf("round trip of %+v: %+v, %v", in, got, err)
			}
		}
		in, err := ParseFragment(raw)
		if err == nil && !(utf8.ValidString(in.Policy) && utf8.ValidString(in.Requests) && utf8.ValidString(in.Old)) {
			t.Fatalf("ParseFragment(%q) accepted invalid UTF-8", raw)
		}
	})
}

// FuzzAnalyze feeds the page's boxes anything: Analyze never fails, and
// every range it hands the editor lies inside the text it was computed on.
func FuzzAnalyze(f *testing.F) {
	f.Add("--allow-outboud=tcp://example.com:443\n", "connect tcp example.com:443", "--allow-outbound=tcp://*:80")
	f.Add("--allow-resolve=db->10.0.0.1 --allow-resolve=db->10.0.0.2", "lookup db => 10.0.0.1", "")
	f.Add("# 😀\n--allow-inbound=tcp://*:80->8888 --allow-outbound=tcp://[::1]:1-65535#ipv6-only", "listen tcp *:80\nbind udp [::]:0", "--allow-inbound=tcp://eth0:80")
	f.Fuzz(func(t *testing.T, policy, requests, old string) {
		if !utf8.ValidString(policy) || !utf8.ValidString(requests) {
			return // JavaScript strings reach Go as valid UTF-8
		}
		a := Analyze(Input{Policy: policy, Requests: requests, Old: old, Interfaces: DefaultInterfaces})
		n := len(utf16Units(policy))
		for _, d := range a.Diagnostics {
			if d.Start < 0 || d.Start > d.End || d.End > n {
				t.Fatalf("%s at [%d, %d) in a text of %d units", d.ID, d.Start, d.End, n)
			}
			for _, fx := range d.Fixes {
				for _, e := range fx.Edits {
					if e.Start < 0 || e.Start > e.End || e.End > n {
						t.Fatalf("fix %q edits [%d, %d) in a text of %d units", fx.Message, e.Start, e.End, n)
					}
				}
			}
		}
		m := len(utf16Units(requests))
		for _, r := range a.Eval.Requests {
			if r.Start < 0 || r.Start > r.End || r.End > m {
				t.Fatalf("request line %d at [%d, %d) in a text of %d units", r.Line, r.Start, r.End, m)
			}
		}
	})
}

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }
