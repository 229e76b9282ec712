package policy

import (
	"cmp"
	"hash/maphash"
	"slices"
)

// Grouping many rules by a key of a hundred bytes (a host, a mapping, the
// ports) with a map from key to group costs more memory than the rules
// themselves. The functions here group and look up by a 64-bit hash of
// the key instead, sorting (hash, position) pairs: 16 bytes a rule, and no
// map. Equal hashes of unequal keys are told apart by comparing the keys,
// so a collision costs time, never a wrong group.

// hashed is an item's position and the hash of its key.
type hashed struct {
	hash uint64
	pos  int32
}

// sortHashed sorts items by hash, then position.
func sortHashed(hs []hashed) {
	slices.SortFunc(hs, func(a, b hashed) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.pos, b.pos))
	})
}

// hashRun returns the run [lo, hi) of the sorted items with hash h, in
// logarithmic time however long the run.
func hashRun(hs []hashed, h uint64) (lo, hi int) {
	return run(hs, h, func(x hashed) uint64 { return x.hash })
}

// run returns the run [lo, hi) of items sorted by hash whose hash is h.
func run[T any](xs []T, h uint64, hash func(T) uint64) (lo, hi int) {
	lo, _ = slices.BinarySearchFunc(xs, h, func(x T, h uint64) int { return cmp.Compare(hash(x), h) })
	hi, _ = slices.BinarySearchFunc(xs[lo:], h, func(x T, h uint64) int {
		if hash(x) <= h {
			return -1
		}
		return 1
	})
	return lo, lo + hi
}

// keyGroup is a group of keyGroups: members[lo:hi], first its first item.
type keyGroup struct {
	first, lo, hi int32
}

// keyGroups splits the items of hs (positions and the hashes of their
// keys, in any order) into groups of equal key: same(i, j) reports whether
// the items at positions i and j have equal keys. It returns the positions
// of the items, each group's contiguous and in order of position, and the
// groups in order of their first item. It reorders hs.
func keyGroups(hs []hashed, same func(i, j int) bool) (members []int32, groups []keyGroup) {
	sortHashed(hs)
	members = make([]int32, 0, len(hs))
	for lo := 0; lo < len(hs); {
		hi := lo + 1
		for hi < len(hs) && hs[hi].hash == hs[lo].hash {
			hi++
		}
		// Split the run into groups of equal key, each in order: a run of
		// one key (all but collisions) is one group.
		rest := hs[lo:hi]
		for len(rest) > 0 {
			head := int(rest[0].pos)
			g := keyGroup{first: int32(head), lo: int32(len(members))}
			other := rest[:0]
			for _, x := range rest {
				if int(x.pos) == head || same(head, int(x.pos)) {
					members = append(members, x.pos)
				} else {
					other = append(other, x)
				}
			}
			g.hi = int32(len(members))
			groups = append(groups, g)
			rest = other
		}
		lo = hi
	}
	slices.SortFunc(groups, func(a, b keyGroup) int { return cmp.Compare(a.first, b.first) })
	return members, groups
}

// hashRule returns the hash of a key, and of a rule's ports after it when
// withPorts is set.
func hashRule[K comparable](seed maphash.Seed, k K, r *Rule, withPorts bool) uint64 {
	if !withPorts {
		return maphash.Comparable(seed, k)
	}
	var h maphash.Hash
	h.SetSeed(seed)
	maphash.WriteComparable(&h, k)
	for _, pr := range r.Ports {
		maphash.WriteComparable(&h, pr)
	}
	return h.Sum64()
}

// firstSeen remembers the first value added under each key, by the hash
// of the key: 16 bytes a key where a map keyed by the key itself holds the
// key. key returns the key of a value added before, to tell keys of one
// hash apart; those are kept in a map of their own.
type firstSeen[K comparable, V any] struct {
	seed     maphash.Seed
	key      func(V) K
	first    map[uint64]V
	collided map[K]V
}

func newFirstSeen[K comparable, V any](n int, key func(V) K) *firstSeen[K, V] {
	return &firstSeen[K, V]{seed: maphash.MakeSeed(), key: key, first: make(map[uint64]V, n)}
}

// add returns the first value added under v's key and true; or, when
// there is none, adds v and returns it and false.
func (s *firstSeen[K, V]) add(v V) (V, bool) {
	k := s.key(v)
	h := maphash.Comparable(s.seed, k)
	f, ok := s.first[h]
	switch {
	case !ok:
		s.first[h] = v
		return v, false
	case s.key(f) == k:
		return f, true
	}
	if f, ok := s.collided[k]; ok {
		return f, true
	}
	if s.collided == nil {
		s.collided = map[K]V{}
	}
	s.collided[k] = v
	return v, false
}
