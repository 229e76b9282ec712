package diff

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Result is what differs between two policies (SPEC §8.1).
type Result struct {
	// Added are the regions the new policy allows and the old one does
	// not; Removed the reverse. Each lists what its policy grants, rule by
	// rule, in the order of the rules (an implied resolve after its
	// outbound rule); their union is exactly what one allows and the
	// other does not.
	Added, Removed []Region
	// Changed are requests both allow but send elsewhere (a mapping whose
	// target changed).
	Changed []Change
}

// Equivalent reports whether the policies decide every request alike.
func (r *Result) Equivalent() bool {
	return len(r.Added) == 0 && len(r.Removed) == 0 && len(r.Changed) == 0
}

// Compare compares two compiled policies on meaning: implied resolves,
// host mappings and port mappings included, requests decided with the
// fixed interface table Interfaces. Every example is checked with the
// reference evaluator of both policies before it is returned; an example
// that does not show what it should is an error (a bug, never hidden).
func Compare(old, new *policy.Policy) (*Result, error) {
	so, sn := newSide(old), newSide(new)
	plus := &comparer{this: sn, other: so}
	minus := &comparer{this: so, other: sn}
	res := &Result{Added: plus.allRegions(), Removed: minus.allRegions(), Changed: plus.changes()}
	sortChanges(res.Changed)
	var checks []check
	for _, r := range res.Added {
		checks = append(checks, regionCheck(r, sn, so))
	}
	for _, r := range res.Removed {
		checks = append(checks, regionCheck(r, so, sn))
	}
	for _, ch := range res.Changed {
		checks = append(checks, changeCheck(ch, sn, so))
	}
	if err := runChecks(checks); err != nil {
		return nil, err
	}
	return res, nil
}

// allRegions returns the regions of every grant of this side that no other
// grant of it covers (policy.Essential), in the order of the grants.
func (c *comparer) allRegions() []Region {
	var out []Region
	for _, g := range policy.Essential(c.this.p.Grants()) {
		out = append(out, c.regions(g, c.excess(g))...)
	}
	slices.SortStableFunc(out, func(a, b Region) int { return cmp.Compare(grantOrder(a.Rule), grantOrder(b.Rule)) })
	return out
}

// grantOrder orders grants by their rule, an implied resolve right after
// its outbound rule.
func grantOrder(r *policy.Rule) int {
	if r.IsImplied() {
		return 2*r.Index + 1
	}
	return 2 * r.Index
}

func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		return cmp.Or(cmp.Compare(grantOrder(a.Rule), grantOrder(b.Rule)), policy.Compare(a.Flag, b.Flag))
	})
}

// check is an example to confirm with the reference evaluators.
type check struct {
	what string
	ok   func() bool
}

// regionCheck confirms that this side allows the example in its family
// and the other side does not.
func regionCheck(r Region, this, other *side) check {
	return check{
		what: fmt.Sprintf("%s for %s", r.Example, r.Flag),
		ok: func() bool {
			return differs(this.ref.Decide(r.Example), other.ref.Decide(r.Example), r.Family)
		},
	}
}

// differs reports whether decision a allows a request in the families f
// and b in none of them.
func differs(a, b eval.Decision, f policy.Families) bool {
	return a.Families.Has(f) && b.Families&f == 0
}

// changeCheck confirms that both sides allow the example, with different
// answers or host ports.
func changeCheck(ch Change, newSide, oldSide *side) check {
	return check{
		what: fmt.Sprintf("%s for %s (was %s)", ch.Example, ch.Flag, ch.Was),
		ok: func() bool {
			dn, do := newSide.ref.Decide(ch.Example), oldSide.ref.Decide(ch.Example)
			if !bothAllow(ch.Example, ch.Family, dn, do) {
				return false
			}
			if ch.Example.Op == eval.Lookup {
				fi := famIndex(ch.Family)
				return dn.Answers[fi] != do.Answers[fi]
			}
			return dn.HostPort != do.HostPort
		},
	}
}

// runChecks runs the checks on every CPU (the reference evaluators are
// linear in the number of rules, and safe for concurrent use).
func runChecks(checks []check) error {
	if len(checks) == 0 {
		return nil
	}
	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	work := make(chan check)
	for range min(runtime.GOMAXPROCS(0), len(checks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if !c.ok() {
					mu.Lock()
					failed = append(failed, c.what)
					mu.Unlock()
				}
			}
		}()
	}
	for _, c := range checks {
		work <- c
	}
	close(work)
	wg.Wait()
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("internal error: the reference evaluator does not confirm the example %s", failed[0])
	}
	return nil
}
