package eval

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
)

func TestTracker(t *testing.T) {
	p, _ := compileFlags(t, []string{
		"--allow-outbound=tcp://example.com:443",
		"--allow-outbound=tcp://db->10.9.9.9:5432",
		"--allow-resolve=other.com",
		"--allow-outbound=tcp://localhost:8080",
	})
	tr := NewTracker(NewIndex(p, nil))
	addr := netip.MustParseAddr
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
	// A mapped name gives its mapping, not DNS's answer.
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
	if d := tr.Decide(Request{Op: Connect, Addr: addr("93.184.216.34"), Port: 443}); d.Allowed {
		t.Error("allowed after Reset")
	}
}

// TestTrackerConcurrent records and decides from many goroutines (run
// with -race).
func TestTrackerConcurrent(t *testing.T) {
	p, _ := compileFlags(t, []string{"--allow-outbound=tcp://*.example.com:443"})
	tr := NewTracker(NewIndex(p, nil))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				a := netip.AddrFrom4([4]byte{10, byte(g), byte(i), 1})
				name := fmt.Sprintf("h%d.example.com", i%7)
				tr.Lookup(Request{Name: name}, []netip.Addr{a})
				if d := tr.Decide(Request{Op: Connect, Addr: a, Port: 443}); !d.Allowed {
					t.Errorf("%s from %s denied", a, name)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestInterfaces(t *testing.T) {
	name, ps, err := ParseInterface("eth0=10.0.0.5/24,fe80::1/64,[2001:db8::7],::ffff:192.0.2.1/120")
	if err != nil || name != "eth0" || fmt.Sprint(ps) != "[10.0.0.5/24 fe80::1/64 2001:db8::7/128 192.0.2.1/24]" {
		t.Errorf("ParseInterface = %q %v %v", name, ps, err)
	}
	for _, bad := range []string{"eth0", "1eth=10.0.0.1", "eth0=10.0.0.1/33", "eth0=127.1", "eth0=fe80::1%eth0", "eth0="} {
		if _, _, err := ParseInterface(bad); err == nil {
			t.Errorf("ParseInterface(%q) accepted", bad)
		}
	}
	tab := testIfaces()
	if got := tab.Owners(netip.MustParseAddr("10.0.0.5")); !slices.Equal(got, []string{"eth0"}) {
		t.Errorf("Owners = %v", got)
	}
	if got := tab.Owners(netip.MustParseAddr("10.0.0.6")); got != nil {
		t.Errorf("the subnet is not owned: %v", got)
	}
	if !tab.IsLoopback("lo") || tab.IsLoopback("eth0") || !slices.Equal(tab.Loopback(), []string{"lo"}) {
		t.Error("IsLoopback")
	}
	if !tab.Has("eth1") || tab.Has("eth9") {
		t.Error("Has")
	}
	var none *Interfaces
	if none.Owners(netip.MustParseAddr("10.0.0.5")) != nil || none.IsLoopback("lo") {
		t.Error("nil table")
	}
}
