package grammar

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
)

// TestWalk checks that Walk visits every node of a rule in source order,
// and that a false return skips a node's children.
func TestWalk(t *testing.T) {
	text := "--allow-outbound=tcp://db.internal->10.0.0.1:8000-8001->9000-9001#ipv4-only"
	r, ds := ParseFlag(text, nil)
	if r == nil {
		t.Fatal(ds)
	}
	var got []string
	ast.Walk(r, func(n ast.Node) bool {
		s := n.Bounds()
		got = append(got, fmt.Sprintf("%T %s", n, text[s.Start:s.End]))
		return true
	})
	want := []string{
		"*ast.Rule " + text,
		"*ast.FlagName --allow-outbound",
		"*ast.Scheme tcp://",
		"*ast.Host db.internal",
		"*ast.HostMapping ->10.0.0.1",
		"*ast.PortList :8000-8001",
		"*ast.PortItem 8000-8001",
		"*ast.PortMapping ->9000-9001",
		"*ast.PortItem 9000-9001",
		"*ast.FamilyMod #ipv4-only",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	n := 0
	ast.Walk(r, func(node ast.Node) bool {
		n++
		_, isList := node.(*ast.PortList)
		return !isList
	})
	if n != len(want)-1 {
		t.Errorf("skipping the port list's items visited %d nodes, want %d", n, len(want)-1)
	}
}
