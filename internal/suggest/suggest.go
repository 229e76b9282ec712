// Package suggest finds the word a misspelled one most likely meant: the
// one home of edit distance for capspec's "did you mean" suggestions (flag
// names, protocols, flag names in shell scripts).
package suggest

import "strings"

// Distance is the optimal string alignment distance between a and b, in
// runes: insertions, deletions, substitutions and transpositions of
// neighbours each cost 1. It takes time and memory proportional to
// len(a)*len(b); callers bound the lengths they compare.
func Distance(a, b string) int {
	// Short words (flag names, protocols: every caller's) are compared in
	// buffers on the stack: a file of a hundred thousand words that are
	// not flags asks for as many distances.
	var bufA, bufB [distanceStack]rune
	var rows [3][distanceStack + 1]int
	ra, rb := runesInto(bufA[:0], a), runesInto(bufB[:0], b)
	// Three rows: the one before the previous (for transpositions), the
	// previous and the current.
	var pp, prev, cur []int
	if len(rb) < distanceStack {
		pp, prev, cur = rows[0][:len(rb)+1], rows[1][:len(rb)+1], rows[2][:len(rb)+1]
	} else {
		pp, prev, cur = make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(rb)]
}

// distanceStack is the length in runes up to which Distance keeps its
// work on the stack.
const distanceStack = 32

// runesInto appends the runes of s to buf (on the stack when it has room).
func runesInto(buf []rune, s string) []rune {
	for _, r := range s {
		buf = append(buf, r)
	}
	return buf
}

// Closest returns the one candidate nearest to s within maxDist edits
// (ignoring case), or "" when there is none or the nearest is not unique.
// Candidates whose length differs from s by more than maxDist are not
// compared, which keeps long input cheap.
func Closest(s string, maxDist int, candidates ...string) string {
	s = strings.ToLower(s)
	best, bestDist, unique := "", maxDist+1, false
	for _, c := range candidates {
		if abs(len(s)-len(c)) > maxDist {
			continue
		}
		d := Distance(s, c)
		switch {
		case d < bestDist:
			best, bestDist, unique = c, d, true
		case d == bestDist:
			unique = false
		}
	}
	if !unique {
		return ""
	}
	return best
}

// Near reports whether s is within maxDist edits of some candidate
// (ignoring case).
func Near(s string, maxDist int, candidates ...string) bool {
	s = strings.ToLower(s)
	for _, c := range candidates {
		if abs(len(s)-len(c)) <= maxDist && Distance(s, c) <= maxDist {
			return true
		}
	}
	return false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
