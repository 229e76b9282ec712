package eval

import (
	"math/bits"
	"math/rand/v2"
)

// strTable is an open-addressing hash table of distinct strings, each
// given an id (0, 1, 2, ... in order of insertion) and a value of type P
// kept in its slot. A slot holds 16 bits of the key's hash, its id, a flag
// of the caller's, the key's first inlineKey bytes (the whole key of most
// names) and the value: a probe that misses reads one slot, and a probe
// that hits compares the key in the slot and finds the value there,
// reading no other memory (a longer key compares its rest through keys).
// It is read-only once built, so lookups are safe for concurrent use.
type strTable[P any] struct {
	seed   strSeed
	mask   uint64
	slots  []strSlot[P]
	keys   []string // by id
	fmask  uint64   // len(filter)*64 - 1
	filter []uint64 // if any: bit filterBit(h) is set for the hash h of every key
}

// inlineKey is how many bytes of its key a slot holds.
const inlineKey = 24

// strSlot is one slot: id+1 (0: empty), the high bits of the hash, the
// key's length (255 for 255 or more), the flag, the key's first bytes and
// the value (32 bytes and the value's).
type strSlot[P any] struct {
	id1  int32
	tag  uint16
	n    uint8
	flag bool
	head [inlineKey]byte
	val  P
}

// newStrTableFor returns a table with room for n strings.
func newStrTableFor[P any](n int) strTable[P] {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return strTable[P]{seed: newStrSeed(), mask: uint64(size - 1), slots: make([]strSlot[P], size), keys: make([]string, 0, n)}
}

// withFilter gives a new table a filter of its keys, 16 bits a key of
// the n it has room for: most probes for a string it does not hold then
// read a few bits that stay in the caches (a bit of 100 KiB for 50,000
// names), not a slot of the table (megabytes).
func (t *strTable[P]) withFilter(n int) {
	words := 1
	for words*64 < 16*n {
		words *= 2
	}
	t.filter, t.fmask = make([]uint64, words), uint64(words*64-1)
}

// filterBit returns the bit of the filter of hash h (bits the slot index
// and the tag do not use, for a table below 2^20 slots).
func (t *strTable[P]) filterBit(h uint64) uint64 { return (h >> 20) & t.fmask }

// hash returns the hash of s.
func (t *strTable[P]) hash(s string) uint64 { return t.seed.hash(s) }

// strSeed is the random key of a table's hash, so that the names a
// table holds cannot be chosen to collide.
type strSeed [4]uint64

// newStrSeed returns a random key (math/rand/v2's generator is seeded
// from the system's randomness).
func newStrSeed() strSeed { return strSeed{rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()} }

// hash returns the hash of s under key k: the hash of Go's runtime for
// maps on machines without AES instructions (runtime/hash64.go, after
// wyhash), one call with no dispatch, reading 8 bytes at a time.
func (k *strSeed) hash(s string) uint64 {
	var a, b uint64
	seed := k[0]
	switch n := len(s); {
	case n == 0:
		return seed
	case n < 4:
		a = uint64(s[0]) | uint64(s[n>>1])<<8 | uint64(s[n-1])<<16
	case n <= 8:
		a, b = r4(s, 0), r4(s, n-4)
	case n <= 16:
		a, b = r8(s, 0), r8(s, n-8)
	default:
		p := s
		for len(p) > 16 {
			seed = hashMix(r8(p, 0)^k[1], r8(p, 8)^seed)
			p = p[16:]
		}
		a, b = r8(s, n-16), r8(s, n-8)
	}
	return hashMix(hashM5^uint64(len(s)), hashMix(a^k[1], b^seed))
}

// hashM5 is a constant of the hash.
const hashM5 = 0x1d8e4e27c47d124f

// hashMix folds the 128-bit product of a and b.
func hashMix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// r8 reads 8 bytes of s from i, little-endian (one load).
func r8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// r4 reads 4 bytes of s from i, little-endian (one load).
func r4(s string, i int) uint64 {
	s = s[i : i+4]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// slotLen is the length a slot records for a key of n bytes.
func slotLen(n int) uint8 { return uint8(min(n, 255)) }

// holds reports whether sl holds s (of hash tag).
func (t *strTable[P]) holds(sl *strSlot[P], s string, tag uint16) bool {
	if sl.tag != tag || sl.n != slotLen(len(s)) {
		return false
	}
	if len(s) <= inlineKey {
		return string(sl.head[:len(s)]) == s
	}
	return string(sl.head[:]) == s[:inlineKey] && t.keys[sl.id1-1][inlineKey:] == s[inlineKey:]
}

// find returns the id of s, or -1.
func (t *strTable[P]) find(s string) int32 {
	if sl := t.findSlot(s); sl != nil {
		return sl.id1 - 1
	}
	return -1
}

// findSlot returns the slot of s, or nil.
func (t *strTable[P]) findSlot(s string) *strSlot[P] {
	h := t.hash(s)
	if t.filter != nil {
		if b := t.filterBit(h); t.filter[b/64]&(1<<(b%64)) == 0 {
			return nil
		}
	}
	tag := uint16(h >> 48)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.id1 == 0 {
			return nil
		}
		if t.holds(sl, s, tag) {
			return sl
		}
	}
}

// add returns the id of s, adding it with the flag flag(s) if it is new
// (and whether it was).
func (t *strTable[P]) add(s string, flag func(string) bool) (int32, bool) {
	sl, isNew := t.addSlot(s, flag)
	return sl.id1 - 1, isNew
}

// addSlot is add returning the slot of s.
func (t *strTable[P]) addSlot(s string, flag func(string) bool) (*strSlot[P], bool) {
	if 2*(len(t.keys)+1) > len(t.slots) {
		t.grow()
	}
	h := t.hash(s)
	tag := uint16(h >> 48)
	i := h & t.mask
	for ; t.slots[i].id1 != 0; i = (i + 1) & t.mask {
		if sl := &t.slots[i]; t.holds(sl, s, tag) {
			return sl, false
		}
	}
	if t.filter != nil {
		b := t.filterBit(h)
		t.filter[b/64] |= 1 << (b % 64)
	}
	id := int32(len(t.keys))
	t.keys = append(t.keys, s)
	sl := &t.slots[i] // (empty: zero)
	sl.tag, sl.id1, sl.n = tag, id+1, slotLen(len(s))
	copy(sl.head[:], s)
	if flag != nil {
		sl.flag = flag(s)
	}
	return sl, true
}

// put stores sl under hash h in the first free slot.
func (t *strTable[P]) put(h uint64, sl strSlot[P]) {
	i := h & t.mask
	for t.slots[i].id1 != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = sl
}

// grow doubles the slots (the load stays at most one half).
func (t *strTable[P]) grow() {
	old := t.slots
	t.slots = make([]strSlot[P], 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, sl := range old {
		if sl.id1 != 0 {
			t.put(t.hash(t.keys[sl.id1-1]), sl)
		}
	}
}

// len returns the number of strings.
func (t *strTable[P]) len() int { return len(t.keys) }

// addrTable is an open-addressing hash table from addresses (as u128) to
// int32 values, each with a link beside it (a port table and a parent:
// what a decision reads next, in the slot it found), read-only once
// built. A slot is 32 bytes, two to a cache line.
type addrTable struct {
	mask  uint64
	slots []addrSlot
	n     int
}

type addrSlot struct {
	key  u128
	v1   int32 // value+1 (0: empty)
	link addrLink
}

func (a u128) hash() uint64 {
	h := a.hi*0x9e3779b97f4a7c15 ^ a.lo*0xc2b2ae3d27d4eb4f
	return h ^ h>>29
}

// reserve makes an empty table room for n keys.
func (t *addrTable) reserve(n int) {
	size := 8
	for size < 2*n {
		size *= 2
	}
	t.slots = make([]addrSlot, size)
	t.mask = uint64(size - 1)
}

// get returns the slot of a, or nil.
func (t *addrTable) get(a u128) *addrSlot { return t.getHash(a, a.hash()) }

// getHash is get with the hash of a given.
func (t *addrTable) getHash(a u128, h uint64) *addrSlot {
	if t.n == 0 {
		return nil
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.v1 == 0 {
			return nil
		}
		if sl.key == a {
			return sl
		}
	}
}

// set stores the value of a (a new key) and its link.
func (t *addrTable) set(a u128, v int32, link addrLink) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]addrSlot, max(8, 2*len(old)))
		t.mask = uint64(len(t.slots) - 1)
		t.n = 0
		for _, sl := range old {
			if sl.v1 != 0 {
				t.set(sl.key, sl.v1-1, sl.link)
			}
		}
	}
	i := a.hash() & t.mask
	for t.slots[i].v1 != 0 && t.slots[i].key != a {
		i = (i + 1) & t.mask
	}
	if t.slots[i].v1 == 0 {
		t.n++
	}
	t.slots[i] = addrSlot{key: a, v1: v + 1, link: link}
}
