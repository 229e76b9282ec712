package diff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/capspec/capspec/policy"
)

// TestFirstOnPort checks the first rules on a port against a plain scan
// of the rules in order: single ports, lists, ranges and "*", on ports
// many rules share and ports few do, with limits below and above the
// number of rules on a port.
func TestFirstOnPort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var rules []*policy.Rule
	for i := range 3000 {
		var ps []policy.PortRange
		switch r.IntN(5) {
		case 0:
			ps = []policy.PortRange{{Lo: 443, Hi: 443}}
		case 1:
			ps = []policy.PortRange{{Lo: 80, Hi: 80}, {Lo: 443, Hi: 443}}
		case 2:
			lo := uint16(r.IntN(65000))
			ps = []policy.PortRange{{Lo: lo, Hi: lo + uint16(r.IntN(500))}}
		case 3:
			ps = []policy.PortRange{{Lo: uint16(1 + r.IntN(65535)), Hi: 0}}
			ps[0].Hi = ps[0].Lo
		default:
			if r.IntN(20) == 0 {
				ps = []policy.PortRange{{Lo: 0, Hi: 65535}}
			} else {
				ps = []policy.PortRange{{Lo: 1000, Hi: 1999}, {Lo: 3000, Hi: 3000}}
			}
		}
		rules = append(rules, &policy.Rule{Index: i, Ports: policy.Ports(ps...)})
	}
	ports := []uint16{0, 1, 80, 443, 1000, 1500, 1999, 2000, 3000, 65535}
	for range 200 {
		ports = append(ports, uint16(r.IntN(65536)))
	}
	for _, limit := range []int{1, 8, 256, 5000} {
		x := newFirstOnPort(rules, limit)
		for _, port := range ports {
			var want []*policy.Rule
			for _, rl := range rules {
				if len(want) < limit && rl.Ports.Contains(port) {
					want = append(want, rl)
				}
			}
			if got := x.first(port); !slices.Equal(got, want) {
				t.Errorf("limit %d, port %d: %s, want %s", limit, port, indexes(got), indexes(want))
			}
		}
	}
}

func indexes(rs []*policy.Rule) string {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Index
	}
	return fmt.Sprint(out)
}
