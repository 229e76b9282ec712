package literal

import (
	"math/rand/v2"
	"slices"
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

// plainNameCases are names at the edges of plainName's shape.
var plainNameCases = []string{
	"example.com", "svc12.example.com", "a.b.c.d.e", "abcdefgh", "abcdefg", "abc-def.gh", "a--bcdef.com",
	"xn--bcher-kva.example", "ab--cdef.com", "abcd.-ef.com", "abcd-.ef.com", "abcd..ef.com", "1bcdefgh.com",
	"abcdefgh.co1", "abcdefgh.123", "0x1f.0x2f.com", "abcdefgh.", ".abcdefgh", "abcdefgh-", "abCdefgh.com",
	"abcdefgh.c\x80m", "abcdef\x00h", "abc_defg.com", "abc/defg.com", "abc:defg.com",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 62) + ".b", strings.Repeat("ab.", 21),
	strings.Repeat("a", 30) + "." + strings.Repeat("b", 32), "k9.svc.cluster.local", "a.k9.svc.cluster.local",
}

// TestPlainName: plainName accepts only names the label-by-label check
// accepts (it is a shortcut of isCanonicalName, never a second opinion),
// and accepts the common ones.
func TestPlainName(t *testing.T) {
	names := slices.Clone(plainNameCases)
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "abcdefz0129-.A_\x80"
	for range 200000 {
		b := make([]byte, 6+r.IntN(60))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = "abcxyz019"[r.IntN(9)]
			}
		}
		names = append(names, string(b))
	}
	accepted := 0
	for _, s := range names {
		checkCanonicalName(t, s)
		if plainName(s) {
			accepted++
		}
	}
	if accepted < 10000 {
		t.Errorf("only %d names took plainName", accepted)
	}
	for _, s := range []string{"example.com", "svc12.example.com", "a.k9.svc.cluster.local", "abc-def.gh", strings.Repeat("a", 63)} {
		if !plainName(s) {
			t.Errorf("plainName(%q) = false", s)
		}
	}
}

// checkCanonicalName fails t unless the fast paths of isCanonicalName
// agree with its byte-by-byte form and accept only names mapName returns
// unchanged.
func checkCanonicalName(t *testing.T, s string) {
	t.Helper()
	plain, fast, slow := plainName(s), isCanonicalName(s), isCanonicalNameBytewise(s)
	if plain && !slow || fast != slow {
		t.Fatalf("%q: plainName %v, isCanonicalName %v, byte by byte %v", s, plain, fast, slow)
	}
	if fast {
		if n, probs := mapName(s); len(probs) > 0 || n != s {
			t.Fatalf("isCanonicalName(%q) but mapName = %q, %v", s, n, probs)
		}
	}
}

// FuzzCanonicalName: for any string, the fast paths of Name decide as
// its byte-by-byte form and accept only names the whole mapping returns
// unchanged.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range plainNameCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkCanonicalName(t, s)
		if n, probs := Name(s); len(probs) == 0 {
			if m, mp := mapName(s); len(mp) > 0 || m != n {
				t.Fatalf("Name(%q) = %q, mapName = %q, %v", s, n, m, mp)
			}
		}
	})
}

// TestPlainInterface: the fast path of Interface accepts exactly the
// names its whole check accepts.
func TestPlainInterface(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const alphabet = "aZz09_.:-/ @`[{\x80\xffé"
	names := []string{"", "eth0", "0eth", "_a", "a", "A", "abcdefghijklmno", "abcdefghijklmnop", "eth0.100", "br-1a2b", "ｅｔｈ０"}
	for range 100000 {
		b := make([]byte, r.IntN(18))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		names = append(names, string(b))
	}
	for _, s := range names {
		checkInterface(t, s)
	}
}

func checkInterface(t *testing.T, s string) {
	t.Helper()
	if fast, whole := plainInterface(s), interfaceProblem(s) == nil; fast != whole {
		t.Fatalf("%q: plainInterface %v, interfaceProblem accepts %v", s, fast, whole)
	}
}

// FuzzInterface: for any string, Interface's fast path decides as its
// whole check.
func FuzzInterface(f *testing.F) {
	for _, s := range []string{"eth0", "0eth", "abcdefghijklmnop", "eth:1", "bücher"} {
		f.Add(s)
	}
	f.Fuzz(checkInterface)
}
