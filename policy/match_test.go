package policy

import "testing"

// TestNameCandidates checks that every host that matches a name is among
// the name's candidates, over hosts and names made of a few labels.
func TestNameCandidates(t *testing.T) {
	names := []string{"localhost", "com", "example.com", "a.example.com", "b.a.example.com", "xa.example.com",
		"example.org", "a.b", "b", "internal", "db.internal", "z0.example.com"}
	hosts := []Host{{Kind: AnyHost}, {Kind: LocalhostHost, Name: "localhost"}}
	for _, n := range names {
		hosts = append(hosts, Host{Kind: NameHost, Name: n}, Host{Kind: WildcardHost, Name: n})
	}
	for _, n := range names {
		cands := map[Host]bool{}
		NameCandidates(n, func(h Host) { cands[h] = true })
		for _, h := range hosts {
			if h.MatchesName(n) && !cands[h] {
				t.Errorf("%s matches %s but is not a candidate", h, n)
			}
		}
	}
}
