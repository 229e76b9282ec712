package explain

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/source"
)

// explainFlags explains a flags file holding the given flags, one a line.
func explainFlags(t *testing.T, flags ...string) *Account {
	t.Helper()
	ins, err := source.FlagsFile{Name: "p.flags", Content: strings.Join(flags, "\n") + "\n"}.Read()
	if err != nil || len(ins) != 1 {
		t.Fatal(ins, err)
	}
	p, ds := grammar.Parse(ins[0])
	a, errs := Parsed(ins[0], p, append(ins[0].Diags, ds...))
	if a == nil {
		t.Fatalf("%v: errors %v", flags, errs)
	}
	return a
}

func codes(a *Account) []string {
	var cs []string
	for _, d := range a.Denied {
		cs = append(cs, d.Code)
	}
	return cs
}

// TestDenied checks the broad strokes of what policies leave out.
func TestDenied(t *testing.T) {
	for _, tc := range []struct {
		flags     []string
		want, not []string
	}{
		{nil, []string{DenyNothing}, []string{DenyLookups}},
		{[]string{"--allow-outbound=tcp://*:*"}, []string{DenyLookups, DenyUDP, DenyInbound, DenyAnyAddressLookup}, []string{DenyOtherOutbound, DenyTCP}},
		{[]string{"--allow-outbound=tcp://*:*", "--allow-resolve=*"}, []string{DenyUDP}, []string{DenyAnyAddressLookup, DenyOtherLookups, DenyLookups}},
		{[]string{"--allow-outbound=udp://...", "--allow-resolve=*#ipv4-only"}, []string{DenyTCP, DenyOtherLookups, DenyLookupFamily, DenyAnyAddressLookup}, []string{DenyUDP, DenyOtherOutbound}},
		{[]string{"--allow-outbound=tcp://*:*#ipv4-only"}, []string{DenyOtherOutbound, DenyFamily}, nil},
		{[]string{"--allow-resolve=*.example.com"}, []string{DenyApex, DenyOtherLookups, DenySockets}, []string{DenyLookups}},
		{[]string{"--allow-resolve=*.example.com", "--allow-resolve=example.com"}, nil, []string{DenyApex}},
		{[]string{"--allow-outbound=tcp://*.example.com:443"}, []string{DenyApex, DenyUnresolved}, nil},
		{[]string{"--allow-inbound=tcp://localhost:8080", "--allow-inbound=udp://127.0.0.1:53"}, []string{DenyRemoteInbound, DenyOutbound, DenyOtherInbound}, []string{DenyUDP, DenyTCP}},
		{[]string{"--allow-inbound=tcp://*:*"}, []string{DenyOutbound, DenyUDP}, []string{DenyOtherInbound, DenyRemoteInbound}},
		{[]string{"--allow-outbound=tcp://db->10.0.0.1:5432"}, []string{DenyLookupFamily, DenyFamily}, []string{DenyUnresolved}},
	} {
		got := codes(explainFlags(t, tc.flags...))
		for _, c := range tc.want {
			if !slices.Contains(got, c) {
				t.Errorf("%v: denied %v lacks %s", tc.flags, got, c)
			}
		}
		for _, c := range tc.not {
			if slices.Contains(got, c) {
				t.Errorf("%v: denied %v has %s", tc.flags, got, c)
			}
		}
	}
}

// TestAccounting checks that every rule of the seed and the example
// policies is accounted for by the grants: merged into one (rules or
// implied_by) or covered by one (also); and that an outbound rule to a name
// is accounted for twice, as a connection and as a lookup.
func TestAccounting(t *testing.T) {
	for _, path := range []string{"../testdata/examples/seed.flags", "../testdata/examples/web-service.flags"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ins, _ := source.FlagsFile{Name: path, Content: string(b)}.Read()
		p, ds := grammar.Parse(ins[0])
		a, errs := Parsed(ins[0], p, ds)
		if a == nil {
			t.Fatal(errs)
		}
		for _, ra := range a.Rules {
			var conn, lookup int
			for _, g := range a.Grants {
				in := slices.Contains(g.Rules, ra.Index) || slices.Contains(g.ImpliedBy, ra.Index) || slices.Contains(g.Also, ra.Index)
				if !in {
					continue
				}
				if g.Rule.Kind == ast.Resolve {
					lookup++
				} else {
					conn++
				}
			}
			wantConn, wantLookup := 1, 0
			switch {
			case ra.Rule.Kind == ast.Resolve:
				wantConn, wantLookup = 0, 1
			case ra.Implies != nil:
				wantLookup = 1
			}
			if conn != wantConn || lookup != wantLookup {
				t.Errorf("%s: rule %d %s is in %d connection and %d lookup grants, want %d and %d",
					path, ra.Index+1, ra.Rule.Text(), conn, lookup, wantConn, wantLookup)
			}
		}
	}
}

// TestImpliedMarked checks that an implied lookup is a grant of its own,
// marked with the rule implying it, and that an explicit rule for the same
// name makes it explicit.
func TestImpliedMarked(t *testing.T) {
	a := explainFlags(t, "--allow-outbound=tcp://example.com:80#ipv4-only")
	if len(a.Grants) != 2 {
		t.Fatalf("grants %+v", a.Grants)
	}
	g := a.Grants[0]
	if g.Rule.Kind != ast.Resolve || !g.IsImplied() || !slices.Equal(g.ImpliedBy, []int{0}) || g.Rule.String() != "--allow-resolve=example.com#ipv4-only" {
		t.Errorf("implied lookup: %+v %s", g, g.Rule)
	}
	a = explainFlags(t, "--allow-outbound=tcp://example.com:80", "--allow-resolve=example.com")
	g = a.Grants[0]
	if g.IsImplied() || !slices.Equal(g.Rules, []int{1}) || !slices.Equal(g.ImpliedBy, []int{0}) {
		t.Errorf("explicit and implied lookup: %+v", g)
	}
}

// TestRisks checks that warnings become risks attributed to their rule,
// and that info findings do not.
func TestRisks(t *testing.T) {
	a := explainFlags(t, "--allow-inbound=tcp://*:80", "--allow-resolve=*.com", "--allow-outbound=tcp://*:443", "--allow-outbound=tcp://*:443")
	var got []string
	for _, r := range a.Risks {
		got = append(got, r.ID+"@"+string(rune('0'+r.Rule)))
	}
	want := []string{"CS204@0", "CS203@1", "CS201@2", "CS205@2", "CS201@3", "CS205@3"}
	if !slices.Equal(got, want) {
		t.Errorf("risks %v, want %v", got, want)
	}
	for _, r := range a.Risks {
		if r.Name == "" || r.Flag == "" || r.Range.Origin != "p.flags" {
			t.Errorf("risk %+v lacks its name, flag or range", r)
		}
	}
}

// TestTwoWordFlags attributes risks of "--allow-X SPEC" flags, whose words
// are two origins, to their rule.
func TestTwoWordFlags(t *testing.T) {
	argv := []string{"capspec", "explain", "--allow-inbound", "tcp://*:80"}
	ins, err := source.Args{Argv: argv}.Read()
	if err != nil || len(ins) != 1 {
		t.Fatal(ins, err)
	}
	p, ds := grammar.Parse(ins[0])
	a, errs := Parsed(ins[0], p, ds)
	if a == nil {
		t.Fatal(errs)
	}
	if len(a.Risks) != 1 || a.Risks[0].Rule != 0 || a.Risks[0].Flag != "--allow-inbound tcp://*:80" {
		t.Errorf("risks %+v", a.Risks)
	}
}

// TestErrors checks that a policy with errors has no account.
func TestErrors(t *testing.T) {
	ins, _ := source.FlagsFile{Name: "p.flags", Content: "--allow-outbound=tcp://a.com:1->2\n--allow-outbound=tcp://a.com:1->3\n"}.Read()
	p, ds := grammar.Parse(ins[0])
	a, errs := Parsed(ins[0], p, ds)
	if a != nil || !diag.HasErrors(errs) {
		t.Errorf("account %v, errors %v", a, errs)
	}
}

// TestMappingWins checks that grants without a mapping say where a mapping
// grant wins over them.
func TestMappingWins(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  string // in the summary of the grant of the first rule, or "" for none
		by    []int
	}{
		{[]string{"--allow-inbound=tcp://*:80-90", "--allow-inbound=tcp://*:80->8888"}, "On port 80, the mapping of rule 2 applies instead (a mapping wins).", []int{1}},
		{[]string{"--allow-inbound=tcp://*:80", "--allow-inbound=tcp://localhost:80->8888"}, "For localhost on port 80, the mapping of rule 2 applies instead", []int{1}},
		{[]string{"--allow-inbound=tcp://*:81", "--allow-inbound=tcp://*:80->8888"}, "", nil},
		{[]string{"--allow-inbound=udp://*:80", "--allow-inbound=tcp://*:80->8888"}, "", nil},
		// A host mapping is the whole answer of a lookup (SPEC §3.2, finding
		// 4): no DNS, no other family; a lookup of the other family only
		// gets no answer, so it wins over a grant of either family.
		{[]string{"--allow-resolve=*.internal", "--allow-resolve=db.internal->10.0.0.1"}, "For db.internal, the mapping of rule 2 is the whole answer: 10.0.0.1, without a DNS query (a lookup of IPv6 addresses gets no answer).", []int{1}},
		{[]string{"--allow-resolve=*", "--allow-resolve=db->10.0.0.5"}, "For db, the mapping of rule 2 is the whole answer: 10.0.0.5, without a DNS query (a lookup of IPv6 addresses gets no answer).", []int{1}},
		{[]string{"--allow-resolve=*#ipv6-only", "--allow-resolve=db->10.0.0.5"}, "For db, the mapping of rule 2 is the whole answer: 10.0.0.5", []int{1}},
		{[]string{"--allow-resolve=*#ipv4-only", "--allow-resolve=db->[2001:db8::5]"}, "(a lookup of IPv4 addresses gets no answer)", []int{1}},
		{[]string{"--allow-resolve=*.example.com", "--allow-resolve=db.internal->10.0.0.1"}, "", nil},
		{[]string{"--allow-outbound=tcp://*:5432", "--allow-outbound=tcp://db.internal->10.0.0.1:5432->5433"}, "For db.internal on port 5432, the mapping of rule 2 applies instead", []int{1}},
	} {
		a := explainFlags(t, tc.flags...)
		var g Grant
		for _, c := range a.Grants {
			if slices.Contains(c.Rules, 0) {
				g = c
			}
		}
		if tc.want == "" {
			if strings.Contains(g.Summary, "mapping") || len(g.OverriddenBy) > 0 {
				t.Errorf("%v: %s (by %v)", tc.flags, g.Summary, g.OverriddenBy)
			}
			continue
		}
		if !strings.Contains(g.Summary, tc.want) || !slices.Equal(g.OverriddenBy, tc.by) {
			t.Errorf("%v: %s (by %v), want %q by %v", tc.flags, g.Summary, g.OverriddenBy, tc.want, tc.by)
		}
		if strings.Contains(g.Summary, "applies instead") && strings.HasPrefix(tc.flags[1], "--allow-resolve") {
			t.Errorf("%v: a host mapping does not apply instead; it is the whole answer: %s", tc.flags, g.Summary)
		}
	}
	// The mapping's own sentence says the same.
	a := explainFlags(t, "--allow-resolve=db->10.0.0.5")
	if want := "Allow looking up db, which answers 10.0.0.5 and nothing else, without a DNS query (a lookup of IPv6 addresses gets no answer)."; a.Rules[0].Sentence != want {
		t.Errorf("sentence %q, want %q", a.Rules[0].Sentence, want)
	}
}
