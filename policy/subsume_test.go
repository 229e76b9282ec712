package policy

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/grammar"
)

// subsumeReference is Subsume without the cover index: every kept rule is
// a candidate for every rule, in time n². It is the oracle of
// TestSubsumeSameAsReference.
func subsumeReference(rules []*Rule) (kept []*Rule, dropped []*Rule) {
	sorted := slices.Clone(rules)
	Sort(sorted)
	var grants, resolves []*Rule
	for _, r := range sorted {
		if r.Kind == ast.Resolve {
			resolves = append(resolves, r)
			continue
		}
		grants = append(grants, r)
		if ir := r.ImpliedResolve(); ir != nil {
			resolves = append(resolves, ir)
		}
	}
	gone := map[*Rule]bool{}
	// covered reports whether another rule than self (or its implied
	// resolve) that is not gone covers target.
	covered := func(target, self *Rule, candidates []*Rule) bool {
		for _, c := range candidates {
			if c != self && owner(c) != self && !gone[c] && !gone[owner(c)] && Covers(c, target) {
				return true
			}
		}
		return false
	}
	for i := len(sorted) - 1; i >= 0; i-- {
		r := sorted[i]
		candidates := grants
		if r.Kind == ast.Resolve {
			candidates = resolves
		}
		if !covered(r, r, candidates) {
			continue
		}
		if ir := r.ImpliedResolve(); ir != nil && !covered(ir, r, resolves) {
			continue
		}
		gone[r] = true
		dropped = append(dropped, r)
	}
	for _, r := range sorted {
		if !gone[r] {
			kept = append(kept, r)
		}
	}
	return kept, dropped
}

// TestSubsumeSameAsReference checks Subsume, whose cover index compares a
// rule with the few rules whose host and ports may cover it, against the
// comparison of all pairs, on random policies dense in covers: the same
// rules kept and dropped, in the same order, each dropped rule covered by
// the rules Subsume names, which are still kept when it is dropped.
func TestSubsumeSameAsReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"*", "a.example.com", "example.com", "*.example.com", "*.a.example.com", "10.0.0.1", "10.0.0.0/8", "10.0.0.0/24", "0.0.0.0/0",
		"[::1]", "[2001:db8::/32]", "localhost", "127.0.0.1", "eth0", "db", "db->10.0.0.5", "db->[::1]", "x.db"}
	ports := []string{"*", "80", "443", "80,443", "1-1000", "80->8080", "80->81", "1000-1010->2000-2010", "53", "0", "1-65535"}
	fams := []string{"", "", "#ipv4-only", "#ipv6-only"}
	protos := []string{"tcp", "udp"}
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	for range iterations {
		n := 1 + r.IntN(40)
		var flags []string
		for len(flags) < n {
			host, fam := hosts[r.IntN(len(hosts))], fams[r.IntN(len(fams))]
			var f string
			switch r.IntN(3) {
			case 0:
				f = "--allow-resolve=" + host + fam
			case 1:
				f = "--allow-outbound=" + protos[r.IntN(2)] + "://" + host + ":" + ports[r.IntN(len(ports))] + fam
			default:
				f = "--allow-inbound=" + protos[r.IntN(2)] + "://" + host + ":" + ports[r.IntN(len(ports))] + fam
			}
			if ar, _ := grammar.ParseFlag(f, nil); ar != nil {
				flags = append(flags, f)
			}
		}
		p, _ := compile(t, flags...)
		for _, rules := range [][]*Rule{p.Rules, p.Resolves, append(p.OfKind(ast.Outbound), p.OfKind(ast.Inbound)...), MergeAll(p.Rules)} {
			wantKept, wantDropped := subsumeReference(rules)
			kept, dropped := Subsume(rules)
			if !slices.Equal(kept, wantKept) {
				t.Fatalf("%q: kept\n%s\nwant\n%s", flags, spell(kept), spell(wantKept))
			}
			if len(dropped) != len(wantDropped) {
				t.Fatalf("%q: %d dropped, want %d", flags, len(dropped), len(wantDropped))
			}
			// A rule is dropped for rules still kept when it is: kept in
			// the end, or dropped after it (an implied resolve: itself, or
			// the rule implying it).
			alive := func(i int, c *Rule) bool {
				is := func(k *Rule) bool { return k == c || k == owner(c) }
				return slices.ContainsFunc(kept, is) || slices.ContainsFunc(dropped[i+1:], func(d Dropped) bool { return is(d.Rule) })
			}
			for i, d := range dropped {
				if d.Rule != wantDropped[i] {
					t.Fatalf("%q: dropped %s, want %s", flags, d.Rule, wantDropped[i])
				}
				if d.By == nil || d.By == d.Rule || !Covers(d.By, d.Rule) || !alive(i, d.By) {
					t.Errorf("%q: %s dropped for %v, which is no kept rule covering it", flags, d.Rule, d.By)
				}
				ir := d.Rule.ImpliedResolve()
				if (ir == nil) != (d.ResolveBy == nil) || ir != nil && (!Covers(d.ResolveBy, ir) || !alive(i, d.ResolveBy)) {
					t.Errorf("%q: %s dropped with its resolve granted by %v", flags, d.Rule, d.ResolveBy)
				}
			}
		}
	}
}

// owner is the rule that grants r: r, or the rule whose implied resolve r is.
func owner(r *Rule) *Rule {
	if r.ImpliedBy != nil {
		return r.ImpliedBy
	}
	return r
}

// TestSubsumeKeepsOneOfEqualImplied checks that of an explicit resolve rule
// and an equal implied one, both among the rules, one is kept: each covers
// the other, and the one dropped first no longer covers anything.
func TestSubsumeKeepsOneOfEqualImplied(t *testing.T) {
	p, _ := compile(t, "--allow-resolve=example.com", "--allow-outbound=udp://example.com:80")
	kept, dropped := Subsume(p.Resolves)
	if len(kept) != 1 || len(dropped) != 1 {
		t.Fatalf("kept %q, dropped %d; want one of each", spell(kept), len(dropped))
	}
}
