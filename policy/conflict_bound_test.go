package policy

import (
	"fmt"
	"strings"
	"testing"
)

// TestConflictsBounded checks that n rules that all conflict with one
// another are reported in n-1 diagnostics, and that equal mapping rules
// are compared once.
func TestConflictsBounded(t *testing.T) {
	const n = 2000
	var flags []string
	for i := range n {
		flags = append(flags, fmt.Sprintf("--allow-inbound=tcp://*:80->%d", 1024+i))
	}
	_, msgs := compile(t, flags...)
	if len(msgs) != n-1 {
		t.Fatalf("%d conflicts for %d rules", len(msgs), n)
	}
	if !strings.Contains(msgs[0], "by --allow-inbound=tcp://*:80->") {
		t.Errorf("the other rule is not named: %q", msgs[0])
	}

	// Equal mappings conflict with nothing and are not compared pairwise.
	var same []string
	for range n {
		same = append(same, "--allow-inbound=tcp://*:80->8080")
	}
	if _, msgs := compile(t, same...); len(msgs) != 0 {
		t.Errorf("equal mappings conflict: %v", msgs[0])
	}

	// Two conflicting rules among many equal ones are still reported.
	if _, msgs := compile(t, append(same, "--allow-inbound=tcp://*:80->9090")...); len(msgs) == 0 {
		t.Error("the conflict of a rule with many equal ones is not reported")
	}
}
