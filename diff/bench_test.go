package diff

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/capspec/capspec/policy"
)

// benchFlags writes a policy of n rules as services write them: exact
// names and wildcards on a few ports, single addresses, networks, IPv6,
// explicit lookups, listens on interfaces, localhost and addresses, names
// mapped to addresses with port mappings, and a few broad rules.
func benchFlags(r *rand.Rand, n int) []string {
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

// benchChange writes a rule a change adds: of any kind benchFlags writes,
// with names of its own (a mapped name never conflicts with another
// mapping of it).
func benchChange(r *rand.Rand) string {
	f := benchFlags(r, 12)[3+r.IntN(9)]
	tag := fmt.Sprintf("new%d-", r.Uint32())
	return strings.NewReplacer("//svc", "//"+tag+"svc", ".zone", "."+tag+"zone", "=host", "="+tag+"host", "//db", "//"+tag+"db").Replace(f)
}

// benchPair returns an old policy of n rules and a new one: the old one
// with about 1% of its rules changed, added or removed, and shuffled (a
// change under review), or, unrelated, another policy of n rules.
func benchPair(b *testing.B, n int, related bool) (*policy.Policy, *policy.Policy) {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	old := benchFlags(r, n)
	var new []string
	if related {
		new = append(new, old...)
		for range n / 100 {
			switch r.IntN(3) {
			case 0:
				new[r.IntN(len(new))] = benchChange(r)
			case 1:
				new = append(new, benchChange(r))
			default:
				i := r.IntN(len(new))
				new = append(new[:i], new[i+1:]...)
			}
		}
		r.Shuffle(len(new), func(i, j int) { new[i], new[j] = new[j], new[i] })
	} else {
		new = benchFlags(rand.New(rand.NewPCG(2, uint64(n))), n)
	}
	a, okA := compileFlags(b, "old.flags", old)
	c, okB := compileFlags(b, "new.flags", new)
	if !okA || !okB {
		b.Fatal("benchmark policy with errors")
	}
	return a, c
}

// BenchmarkCompare measures capspec diff's comparison of two compiled
// policies: a change of about 1% of the rules (shuffled), and two
// unrelated policies (every rule differs), at 10k and 100k rules.
func BenchmarkCompare(b *testing.B) {
	for _, n := range benchSizes {
		for _, related := range []bool{true, false} {
			name := fmt.Sprintf("rules=%d/change", n)
			if !related {
				name = fmt.Sprintf("rules=%d/unrelated", n)
			}
			b.Run(name, func(b *testing.B) {
				if !related && n > 10000 && testing.Short() {
					b.Skip("long")
				}
				old, new := benchPair(b, n, related)
				b.ReportAllocs()
				stop := peakHeap(b)
				b.ResetTimer()
				cpu := cpuTime()
				var res *Result
				for b.Loop() {
					var err error
					if res, err = Compare(old, new); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
				stop()
				b.ReportMetric(float64(len(res.Added)+len(res.Removed)+len(res.Changed)), "regions")
			})
		}
	}
}

// BenchmarkExceeds measures lint --within's check of a policy against a
// maximum of the same size: the policy within it but for about 1% of its
// rules.
func BenchmarkExceeds(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			maxP, p := benchPair(b, n, true)
			b.ReportAllocs()
			stop := peakHeap(b)
			b.ResetTimer()
			cpu := cpuTime()
			var xs []Excess
			for b.Loop() {
				var err error
				if xs, err = NewMaximum(maxP, "max.flags").Exceeds(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			stop()
			b.ReportMetric(float64(len(xs)), "excesses")
		})
	}
}

// benchSizes are the policy sizes of the benchmarks.
var benchSizes = []int{10000, 100000}

// cpuTime returns the CPU time the process has used (user and system):
// on a machine other processes load, it says what a run costs better than
// the time on the clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeap samples the heap in use every millisecond until the returned
// function is called, which reports the highest sample as peak-heap-MB
// (what the benchmark's policies, parsed before it starts, take included)
// and the heap in use at the start as base-heap-MB.
func peakHeap(b *testing.B) (stop func()) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapInuse
	peak := base
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		b.ReportMetric(float64(base)/1e6, "base-heap-MB")
	}
}
