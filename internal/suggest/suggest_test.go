package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"tcp", "tcp", 0},
		{"tpc", "tcp", 1}, // a transposition
		{"ucp", "tcp", 1},
		{"--allow-outboud", "--allow-outbound", 1},
		{"--alow-outbound", "--allow-outbound", 1},
		{"kitten", "sitting", 3},
		{"ｔｃｐ", "tcp", 3}, // runes, not bytes
		{"ca", "abc", 3},  // optimal string alignment, not full Damerau
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"--allow-resolve", "--allow-outbound", "--allow-inbound"}
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"--allow-outboud", 3, "--allow-outbound"},
		{"--ALLOW-INBOUND", 3, "--allow-inbound"},
		{"--allow-env", 3, ""},
		{"tpc", 1, ""}, // tcp and udp: not both, but tpc is 1 from tcp only
	} {
		cands := names
		if tc.s == "tpc" {
			cands = []string{"tcp", "udp"}
			tc.want = "tcp"
		}
		if got := Closest(tc.s, tc.max, cands...); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
	if got := Closest("xcp", 1, "tcp", "ucp"); got != "" {
		t.Errorf("a tie must give no suggestion, got %q", got)
	}
	if !Near("--allow-outbond", 2, names...) || Near("--allow-env", 2, names...) {
		t.Error("Near")
	}
}

// TestDistanceShortWordsDoNotAllocate requires words as long as the flag
// names to be compared without allocating (a file of a hundred thousand
// words that are not flags asks for a distance each).
func TestDistanceShortWordsDoNotAllocate(t *testing.T) {
	if a := testing.AllocsPerRun(10, func() { Distance("--allow-outboud=x", "--allow-outbound") }); a != 0 {
		t.Errorf("Distance of short words: %v allocations", a)
	}
	long := "--allow-outbound=tcp://a-very-long-name.example.com:443"
	if d := Distance(long, long[1:]); d != 1 {
		t.Errorf("Distance of long words = %d, want 1", d)
	}
}
