package eval

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"
)

// TestAddrIndex checks, for random networks (nested, adjacent, at the ends
// of the address space), that walking from the innermost network finds
// exactly the networks containing an address, innermost first.
func TestAddrIndex(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 3))
		v6 := seed%2 == 1
		bitLen := 32
		if v6 {
			bitLen = 128
		}
		randAddr := func() netip.Addr {
			var b [16]byte
			switch r.IntN(4) {
			case 0: // all zeros
			case 1:
				for i := range b {
					b[i] = 0xff
				}
			default:
				for i := range b {
					b[i] = byte(r.IntN(4)) * 0x55
				}
			}
			if !v6 {
				return netip.AddrFrom4([4]byte(b[:4]))
			}
			return netip.AddrFrom16(b)
		}
		seen := map[netip.Prefix]bool{}
		var prefixes []netip.Prefix
		for range 1 + r.IntN(12) {
			bits := r.IntN(bitLen + 1)
			if r.IntN(3) == 0 {
				bits = bitLen - r.IntN(3)
			}
			p, _ := randAddr().Prefix(bits)
			if !seen[p] {
				seen[p] = true
				prefixes = append(prefixes, p)
			}
		}
		x := buildAddrIndex(prefixes, make([]tableRef, len(prefixes)))
		for range 200 {
			a := randAddr()
			var want []netip.Prefix
			for _, p := range prefixes {
				if p.Contains(a) {
					want = append(want, p)
				}
			}
			slices.SortFunc(want, func(p, q netip.Prefix) int { return q.Bits() - p.Bits() })
			var got []netip.Prefix
			for n := x.innermost(toU128(a)); n >= 0; n = x.nodes[n].parent {
				got = append(got, x.nodes[n].prefix)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d: %s in %v: got %v, want %v", seed, a, prefixes, got, want)
			}
		}
	}
}

// TestManyNestedWildcards decides names below more nested wildcard rules
// than the fast path keeps, with both engines.
func TestManyNestedWildcards(t *testing.T) {
	name := "a.b.c.d.e.f.g.h.i.j.k.l.example.com"
	var flags []string
	for d := name; ; {
		_, rest, ok := cutLabel(d)
		if !ok {
			break
		}
		flags = append(flags, "--allow-resolve=*."+rest+"#ipv6-only", "--allow-outbound=udp://*."+rest+":"+strconv.Itoa(len(flags)+1))
		d = rest
	}
	slices.Reverse(flags) // the deepest wildcards last, so the first rule is shallow
	p, _ := compileFlags(t, flags)
	ref, idx := NewReference(p, nil), NewIndex(p, nil)
	for d := name; d != ""; {
		for port := range uint16(len(flags) + 2) {
			for _, q := range []Request{{Op: Lookup, Name: d}, {Op: Send, Name: d, Port: port}, {Op: Send, Name: d, Addr: netip.MustParseAddr("2001:db8::1"), Port: port}} {
				if a, b := ref.Decide(q), idx.Decide(q); !sameDecision(a, b) {
					t.Fatalf("%s: reference %+v, index %+v", q, a, b)
				}
			}
		}
		_, d, _ = cutLabel(d)
	}
}

func cutLabel(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
