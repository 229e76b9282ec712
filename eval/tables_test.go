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
		switch {
		case !v6 && seed%4 == 0:
			x.buildTop4() // (as an index of many networks has)
		case seed%4 == 1:
			x.buildByLen() // (as an index of many networks of few lengths has)
		}
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

// TestAddrIndexTop4: with the table of the top 16 bits, an IPv4 index of
// many networks finds the innermost network of every address as the
// plain bisection does: at the starts of the ranges, next to them, and at
// random, networks clustered in a few /16s and spread over the space.
func TestAddrIndexTop4(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	seen := map[netip.Prefix]bool{}
	var prefixes []netip.Prefix
	for len(prefixes) < 3000 {
		var a [4]byte
		switch r.IntN(3) {
		case 0:
			a = [4]byte{10, byte(r.IntN(3)), byte(r.IntN(256)), byte(r.IntN(256))}
		case 1:
			a = [4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}
		default:
			a = [4]byte{0, 0, byte(r.IntN(4)), byte(r.IntN(256))}
			if r.IntN(2) == 0 {
				a = [4]byte{255, 255, 255 - byte(r.IntN(4)), byte(r.IntN(256))}
			}
		}
		p, _ := netip.AddrFrom4(a).Prefix(8 + r.IntN(25))
		if !seen[p] {
			seen[p] = true
			prefixes = append(prefixes, p)
		}
	}
	x := buildAddrIndex(prefixes, make([]tableRef, len(prefixes)))
	if x.top4 == nil {
		t.Fatalf("%d starts and no table of the top bits", len(x.ranges4))
	}
	plain := x
	plain.top4, plain.mid4 = nil, nil
	var addrs []uint32
	for _, r := range x.ranges4 {
		s := r.start
		addrs = append(addrs, s-1, s, s+1, s|0xffff, s&^0xffff)
	}
	for range 20000 {
		addrs = append(addrs, r.Uint32())
	}
	addrs = append(addrs, 0, 1, 0xffffffff, 0xfffeffff, 0x10000)
	for _, a := range addrs {
		if got, want := x.innermost4(a), plain.innermost4(a); got != want {
			t.Fatalf("innermost4(%#x) = %d with the table, %d without", a, got, want)
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
