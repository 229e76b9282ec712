package policy

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAddrClassesFast: IsLoopback and IsUnspecifiedDestination, which
// compare bytes, answer as their networks (Loopback4/6, Unspecified4/6)
// do, for addresses of both families, IPv4-mapped, zoned and invalid.
func TestAddrClassesFast(t *testing.T) {
	loopback := func(a netip.Addr) bool {
		a = a.Unmap()
		return Loopback4.Contains(a) || Loopback6.Contains(a)
	}
	unspecified := func(a netip.Addr) bool {
		a = a.Unmap()
		return Unspecified4.Contains(a) || Unspecified6.Contains(a)
	}
	addrs := []netip.Addr{{}, netip.IPv4Unspecified(), netip.IPv6Unspecified(), netip.IPv6Loopback(),
		netip.MustParseAddr("::%eth0"), netip.MustParseAddr("::1%lo"), netip.MustParseAddr("::ffff:0.0.0.0"),
		netip.MustParseAddr("::ffff:127.0.0.1"), netip.MustParseAddr("::ffff:127.0.0.1%lo"), netip.MustParseAddr("::ffff:0.1.2.3%eth0"),
		netip.MustParseAddr("::2"), netip.MustParseAddr("1::"), netip.MustParseAddr("::127.0.0.1"), netip.MustParseAddr("0.255.255.255"),
		netip.MustParseAddr("1.0.0.0"), netip.MustParseAddr("126.255.255.255"), netip.MustParseAddr("128.0.0.0")}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b [16]byte
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = byte(r.IntN(256))
			}
		}
		firsts := []byte{0, 1, 126, 127, 128, 255}
		var a netip.Addr
		switch r.IntN(4) {
		case 0:
			a = netip.AddrFrom4([4]byte{firsts[r.IntN(len(firsts))], b[1], b[2], b[3]})
		case 1:
			a = netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: firsts[r.IntN(len(firsts))], 13: b[13], 14: b[14], 15: b[15]})
		case 2:
			b[15] = byte(r.IntN(3))
			a = netip.AddrFrom16(b)
		default:
			a = netip.AddrFrom16([16]byte{15: byte(r.IntN(3))})
		}
		if r.IntN(4) == 0 && a.Is6() {
			a = a.WithZone("eth0")
		}
		addrs = append(addrs, a)
	}
	for _, a := range addrs {
		if got, want := IsLoopback(a), loopback(a); got != want {
			t.Errorf("IsLoopback(%v) = %v, want %v", a, got, want)
		}
		if got, want := IsUnspecifiedDestination(a), unspecified(a); got != want {
			t.Errorf("IsUnspecifiedDestination(%v) = %v, want %v", a, got, want)
		}
	}
}
