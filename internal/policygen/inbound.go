package policygen

import (
	"fmt"
	"math/rand/v2"
)

// InboundPolicy writes a policy of n inbound rules, most with port
// mappings, as services that publish many ports write them: on localhost
// (`tcp://localhost:8080->18080`), on "*", on loopback and other
// addresses (some owned by the interfaces of Interfaces), on interfaces,
// over TCP and UDP, single ports and ranges, with family modifiers. It is
// the policy of the inbound build benchmark (eval's BenchmarkNewIndex,
// policy=inbound): every address and interface is a bucket that localhost
// and "*" rules could be copied into.
func InboundPolicy(n int) []string {
	r := rand.New(rand.NewPCG(6, uint64(n)))
	fams := []string{"", "", "", "#ipv4-only", "#ipv6-only"}
	proto := func() string {
		if r.IntN(4) == 0 {
			return "udp"
		}
		return "tcp"
	}
	// ports returns a guest port or range, mapped to a host port most of
	// the time: a guest port is always mapped by the same offset (its
	// protocol's), so that no two rules map it differently (CS101).
	ports := func(proto string) string {
		p := 1024 + r.IntN(40000)
		off := 20000
		if proto == "udp" {
			off = 24000
		}
		switch r.IntN(8) {
		case 0:
			return fmt.Sprint(p)
		case 1:
			k := r.IntN(50)
			return fmt.Sprintf("%d-%d->%d-%d", p, p+k, p+off, p+k+off)
		}
		return fmt.Sprintf("%d->%d", p, p+off)
	}
	flags := make([]string, 0, n)
	for i := 0; len(flags) < n; i++ {
		var host, fam string
		switch i % 10 {
		case 0, 1, 2, 3:
			host, fam = "localhost", Pick(r, fams)
		case 4, 5:
			host, fam = "*", Pick(r, fams)
		case 6:
			host = fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))
		case 7:
			host = Pick(r, []string{"127.0.0.1", fmt.Sprintf("127.0.%d.%d", r.IntN(256), 1+r.IntN(254)), "[::1]", "10.0.0.5", "192.168.1.5", "[fe80::1]"})
		case 8:
			host, fam = Pick(r, []string{"eth0", "eth1", "lo", fmt.Sprintf("eth%d", 2+r.IntN(1000))}), Pick(r, fams)
		default:
			host = fmt.Sprintf("[2001:db8:%x::%x]", r.IntN(65536), 1+r.IntN(65535))
		}
		pr := proto()
		flags = append(flags, fmt.Sprintf("--allow-inbound=%s://%s:%s%s", pr, host, ports(pr), fam))
	}
	return flags
}
