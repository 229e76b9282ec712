package policygen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The pairs of the diff benchmarks (package diff's, and capspec diff's in
// package cli): large policies shaped like services', and a change of
// about 1% of one.

// diffFlags writes a policy of n rules as services write them: exact
// names and wildcards on a few ports, single addresses, networks, IPv6,
// explicit lookups, listens on interfaces, localhost and addresses, names
// mapped to addresses with port mappings, and a few broad rules.
func diffFlags(r *rand.Rand, n int) []string {
	fams := []string{"", "", "", "#ipv4-only", "#ipv6-only"}
	ports := func() string {
		switch r.IntN(6) {
		case 0:
			return fmt.Sprint(1 + r.IntN(65000))
		case 1:
			a := 1024 + r.IntN(60000)
			return fmt.Sprintf("%d-%d", a, a+r.IntN(100))
		case 2:
			return "80,443"
		case 3:
			return "5432"
		}
		return "443"
	}
	flags := make([]string, 0, n)
	for i := 0; len(flags) < n; i++ {
		fam := fams[r.IntN(len(fams))]
		switch i % 12 {
		case 0, 1, 2:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://svc%d.example.com:%s%s", r.IntN(n), ports(), fam))
		case 3:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://*.zone%d.example.net:%s%s", r.IntN(n/4+1), ports(), fam))
		case 4:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://10.%d.%d.%d:%s", r.IntN(256), r.IntN(256), r.IntN(256), ports()))
		case 5:
			flags = append(flags, fmt.Sprintf("--allow-outbound=udp://172.%d.%d.0/24:53", 16+r.IntN(16), r.IntN(256)))
		case 6:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://[2001:db8:%x::%x]:%s", r.IntN(65536), r.IntN(65536), ports()))
		case 7:
			flags = append(flags, fmt.Sprintf("--allow-resolve=host%d.example.org%s", r.IntN(n), fam))
		case 8:
			flags = append(flags, fmt.Sprintf("--allow-inbound=tcp://10.%d.%d.%d:%d", r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000)))
		case 9:
			flags = append(flags, fmt.Sprintf("--allow-inbound=tcp://eth%d:%d%s", r.IntN(64), 1024+r.IntN(60000), fam))
		case 10:
			flags = append(flags, fmt.Sprintf("--allow-outbound=tcp://db%d.internal->10.200.%d.%d:5432->5433", i, r.IntN(256), r.IntN(256)))
		default:
			p := 1024 + r.IntN(60000)
			flags = append(flags, fmt.Sprintf("--allow-inbound=tcp://localhost:%d->%d", p, p+1))
		}
	}
	// A few broad rules every policy has.
	flags[0] = "--allow-outbound=tcp://*.internal.example.com:443"
	flags[1] = "--allow-resolve=*.example.org#ipv4-only"
	flags[2] = "--allow-outbound=tcp://10.0.0.0/8:8080"
	return flags
}

// diffChange writes a rule a change adds: of any kind diffFlags writes,
// with names of its own (a mapped name never conflicts with another
// mapping of it).
func diffChange(r *rand.Rand) string {
	f := diffFlags(r, 12)[3+r.IntN(9)]
	tag := fmt.Sprintf("new%d-", r.Uint32())
	return strings.NewReplacer("//svc", "//"+tag+"svc", ".zone", "."+tag+"zone", "=host", "="+tag+"host", "//db", "//"+tag+"db").Replace(f)
}

// DiffPair writes an old policy of n rules and a new one: the old
// one with about 1% of its rules changed, added or removed, and shuffled
// (a change under review), or, unrelated, another policy of n rules.
func DiffPair(n int, related bool) (old, new []string) {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	old = diffFlags(r, n)
	if !related {
		return old, diffFlags(rand.New(rand.NewPCG(2, uint64(n))), n)
	}
	new = append(new, old...)
	for range n / 100 {
		switch r.IntN(3) {
		case 0:
			new[r.IntN(len(new))] = diffChange(r)
		case 1:
			new = append(new, diffChange(r))
		default:
			i := r.IntN(len(new))
			new = append(new[:i], new[i+1:]...)
		}
	}
	r.Shuffle(len(new), func(i, j int) { new[i], new[j] = new[j], new[i] })
	return old, new
}
