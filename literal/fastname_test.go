package literal

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCanonicalNameFastPath: every name the allocation-free fast path
// accepts is one mapName returns unchanged.
func TestCanonicalNameFastPath(t *testing.T) {
	const alphabet = "abcxyz019-._AZ"
	r := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for range 200000 {
		b := make([]byte, 1+r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		if !isCanonicalName(s) {
			continue
		}
		accepted++
		if n, probs := mapName(s); len(probs) > 0 || n != s {
			t.Fatalf("isCanonicalName(%q) but mapName = %q, %v", s, n, probs)
		}
	}
	if accepted < 1000 {
		t.Errorf("only %d names took the fast path", accepted)
	}
	for _, s := range []string{strings.Repeat("a", 64) + ".com", "xn--bcher-kva.example", "1.2.3.4", "a.123", "-a.com", "a-.com", strings.Repeat("a.", 127) + "com"} {
		if isCanonicalName(s) {
			t.Errorf("isCanonicalName(%q)", s)
		}
	}
}
