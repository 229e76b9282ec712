package eval

import (
	"math/rand/v2"
	"net/netip"
	"slices"
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

// TestCoverTrie adds and removes networks and checks coverage.
func TestCoverTrie(t *testing.T) {
	var tr coverTrie
	add := func(s string, d int32) { tr.add(netip.MustParsePrefix(s), d) }
	steps := []struct {
		pfx   string
		delta int32
		full  bool
	}{
		{"0.0.0.0/1", 1, false},
		{"128.0.0.0/2", 1, false},
		{"192.0.0.0/2", 1, true},
		{"192.0.0.0/2", 1, true},
		{"192.0.0.0/2", -1, true},
		{"192.0.0.0/2", -1, false},
		{"0.0.0.0/0", 1, true},
		{"0.0.0.0/0", -1, false},
		{"255.255.255.255/32", 1, false},
	}
	for i, s := range steps {
		add(s.pfx, s.delta)
		if tr.full() != s.full {
			t.Fatalf("step %d (%s %+d): full = %v", i, s.pfx, s.delta, tr.full())
		}
	}
	var v6 coverTrie
	v6.add(netip.MustParsePrefix("::/1"), 1)
	v6.add(netip.MustParsePrefix("8000::/1"), 1)
	if !v6.full() {
		t.Fatal("v6 halves do not cover")
	}
}
