package eval

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Decider decides requests: *Index and *Reference are Deciders.
type Decider interface {
	Decide(Request) Decision
}

// Defaults of TrackerOptions.
const (
	DefaultMaxEntries      = 65536
	DefaultMaxNamesPerAddr = 8
	DefaultTTL             = 5 * time.Minute
	// MaxNamesPerAddrLimit is the largest MaxNamesPerAddr a Tracker takes.
	MaxNamesPerAddrLimit = 64
)

// TrackerOptions bound what a Tracker remembers. A zero field takes its
// default. Forgetting an answer only ever denies: a connect that a
// forgotten answer would have allowed is decided as if the lookup had
// not happened.
type TrackerOptions struct {
	// MaxEntries is the most answers (address, name) remembered; recording
	// one more forgets the least recently recorded. Default 65536.
	MaxEntries int
	// MaxNamesPerAddr is the most names remembered for one address;
	// recording one more forgets the least recently recorded of them. It
	// bounds the work of DecideVia: at most this many decisions. Default 8,
	// at most 64.
	MaxNamesPerAddr int
	// DefaultTTL is how long Lookup remembers an answer; LookupTTL takes
	// the answer's own TTL. Default 5 minutes.
	DefaultTTL time.Duration
	// Now is the clock the TTLs are measured with (default time.Now). It
	// must be safe for concurrent use.
	Now func() time.Time
}

// withDefaults fills the zero fields.
func (o TrackerOptions) withDefaults() TrackerOptions {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxNamesPerAddr <= 0 {
		o.MaxNamesPerAddr = DefaultMaxNamesPerAddr
	}
	o.MaxNamesPerAddr = min(o.MaxNamesPerAddr, MaxNamesPerAddrLimit, o.MaxEntries)
	if o.DefaultTTL <= 0 {
		o.DefaultTTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Tracker gives a runtime "resolved from" semantics (SPEC §3.3, §9)
// without bookkeeping of its own: it decides lookups and remembers the
// answers an allowed lookup gives the guest, and then decides a connect or
// send to a bare address as resolved from the names it was given for.
//
// What it remembers is bounded (TrackerOptions): each answer for its TTL,
// at most MaxEntries answers, at most MaxNamesPerAddr names per address,
// the least recently recorded forgotten first. Recording and deciding cost
// O(MaxNamesPerAddr) whatever the number of answers remembered. A Tracker
// is safe for concurrent use.
type Tracker struct {
	d   Decider
	opt TrackerOptions

	mu     sync.RWMutex
	byAddr map[netip.Addr][]int32 // entry ids, least recently recorded first
	ents   []trackEntry           // entries; free ones are on the free list
	free   []int32
	head   int32 // least recently recorded entry (-1: none)
	tail   int32 // most recently recorded entry
	n      int   // entries in use
}

// trackEntry is one remembered answer: the guest was given addr for name.
type trackEntry struct {
	addr       netip.Addr
	name       string
	expires    time.Time
	prev, next int32 // in the order of recording (-1: none)
}

// NewTracker returns a tracker deciding with d, with the default bounds.
func NewTracker(d Decider) *Tracker { return NewTrackerWith(d, TrackerOptions{}) }

// NewTrackerWith returns a tracker deciding with d, with the bounds of o.
func NewTrackerWith(d Decider, o TrackerOptions) *Tracker {
	return &Tracker{d: d, opt: o.withDefaults(), byAddr: map[netip.Addr][]int32{}, head: -1, tail: -1}
}

// Options returns the tracker's bounds, defaults filled in.
func (t *Tracker) Options() TrackerOptions { return t.opt }

// Lookup is LookupTTL with the tracker's DefaultTTL.
func (t *Tracker) Lookup(q Request, dns []netip.Addr) (Decision, []netip.Addr) {
	return t.LookupTTL(q, dns, 0)
}

// LookupTTL decides a lookup and, when it is allowed, returns and
// remembers for ttl (0 or less: the DefaultTTL) the answers the guest
// receives: a mapped name's mapping (the whole answer, SPEC §3.2) or
// localhost's loopback addresses, whatever dns says; otherwise the
// addresses of dns (the real DNS answers) in the allowed families. Answers
// of a denied family are dropped.
func (t *Tracker) LookupTTL(q Request, dns []netip.Addr, ttl time.Duration) (Decision, []netip.Addr) {
	q.Op = Lookup
	if err := normalize(&q); err != nil {
		return invalid(err), nil
	}
	d := t.d.Decide(q)
	if !d.Allowed || d.NoRuleNeeded {
		return d, nil
	}
	var given []netip.Addr
	for i, f := range families {
		switch {
		case !d.Families.Has(f):
		case d.Answers[i].IsValid():
			given = append(given, d.Answers[i])
		default:
			for _, a := range dns {
				if a = cleanAddr(a); (a.Is4() == (i == 0)) && !slices.Contains(given, a) {
					given = append(given, a)
				}
			}
		}
	}
	if len(given) == 0 {
		return d, given
	}
	if ttl <= 0 {
		ttl = t.opt.DefaultTTL
	}
	now := t.opt.Now()
	expires := now.Add(ttl)
	t.mu.Lock()
	for _, a := range given {
		t.record(a, q.Name, now, expires)
	}
	t.mu.Unlock()
	return d, given
}

// record remembers that name was given a (t.mu held).
func (t *Tracker) record(a netip.Addr, name string, now, expires time.Time) {
	ids := t.byAddr[a]
	// Forget the name's earlier answer (it is recorded anew, as the most
	// recent) and any expired answer for the address.
	for i := 0; i < len(ids); {
		if e := &t.ents[ids[i]]; e.name == name || !now.Before(e.expires) {
			t.unlink(ids[i])
			ids = slices.Delete(ids, i, i+1)
			continue
		}
		i++
	}
	if len(ids) >= t.opt.MaxNamesPerAddr {
		t.unlink(ids[0])
		ids = slices.Delete(ids, 0, 1)
	}
	id := t.alloc(trackEntry{addr: a, name: name, expires: expires})
	t.byAddr[a] = append(ids, id)
	// Forget the least recently recorded answers beyond the cap, and the
	// expired ones at the head.
	for t.n > t.opt.MaxEntries || t.head >= 0 && t.head != id && !now.Before(t.ents[t.head].expires) {
		t.forget(t.head)
	}
}

// alloc stores an entry at the tail of the recording order.
func (t *Tracker) alloc(e trackEntry) int32 {
	var id int32
	if n := len(t.free); n > 0 {
		id, t.free = t.free[n-1], t.free[:n-1]
	} else {
		id = int32(len(t.ents))
		t.ents = append(t.ents, trackEntry{})
	}
	e.prev, e.next = t.tail, -1
	t.ents[id] = e
	if t.tail >= 0 {
		t.ents[t.tail].next = id
	} else {
		t.head = id
	}
	t.tail = id
	t.n++
	return id
}

// unlink frees an entry, leaving its address's list to the caller.
func (t *Tracker) unlink(id int32) {
	e := &t.ents[id]
	if e.prev >= 0 {
		t.ents[e.prev].next = e.next
	} else {
		t.head = e.next
	}
	if e.next >= 0 {
		t.ents[e.next].prev = e.prev
	} else {
		t.tail = e.prev
	}
	*e = trackEntry{prev: -1, next: -1}
	t.free = append(t.free, id)
	t.n--
}

// forget frees an entry and removes it from its address's list.
func (t *Tracker) forget(id int32) {
	a := t.ents[id].addr
	ids := t.byAddr[a]
	if i := slices.Index(ids, id); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(t.byAddr, a)
	} else {
		t.byAddr[a] = ids
	}
	t.unlink(id)
}

// Decide decides a request; see DecideVia.
func (t *Tracker) Decide(q Request) Decision {
	d, _ := t.DecideVia(q)
	return d
}

// DecideVia decides a request. A connect or send to an address without a
// name counts as resolved from each name a remembered lookup gave it for,
// the most recently recorded first; the first that allows it decides, and
// is returned ("" when none did). It costs at most MaxNamesPerAddr + 1
// decisions.
func (t *Tracker) DecideVia(q Request) (Decision, string) {
	if (q.Op == Connect || q.Op == Send) && q.Addr.IsValid() && q.Name == "" {
		var buf [MaxNamesPerAddrLimit]string
		for _, n := range t.names(cleanAddr(q.Addr), buf[:0]) {
			v := q
			v.Name = n
			if d := t.d.Decide(v); d.Allowed {
				return d, n
			}
		}
	}
	return t.d.Decide(q), ""
}

// names appends to out the unexpired names remembered for a, the most
// recently recorded first.
func (t *Tracker) names(a netip.Addr, out []string) []string {
	now := t.opt.Now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	ids := t.byAddr[a]
	for i := len(ids) - 1; i >= 0; i-- {
		if e := &t.ents[ids[i]]; now.Before(e.expires) {
			out = append(out, e.name)
		}
	}
	return out
}

// Names returns the names a remembered lookup gave address a for, the most
// recently recorded first.
func (t *Tracker) Names(a netip.Addr) []string { return t.names(cleanAddr(a), nil) }

// Len returns the number of answers remembered (expired ones not yet
// dropped included).
func (t *Tracker) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

// Reset forgets every answer.
func (t *Tracker) Reset() {
	t.mu.Lock()
	t.byAddr = map[netip.Addr][]int32{}
	t.ents, t.free = nil, nil
	t.head, t.tail, t.n = -1, -1, 0
	t.mu.Unlock()
}
