package eval_test

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

var addr = netip.MustParseAddr

func TestTracker(t *testing.T) {
	p, _ := policygen.Compile(t, []string{
		"--allow-outbound=tcp://example.com:443",
		"--allow-outbound=tcp://db->10.9.9.9:5432",
		"--allow-resolve=other.com",
		"--allow-outbound=tcp://localhost:8080",
	})
	tr := NewTracker(NewIndex(p, nil))
	// A denied lookup records nothing.
	if d, given := tr.Lookup(Request{Name: "evil.com"}, []netip.Addr{addr("6.6.6.6")}); d.Allowed || given != nil {
		t.Errorf("evil.com: %+v %v", d, given)
	}
	if d := tr.Decide(Request{Op: Connect, Addr: addr("6.6.6.6"), Port: 443}); d.Allowed {
		t.Error("connect to an unrecorded address allowed")
	}
	// An allowed lookup records its answers (IPv4-mapped unmapped, names normalized).
	_, given := tr.Lookup(Request{Name: "EXAMPLE.com."}, []netip.Addr{addr("::ffff:93.184.216.34"), addr("2606:2800::1")})
	if fmt.Sprint(given) != "[93.184.216.34 2606:2800::1]" {
		t.Errorf("given %v", given)
	}
	if names := tr.Names(addr("93.184.216.34")); !slices.Equal(names, []string{"example.com"}) {
		t.Errorf("names %v", names)
	}
	for _, tt := range []struct {
		a    string
		port uint16
		want bool
		via  string
	}{
		{"93.184.216.34", 443, true, "example.com"},
		{"::ffff:93.184.216.34", 443, true, "example.com"},
		{"2606:2800::1", 443, true, "example.com"},
		{"93.184.216.34", 80, false, ""},
		{"1.1.1.1", 443, false, ""},
	} {
		d, via := tr.DecideVia(Request{Op: Connect, Addr: addr(tt.a), Port: tt.port})
		if d.Allowed != tt.want || via != tt.via {
			t.Errorf("connect %s:%d = %v via %q, want %v via %q", tt.a, tt.port, d.Allowed, via, tt.want, tt.via)
		}
	}
	// A mapped name gives its mapping, not DNS's answer, in no other family.
	_, given = tr.Lookup(Request{Name: "db"}, []netip.Addr{addr("1.2.3.4"), addr("2001:db8::1")})
	if fmt.Sprint(given) != "[10.9.9.9]" {
		t.Errorf("db given %v", given)
	}
	if d := tr.Decide(Request{Op: Connect, Addr: addr("1.2.3.4"), Port: 5432}); d.Allowed {
		t.Error("connect to the DNS answer of a mapped name allowed")
	}
	if d := tr.Decide(Request{Op: Connect, Addr: addr("10.9.9.9"), Port: 5432}); !d.Allowed {
		t.Error("connect to the mapping denied")
	}
	// localhost answers loopback.
	if _, given = tr.Lookup(Request{Name: "localhost"}, nil); fmt.Sprint(given) != "[127.0.0.1 ::1]" {
		t.Errorf("localhost given %v", given)
	}
	// A lookup allowed but of another name does not help example.com's rule.
	tr.Lookup(Request{Name: "other.com"}, []netip.Addr{addr("5.5.5.5")})
	if d := tr.Decide(Request{Op: Connect, Addr: addr("5.5.5.5"), Port: 443}); d.Allowed {
		t.Error("connect to other.com's address allowed by example.com's rule")
	}
	tr.Reset()
	if d := tr.Decide(Request{Op: Connect, Addr: addr("93.184.216.34"), Port: 443}); d.Allowed || tr.Len() != 0 {
		t.Error("allowed after Reset")
	}
}

// TestTrackerMappedAnswer is finding 5 of issue 10: a lookup answered by a
// mapping remembers its answer without any DNS answer, and the connect to
// it gets the mapped host port; DNS answers change nothing.
func TestTrackerMappedAnswer(t *testing.T) {
	p, _ := policygen.Compile(t, []string{"--allow-outbound=tcp://db->10.0.0.5:5432->5433"})
	for _, dns := range [][]netip.Addr{nil, {addr("1.1.1.1")}, {addr("::6")}} {
		tr := NewTracker(NewIndex(p, nil))
		d, given := tr.Lookup(Request{Name: "db"}, dns)
		if !d.Allowed || fmt.Sprint(given) != "[10.0.0.5]" {
			t.Errorf("dns %v: lookup %+v given %v", dns, d, given)
		}
		d, via := tr.DecideVia(Request{Op: Connect, Addr: addr("10.0.0.5"), Port: 5432})
		if !d.Allowed || via != "db" || d.Rule != 0 || d.HostPort != 5433 {
			t.Errorf("dns %v: connect %+v via %q, want rule 0, host port 5433", dns, d, via)
		}
		for _, a := range dns {
			if d := tr.Decide(Request{Op: Connect, Addr: a, Port: 5432}); d.Allowed {
				t.Errorf("dns %v: connect to the DNS answer %s allowed", dns, a)
			}
		}
	}
}

// TestTrackerWholeAnswerAndUnspecified: in the tracker too, a mapping is
// the whole answer (finding 4) and an unspecified destination is denied
// though a lookup gave it (finding 3).
func TestTrackerWholeAnswerAndUnspecified(t *testing.T) {
	p, _ := policygen.Compile(t, []string{"--allow-resolve=*", "--allow-resolve=db->10.0.0.5", "--allow-outbound=tcp://*.example.com:*"})
	tr := NewTracker(NewIndex(p, nil))
	if d, given := tr.Lookup(Request{Name: "db"}, []netip.Addr{addr("6.6.6.6"), addr("::6")}); !d.Allowed || fmt.Sprint(given) != "[10.0.0.5]" {
		t.Errorf("lookup db: %+v given %v, want exactly 10.0.0.5", d, given)
	}
	if d, given := tr.Lookup(Request{Name: "db", Family: policy.IPv6}, []netip.Addr{addr("::6")}); d.Allowed || given != nil {
		t.Errorf("lookup db ipv6: %+v given %v, want denied", d, given)
	}
	if names := tr.Names(addr("::6")); names != nil {
		t.Errorf("::6 remembered for %v", names)
	}
	for _, a := range []string{"0.0.0.0", "0.1.2.3", "::", "::ffff:0.0.0.0"} {
		tr.Lookup(Request{Name: "zero.example.com"}, []netip.Addr{addr(a)})
		if d, via := tr.DecideVia(Request{Op: Connect, Addr: addr(a), Port: 80}); d.Allowed {
			t.Errorf("connect %s allowed via %q", a, via)
		}
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestTrackerBounds: answers expire after their TTL; the most answers and
// names per address remembered are capped, the least recently recorded
// forgotten first.
func TestTrackerBounds(t *testing.T) {
	p, _ := policygen.Compile(t, []string{"--allow-outbound=tcp://*.example.com:443"})
	clock := &fakeClock{}
	tr := NewTrackerWith(NewIndex(p, nil), TrackerOptions{MaxEntries: 4, MaxNamesPerAddr: 2, DefaultTTL: time.Minute, Now: clock.now})
	connect := func(a string) (bool, string) {
		d, via := tr.DecideVia(Request{Op: Connect, Addr: addr(a), Port: 443})
		return d.Allowed, via
	}
	// TTL: the answer's own, or the default.
	tr.LookupTTL(Request{Name: "a.example.com"}, []netip.Addr{addr("1.0.0.1")}, 10*time.Second)
	tr.Lookup(Request{Name: "b.example.com"}, []netip.Addr{addr("1.0.0.2")})
	clock.advance(9 * time.Second)
	if ok, _ := connect("1.0.0.1"); !ok {
		t.Error("forgotten before its TTL")
	}
	clock.advance(time.Second)
	if ok, _ := connect("1.0.0.1"); ok {
		t.Error("remembered after its TTL")
	}
	if ok, _ := connect("1.0.0.2"); !ok {
		t.Error("default TTL: forgotten too early")
	}
	clock.advance(time.Minute)
	if ok, _ := connect("1.0.0.2"); ok {
		t.Error("default TTL: remembered too long")
	}
	// Names per address: the most recent first, the oldest forgotten.
	tr.Reset()
	for _, n := range []string{"x.example.com", "y.example.com", "z.example.com"} {
		tr.Lookup(Request{Name: n}, []netip.Addr{addr("2.0.0.1")})
	}
	if got := tr.Names(addr("2.0.0.1")); !slices.Equal(got, []string{"z.example.com", "y.example.com"}) {
		t.Errorf("names = %v", got)
	}
	if _, via := connect("2.0.0.1"); via != "z.example.com" {
		t.Errorf("decided via %q, want the most recent name", via)
	}
	// Recording a name again makes it the most recent.
	tr.Lookup(Request{Name: "y.example.com"}, []netip.Addr{addr("2.0.0.1")})
	if got := tr.Names(addr("2.0.0.1")); !slices.Equal(got, []string{"y.example.com", "z.example.com"}) {
		t.Errorf("names after a refresh = %v", got)
	}
	// Entries: at most 4, the least recently recorded forgotten.
	for i := range 5 {
		tr.Lookup(Request{Name: fmt.Sprintf("h%d.example.com", i)}, []netip.Addr{netip.AddrFrom4([4]byte{3, 0, 0, byte(i)})})
	}
	if tr.Len() != 4 {
		t.Errorf("Len = %d, want 4", tr.Len())
	}
	if ok, _ := connect("3.0.0.0"); ok {
		t.Error("the least recently recorded answer is still remembered")
	}
	for i := 1; i < 5; i++ {
		if ok, _ := connect(fmt.Sprintf("3.0.0.%d", i)); !ok {
			t.Errorf("3.0.0.%d forgotten", i)
		}
	}
	if got := tr.Options(); got.MaxEntries != 4 || got.MaxNamesPerAddr != 2 || got.DefaultTTL != time.Minute {
		t.Errorf("options %+v", got)
	}
	if d := NewTracker(NewIndex(p, nil)).Options(); d.MaxEntries != DefaultMaxEntries || d.MaxNamesPerAddr != DefaultMaxNamesPerAddr || d.DefaultTTL != DefaultTTL {
		t.Errorf("defaults %+v", d)
	}
}

// TestTrackerForgettingOnlyDenies replays random lookups and connects
// against random policies on a tracker that remembers everything and on
// small ones: whatever a small tracker allows, the big one allows too.
func TestTrackerForgettingOnlyDenies(t *testing.T) {
	forgot := 0
	for c := range policygen.Cases(t, 300, 21, 20) {
		seed, r := c.Seed, c.Rand
		idx := NewIndex(c.Policy, nil)
		clock := &fakeClock{}
		big := NewTrackerWith(idx, TrackerOptions{MaxEntries: 1 << 20, MaxNamesPerAddr: MaxNamesPerAddrLimit, DefaultTTL: time.Hour, Now: clock.now})
		small := NewTrackerWith(idx, TrackerOptions{MaxEntries: 1 + r.IntN(4), MaxNamesPerAddr: 1 + r.IntN(2), DefaultTTL: time.Hour, Now: clock.now})
		var addrs []netip.Addr
		for _, s := range policygen.Addrs {
			addrs = append(addrs, netip.MustParseAddr(trimBrackets(s)))
		}
		for range 200 {
			if r.IntN(2) == 0 {
				q := Request{Name: policygen.Pick(r, policygen.Names)}
				dns := []netip.Addr{policygen.Pick(r, addrs), policygen.Pick(r, addrs)}
				ttl := time.Duration(1+r.IntN(60)) * time.Second
				big.LookupTTL(q, dns, time.Hour)
				small.LookupTTL(q, dns, ttl)
				continue
			}
			clock.advance(time.Duration(r.IntN(3)) * time.Second)
			q := Request{Op: policygen.Pick(r, []Op{Connect, Send}), Addr: policygen.Pick(r, addrs), Port: uint16(policygen.Pick(r, policygen.Ports))}
			a, b := small.Decide(q), big.Decide(q)
			if a.Allowed && !b.Allowed {
				t.Fatalf("seed %d: %s allowed by the small tracker only", seed, q)
			}
			if b.Allowed && !a.Allowed {
				forgot++
			}
		}
	}
	if forgot == 0 {
		t.Error("the small trackers never forgot anything that mattered")
	}
}

func trimBrackets(s string) string {
	if len(s) > 1 && s[0] == '[' {
		return s[1 : len(s)-1]
	}
	return s
}

// countingDecider counts decisions.
type countingDecider struct {
	Decider
	n atomic.Int64
}

func (c *countingDecider) Decide(q Request) Decision {
	c.n.Add(1)
	return c.Decider.Decide(q)
}

// TestTrackerDecideViaBounded: however many names were given one address,
// DecideVia makes at most MaxNamesPerAddr + 1 decisions.
func TestTrackerDecideViaBounded(t *testing.T) {
	p, _ := policygen.Compile(t, []string{"--allow-resolve=*", "--allow-outbound=tcp://only.example.com:443"})
	c := &countingDecider{Decider: NewIndex(p, nil)}
	tr := NewTracker(c)
	a := addr("7.7.7.7")
	for i := range 10000 {
		tr.Lookup(Request{Name: fmt.Sprintf("n%d.example.com", i)}, []netip.Addr{a})
	}
	c.n.Store(0)
	if d := tr.Decide(Request{Op: Connect, Addr: a, Port: 443}); d.Allowed {
		t.Error("allowed")
	}
	if n := c.n.Load(); n > DefaultMaxNamesPerAddr+1 {
		t.Errorf("DecideVia made %d decisions for one address given for 10000 names", n)
	}
	if tr.Len() != DefaultMaxNamesPerAddr {
		t.Errorf("Len = %d", tr.Len())
	}
}

// TestTrackerConcurrent records and decides from many goroutines (run
// with -race), under a cap that makes it forget as it goes.
func TestTrackerConcurrent(t *testing.T) {
	p, _ := policygen.Compile(t, []string{"--allow-outbound=tcp://*.example.com:443"})
	tr := NewTrackerWith(NewIndex(p, nil), TrackerOptions{MaxEntries: 64, MaxNamesPerAddr: 2})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				a := netip.AddrFrom4([4]byte{10, byte(g), byte(i), 1})
				name := fmt.Sprintf("h%d.example.com", i%7)
				tr.Lookup(Request{Name: name}, []netip.Addr{a})
				tr.Decide(Request{Op: Connect, Addr: a, Port: 443})
				tr.Names(a)
				if i%50 == 0 {
					tr.Len()
				}
			}
		})
	}
	wg.Wait()
	if n := tr.Len(); n > 64 {
		t.Errorf("Len = %d over the cap", n)
	}
	// Alone, a lookup and its connect always agree.
	a := addr("10.200.0.1")
	tr.Lookup(Request{Name: "x.example.com"}, []netip.Addr{a})
	if d := tr.Decide(Request{Op: Connect, Addr: a, Port: 443}); !d.Allowed {
		t.Error("denied right after its lookup")
	}
}

func TestInterfaces(t *testing.T) {
	tab := policygen.Interfaces()
	if got := tab.Owners(addr("10.0.0.5")); !slices.Equal(got, []string{"eth0"}) {
		t.Errorf("Owners = %v", got)
	}
	if got := tab.Owners(addr("10.0.0.6")); got != nil {
		t.Errorf("the subnet is not owned: %v", got)
	}
	if !tab.IsLoopback("lo") || tab.IsLoopback("eth0") || !slices.Equal(tab.Loopback(), []string{"lo"}) {
		t.Error("IsLoopback")
	}
	if !tab.Has("eth1") || tab.Has("eth9") {
		t.Error("Has")
	}
	var none *Interfaces
	if none.Owners(addr("10.0.0.5")) != nil || none.IsLoopback("lo") {
		t.Error("nil table")
	}
}
