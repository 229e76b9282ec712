// Package prose holds the small helpers of capspec's English messages,
// so that every message joins words the same way.
package prose

import "strings"

// JoinAnd joins words as "a", "a and b", "a, b and c"; no words is "".
func JoinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
