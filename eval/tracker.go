package eval

import (
	"net/netip"
	"slices"
	"sync"
)

// Decider decides requests: *Index and *Reference are Deciders.
type Decider interface {
	Decide(Request) Decision
}

// Tracker gives a runtime "resolved from" semantics (§3.3) without
// bookkeeping of its own: it decides lookups and records the answers an
// allowed lookup gives the guest, and then decides a connect or send to a
// bare address as resolved from the names it was recorded for. It is safe
// for concurrent use. It forgets nothing until Reset.
type Tracker struct {
	d     Decider
	mu    sync.RWMutex
	names map[netip.Addr][]string
}

// NewTracker returns a tracker deciding with d.
func NewTracker(d Decider) *Tracker {
	return &Tracker{d: d, names: map[netip.Addr][]string{}}
}

// Lookup decides a lookup and, when it is allowed, returns and records the
// answers the guest receives: in a family the policy maps (or for
// localhost), the mapped answer instead of DNS's; otherwise those of dns
// (the real DNS answers) in an allowed family. Answers of a denied family
// are dropped.
func (t *Tracker) Lookup(q Request, dns []netip.Addr) (Decision, []netip.Addr) {
	q.Op = Lookup
	nq, err := normalize(q)
	if err != nil {
		return invalid(err), nil
	}
	d := t.d.Decide(nq)
	if !d.Allowed || d.NoRuleNeeded {
		return d, nil
	}
	var given []netip.Addr
	for i, f := range families {
		if !d.Families.Has(f) {
			continue
		}
		if d.Answers[i].IsValid() {
			given = append(given, d.Answers[i])
			continue
		}
		for _, a := range dns {
			if a = cleanAddr(a); (a.Is4() == (f == families[0])) && !slices.Contains(given, a) {
				given = append(given, a)
			}
		}
	}
	t.mu.Lock()
	for _, a := range given {
		if !slices.Contains(t.names[a], nq.Name) {
			t.names[a] = append(t.names[a], nq.Name)
		}
	}
	t.mu.Unlock()
	return d, given
}

// Decide decides a request. A connect or send to an address without a
// name counts as resolved from each name a recorded lookup returned it
// for, in the order recorded; the first that allows it decides.
func (t *Tracker) Decide(q Request) Decision {
	d, _ := t.DecideVia(q)
	return d
}

// DecideVia is Decide, also returning the recorded name that allowed a
// connect or send to a bare address ("" when none did).
func (t *Tracker) DecideVia(q Request) (Decision, string) {
	if (q.Op == Connect || q.Op == Send) && q.Addr.IsValid() && q.Name == "" {
		a := cleanAddr(q.Addr)
		t.mu.RLock()
		names := t.names[a]
		t.mu.RUnlock()
		for _, n := range names {
			v := q
			v.Name = n
			if d := t.d.Decide(v); d.Allowed {
				return d, n
			}
		}
	}
	return t.d.Decide(q), ""
}

// Names returns the names a recorded lookup returned address a for.
func (t *Tracker) Names(a netip.Addr) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return slices.Clone(t.names[cleanAddr(a)])
}

// Reset forgets every recorded answer.
func (t *Tracker) Reset() {
	t.mu.Lock()
	t.names = map[netip.Addr][]string{}
	t.mu.Unlock()
}
