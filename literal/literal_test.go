package literal

import (
	"net/netip"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		in, want, problem string // problem: the ID, or "" for none
	}{
		{"example.com", "example.com", ""},
		{"EXAMPLE.com.", "example.com", ""},
		{"Bücher.example", "xn--bcher-kva.example", ""},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"ｅｘａｍｐｌｅ.com", "example.com", ""},
		{"例え。テスト", "xn--r8jz45g.xn--zckzah", ""},
		{"a_b.example", "a_b.example", ""},
		{"exаmple.com", "xn--exmple-4nf.com", ""}, // Cyrillic а: a different name, never example.com
		{"a..b", "", "CS007"},
		{".a", "", "CS007"},
		{"-a.com", "", "CS007"},
		{"a-.com", "", "CS007"},
		{strings.Repeat("a", 64) + ".com", "", "CS007"},
		{strings.Repeat("a.", 127) + "com", "", "CS007"},
		{strings.Repeat("a", 5000), "", "CS007"},
		{"xn--zz.com", "", "CS007"},
		{"a!b.com", "", "CS007"},
		{"example.123", "", "CS004"},
		{"127.1", "", "CS004"},
		{"0x7f.0.0.1", "", "CS004"},
		{"2130706433", "", "CS004"},
		{"999.1.1.1", "", "CS004"},
		{"1.2.3.4.", "", "CS004"},
		{"\xd20", "", "CS007"},
		// Finding 1: a name is checked after mapping, as a whole.
		{"１２７.０.０.１", "", "CS004"}, // fullwidth digits
		{"①②⑦.⓪.⓪.①", "", "CS004"}, // circled digits
		{"𝟏𝟐𝟕.𝟎.𝟎.𝟏", "", "CS004"}, // mathematical bold digits
		{"127。0。0。1", "", "CS004"}, // ideographic full stops
		{"127．0．0．1", "", "CS004"}, // fullwidth full stops
		{"127｡0｡0｡1", "", "CS004"}, // halfwidth ideographic full stops
		{"１２７.1", "", "CS004"},     // a legacy form, mapped
		{"０ｘ７ｆ.１", "", "CS004"},    // hex, mapped
		{"१२७.०.०.१", "", "CS004"}, // Devanagari digits: no mapping, still digits
		{"ex.１２３", "", "CS004"},    // all-digit last label, mapped
		{"ex.१२३", "", "CS004"},    // all-digit last label, other digits
		{"ex.①②③", "", "CS004"},
		{"::1", "", "CS004"},           // an IPv6 address is no name
		{"ab：cd.com", "", "CS007"},     // fullwidth colon
		{"ｌｏｃａｌｈｏｓｔ", "localhost", ""}, // SPEC §3.2
		{"LOCALHOST.", "localhost", ""},
		{"ｅｘ。ｃｏｍ．", "ex.com", ""},
		{"１２３.example.com", "123.example.com", ""}, // digits are fine before the last label
		// Finding 7: invisible characters are refused, never dropped.
		{"exam\u200bple.com", "", "CS012"}, // zero-width space
		{"exam\u00adple.com", "", "CS012"}, // soft hyphen
		{"exam\u2060ple.com", "", "CS012"}, // word joiner
		{"\ufeffexample.com", "", "CS012"}, // byte order mark
		{"exam\u200dple.com", "", "CS012"}, // zero-width joiner
	} {
		got, probs := Name(tc.in)
		gotID := ""
		if len(probs) > 0 {
			gotID = probs[0].ID
			if probs[0].Start < 0 || probs[0].End > len(tc.in) || probs[0].Start > probs[0].End {
				t.Errorf("Name(%q): problem range %d-%d outside the input", tc.in, probs[0].Start, probs[0].End)
			}
		}
		if got != tc.want || gotID != tc.problem {
			t.Errorf("Name(%q) = %q, %v; want %q, %s", tc.in, got, probs, tc.want, tc.problem)
		}
	}
}

func TestLegacyIPv4(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2130706433", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"10.1.257", "10.1.1.1"},
		{"010.0.0.1", "8.0.0.1"},
		{"256.0.0.1", ""},
		{"1.2.3.4.5", ""},
		{"0x1g", ""},
	} {
		got, ok := ParseLegacyIPv4(tc.in)
		if !ok && tc.want != "" || ok && got.String() != tc.want {
			t.Errorf("ParseLegacyIPv4(%q) = %v, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestIPv4AndIPv6(t *testing.T) {
	if a, p := IPv4("10.0.0.1"); p != nil || a != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("IPv4(10.0.0.1) = %v, %v", a, p)
	}
	for _, bad := range []string{"010.0.0.1", "127.1", "::1", "1.2.3"} {
		if _, p := IPv4(bad); p == nil || p.ID != "CS004" {
			t.Errorf("IPv4(%q): want CS004, got %v", bad, p)
		}
	}
	for _, tc := range []struct{ in, id, fix string }{
		{"::1", "", ""},
		{"fe80::1%eth0", "CS004", "fe80::1"},
		{"::ffff:10.0.0.1", "CS005", "10.0.0.1"},
		{"10.0.0.1", "CS004", "10.0.0.1"},
		{"::g", "CS004", ""},
	} {
		_, p := IPv6(tc.in)
		id, fix := "", ""
		if p != nil {
			id, fix = p.ID, p.Fix
		}
		if id != tc.id || fix != tc.fix {
			t.Errorf("IPv6(%q) = %s %q; want %s %q", tc.in, id, fix, tc.id, tc.fix)
		}
	}
}

func TestInterface(t *testing.T) {
	for _, ok := range []string{"eth0", "eth0.100", "eth0:1", "br-1a2b", "wlp3s0", "a"} {
		if p := Interface(ok); p != nil {
			t.Errorf("Interface(%q) = %v", ok, p)
		}
	}
	for _, bad := range []string{"", "0eth", "averyveryverylongif", "eth/0", "bücher", "ｅｔｈ０", "\xffeth"} {
		if p := Interface(bad); p == nil {
			t.Errorf("Interface(%q) accepted", bad)
		}
	}
	// The length is counted and reported in characters (ASCII only).
	if p := Interface("abcdefghijklmnop"); p == nil || !strings.Contains(p.Message, "16 characters") {
		t.Errorf("Interface(16 characters) = %v", p)
	}
	if p := Interface("abcdefghijklmnö"); p == nil || strings.Contains(p.Message, "characters long") {
		t.Errorf("Interface with a non-ASCII character: want the character reported, got %v", p)
	}
}

func TestInvisible(t *testing.T) {
	for _, r := range []rune{0x200b, 0x202e, 0xfeff, 0x00ad, 0x0000, 0x001b, 0x2066, 0x3164, 0xfe0f} {
		if !Invisible(r) {
			t.Errorf("Invisible(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', 'é', '例', '\t', ' ', 0xfffd} {
		if Invisible(r) {
			t.Errorf("Invisible(%U) = true", r)
		}
	}
}

func TestCheckInvisible(t *testing.T) {
	s := "a\u200bb\u202ec"
	ps := CheckInvisible(s)
	if len(ps) != 2 {
		t.Fatalf("CheckInvisible(%q) = %v", s, ps)
	}
	for _, p := range ps {
		if p.ID != "CS012" || s[p.Start:p.End] != "\u200b" && s[p.Start:p.End] != "\u202e" {
			t.Errorf("problem %+v does not cover an invisible character", p)
		}
	}
	if ps := CheckInvisible("example.com\t"); len(ps) != 0 {
		t.Errorf("visible text reported: %v", ps)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"10.0.0.1", "10.0.0.1"},
		{"2001:db8::1", "[2001:db8::1]"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.0.0.1/32", "10.0.0.1"},
		{"2001:db8::/32", "[2001:db8::/32]"},
		{"::1/128", "[::1]"},
	} {
		var got string
		if p, err := netip.ParsePrefix(tc.in); err == nil {
			got = FormatPrefix(p)
		} else {
			got = FormatAddr(netip.MustParseAddr(tc.in))
		}
		if got != tc.want {
			t.Errorf("format(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestLabelRanges(t *testing.T) {
	s := "ａ。b.c．"
	got := LabelRanges(s)
	want := []string{"ａ", "b", "c"}
	if len(got) != len(want) {
		t.Fatalf("LabelRanges(%q) = %v", s, got)
	}
	for i, r := range got {
		if s[r[0]:r[1]] != want[i] {
			t.Errorf("label %d = %q, want %q", i, s[r[0]:r[1]], want[i])
		}
	}
}

// TestLooksLikeIPv4 checks which spellings must be read as IPv4 addresses
// (valid or not) and never as names: dot-separated numbers in any form,
// a trailing dot ending no label.
func TestLooksLikeIPv4(t *testing.T) {
	for s, want := range map[string]bool{
		"127.0.0.1": true, "127.1": true, "2130706433": true, "0x7f.1": true, "010.0.0.1": true,
		"1.2.3.4.5": true, "127.0.0.1.": true, "1。2": true, "1．2.3.4": true,
		"": false, ".": false, "1..2": false, "1..": false, "a.1": false, "1.a": false,
		"１２７.０.０.１": false, "example.com": false, "0xg.1": false,
	} {
		if got := LooksLikeIPv4(s); got != want {
			t.Errorf("LooksLikeIPv4(%q) = %v, want %v", s, got, want)
		}
	}
}
