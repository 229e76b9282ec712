package eval_test

import (
	"fmt"
	"log"
	"net/netip"
	"sync"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
)

// Compile a policy once, then decide requests from many goroutines.
func Example() {
	p, ds := eval.CompileFlags(
		"--allow-outbound=tcp://example.com:443",
		"--allow-outbound=tcp://db.internal->172.17.0.14:5432->5433",
		"--allow-inbound=tcp://*:80->8888",
	)
	if diag.HasErrors(ds) {
		log.Fatal(ds)
	}
	engine := eval.NewIndex(p, nil)

	requests := []eval.Request{
		{Op: eval.Lookup, Name: "Example.COM."},
		{Op: eval.Connect, Addr: netip.MustParseAddr("93.184.216.34"), Name: "example.com", Port: 443},
		{Op: eval.Connect, Name: "example.com", Port: 80},
		{Op: eval.Connect, Name: "db.internal", Port: 5432},
		{Op: eval.Listen, Local: eval.LocalAny, Port: 80},
	}
	decisions := make([]eval.Decision, len(requests))
	var wg sync.WaitGroup
	for i, q := range requests {
		wg.Go(func() { decisions[i] = engine.Decide(q) })
	}
	wg.Wait()
	for i, d := range decisions {
		fmt.Printf("%-45s allowed=%-5v rule=%d", requests[i], d.Allowed, d.Rule)
		if d.Allowed {
			fmt.Printf(" families=%s host-port=%d", d.Families, d.HostPort)
		}
		if d.HostAddr.IsValid() {
			fmt.Printf(" host-addr=%s", d.HostAddr)
		}
		fmt.Println()
	}
	// Output:
	// lookup Example.COM.                           allowed=true  rule=0 families=ipv4, ipv6 host-port=0
	// connect tcp 93.184.216.34:443 via example.com allowed=true  rule=0 families=ipv4 host-port=443 host-addr=93.184.216.34
	// connect tcp example.com:80                    allowed=false rule=-1
	// connect tcp db.internal:5432                  allowed=true  rule=1 families=ipv4 host-port=5433 host-addr=172.17.0.14
	// listen tcp *:80                               allowed=true  rule=2 families=ipv4, ipv6 host-port=8888
}

// A Tracker records the answers of allowed lookups, so that a later
// connect to a bare address counts as resolved from the name.
func ExampleTracker() {
	p, _ := eval.CompileFlags("--allow-outbound=tcp://example.com:443#ipv4-only")
	tracker := eval.NewTracker(eval.NewIndex(p, nil))

	dns := []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("2606:2800::1")}
	d, given := tracker.Lookup(eval.Request{Name: "example.com"}, dns)
	fmt.Println("lookup allowed:", d.Allowed, "answers given:", given)

	for _, a := range []string{"93.184.216.34", "2606:2800::1", "10.0.0.1"} {
		q := eval.Request{Op: eval.Connect, Addr: netip.MustParseAddr(a), Port: 443}
		d, via := tracker.DecideVia(q)
		fmt.Printf("connect %s: allowed=%v via=%q\n", a, d.Allowed, via)
	}
	// Output:
	// lookup allowed: true answers given: [93.184.216.34]
	// connect 93.184.216.34: allowed=true via="example.com"
	// connect 2606:2800::1: allowed=false via=""
	// connect 10.0.0.1: allowed=false via=""
}
