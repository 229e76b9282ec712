// Package testpolicy writes the policies the playground's benchmarks and
// browser tests measure with.
package testpolicy

import (
	"fmt"
	"strings"
)

// Hundred returns a policy of 100 distinct rules of every kind — names
// (with their implied lookups), lookups of one family, networks, mapped
// listeners, mapped names — behind a comment line. seed varies the names,
// addresses and ports, so that benchmarks see many inputs.
func Hundred(seed int) string {
	var b strings.Builder
	b.WriteString("# 100 rules\n")
	for i := 0; i < 100; i++ {
		n := i + seed*100
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "--allow-outbound=tcp://svc%d.example.com:443\n", n)
		case 1:
			fmt.Fprintf(&b, "--allow-resolve=svc%d.example.com#ipv4-only\n", n)
		case 2:
			fmt.Fprintf(&b, "--allow-outbound=udp://10.%d.%d.0/24:53\n", n%256, i)
		case 3:
			fmt.Fprintf(&b, "--allow-inbound=tcp://localhost:%d->%d\n", 9000+n%1000, 19000+n%1000)
		case 4:
			fmt.Fprintf(&b, "--allow-outbound=tcp://db%d.internal->172.17.%d.%d:5432->%d\n", n, n%256, i, 6000+i)
		}
	}
	return b.String()
}
