package literal

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCanonicalNameFastPath: every name the allocation-free fast path
// accepts is one mapName returns unchanged, and it decides as its byte by
// byte form.
func TestCanonicalNameFastPath(t *testing.T) {
	const alphabet = "abcxyz019-._AZ\x80\xff/`{:@"
	r := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for range 200000 {
		var b []byte
		if r.IntN(2) == 0 {
			b = make([]byte, 1+r.IntN(12))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		} else {
			// Longer names of labels, one byte sometimes changed.
			for l := range 1 + r.IntN(6) {
				if l > 0 {
					b = append(b, '.')
				}
				for range 1 + r.IntN(14) {
					b = append(b, "abcxyz019-"[r.IntN(10)])
				}
			}
			if r.IntN(3) == 0 {
				b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
			}
		}
		s := string(b)
		if fast, slow := isCanonicalName(s), isCanonicalNameBytewise(s); fast != slow {
			t.Fatalf("isCanonicalName(%q) = %v, byte by byte %v", s, fast, slow)
		}
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

// isCanonicalNameBytewise is isCanonicalName one byte at a time, the
// oracle of its eight-bytes-at-a-time loop.
func isCanonicalNameBytewise(s string) bool {
	return len(s) > 0 && len(s) <= MaxNameLength && canonicalTail(s, 0, 0)
}
