package grammar

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// seedMeanings is what each example of the seed means, as its comment says.
var seedMeanings = map[string]string{
	// Allow TCP connections to any IP address resolved from example.com on port 80.
	"--allow-outbound=tcp://example.com:80": "outbound tcp domain(example.com) 80 -",
	// Allow listening only on loopback interfaces on port 80.
	"--allow-inbound=tcp://localhost:80": "inbound tcp localhost 80 -",
	// Allow the lookup of a specific domain name.
	"--allow-resolve=example.com": "resolve - domain(example.com) - -",
	// Allow the lookup of all subdomains.
	"--allow-resolve=*.example.com": "resolve - wildcard(example.com) - -",
	// Allow any lookup.
	"--allow-resolve=*": "resolve - any - -",
	// Only look up IPv4 addresses / only IPv6 addresses.
	"--allow-resolve=example.com#ipv4-only": "resolve - domain(example.com) - ipv4-only",
	"--allow-resolve=example.com#ipv6-only": "resolve - domain(example.com) - ipv6-only",
	// TCP connections to 127.0.0.1 on port 80 / on any port.
	"--allow-outbound=tcp://127.0.0.1:80": "outbound tcp ipv4(127.0.0.1) 80 -",
	"--allow-outbound=tcp://127.0.0.1:*":  "outbound tcp ipv4(127.0.0.1) * -",
	// Any server on port 80; all TCP connections.
	"--allow-outbound=tcp://*:80": "outbound tcp any 80 -",
	"--allow-outbound=tcp://*:*":  "outbound tcp any * -",
	// TCP with IPv4 only / IPv6 only.
	"--allow-outbound=tcp://...#ipv4-only": "outbound tcp ... - ipv4-only",
	"--allow-outbound=tcp://...#ipv6-only": "outbound tcp ... - ipv6-only",
	// A list of ports; a range of ports.
	"--allow-outbound=tcp://*:80,443":                                     "outbound tcp any 80,443 -",
	"--allow-outbound=tcp://*:21,35000-35999":                             "outbound tcp any 21,35000-35999 -",
	"--allow-outbound=udp://...":                                          "outbound udp ... - -",
	"--allow-inbound=tcp://eth0:80":                                       "inbound tcp iface(eth0) 80 -",
	"--allow-inbound=tcp://*:80":                                          "inbound tcp any 80 -",
	"--allow-inbound=tcp://*:0":                                           "inbound tcp any 0 -",
	"--allow-resolve=my-database.internal->172.17.0.14":                   "resolve - domain(my-database.internal)->172.17.0.14 - -",
	"--allow-inbound=tcp://*:80->8888":                                    "inbound tcp any 80->8888 -",
	"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433": "outbound tcp domain(my-database.internal)->172.17.0.14 5432->5433 -",
}

// seedBlocks returns the shell code blocks of the seed, concatenated.
func seedBlocks(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/seed/GrantingAccess.md")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```shell"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in:
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

// TestSeed checks that every example of the seed parses, as a flags file,
// to the rule its comment describes, and that the table covers them all.
func TestSeed(t *testing.T) {
	ins, err := source.FlagsFile{Name: "seed.flags", Content: seedBlocks(t)}.Read()
	if err != nil {
		t.Fatal(err)
	}
	p, ds := Parse(ins[0])
	for _, d := range ds {
		t.Errorf("unexpected diagnostic: %v", d)
	}
	var seen []string
	for _, r := range p.Rules {
		seen = append(seen, r.Text)
		want, ok := seedMeanings[r.Text]
		if !ok {
			t.Errorf("seed example %q has no expected meaning in the table", r.Text)
			continue
		}
		if got := summary(r); got != want {
			t.Errorf("%s\n got  %s\n want %s", r.Text, got, want)
		}
	}
	for flag := range seedMeanings {
		if !slices.Contains(seen, flag) {
			t.Errorf("table example %q is not in the seed", flag)
		}
	}
	if len(ins[0].Comments) < len(p.Rules) {
		t.Errorf("the seed's comments were not read: %d comments for %d rules", len(ins[0].Comments), len(p.Rules))
	}
}

// TestValid checks many spellings of every host form, port form, modifier
// and mapping, and what each one means.
func TestValid(t *testing.T) {
	for _, tc := range validCases {
		r, ds := ParseFlag(tc.flag, nil)
		if len(ds) > 0 || r == nil {
			t.Errorf("%s: unexpected diagnostics %v", tc.flag, ds)
			continue
		}
		if got := summary(r); got != tc.want {
			t.Errorf("%s\n got  %s\n want %s", tc.flag, got, tc.want)
		}
		// Printing the tree gives the text back, and parsing it again gives
		// an equal tree.
		printed := ast.Print(r)
		if printed != tc.flag {
			t.Errorf("Print(%q) = %q", tc.flag, printed)
		}
		r2, _ := ParseFlag(printed, nil)
		if diff := cmp.Diff(r, r2, cmpRule); diff != "" {
			t.Errorf("%s: reparse differs (-first +second):\n%s", tc.flag, diff)
		}
	}
	if len(validCases) < 100 {
		t.Errorf("only %d valid cases", len(validCases))
	}
}

// TestErrors checks each error: its ID, the exact bytes it points at, and
// the suggested replacement, if any.
func TestErrors(t *testing.T) {
	for _, tc := range errorCases {
		r, ds := ParseFlag(tc.flag, nil)
		if r != nil {
			t.Errorf("%s: parsed, want %s", tc.flag, tc.id)
			continue
		}
		if len(ds) == 0 {
			t.Errorf("%s: no diagnostics", tc.flag)
			continue
		}
		d := ds[0]
		got := tc.flag[d.Range.Start.Offset:d.Range.End.Offset]
		if d.ID != tc.id || got != tc.at {
			t.Errorf("%s: got %s at %q (%s), want %s at %q", tc.flag, d.ID, got, d.Summary, tc.id, tc.at)
		}
		fixed := ""
		if len(d.Fixes) > 0 {
			fixed = applyFix(tc.flag, d)
		}
		if fixed != tc.fixed {
			t.Errorf("%s: fix gives %q, want %q", tc.flag, fixed, tc.fixed)
		}
		if fixed != "" {
			if r, ds := ParseFlag(fixed, nil); r == nil && !tc.fixStillBad {
				t.Errorf("%s: the fixed flag %q still has errors: %v", tc.flag, fixed, ds)
			}
		}
		if strings.Contains(d.Summary, "expected") && strings.Contains(d.Summary, "|") || strings.Contains(d.Summary, "unexpected token") {
			t.Errorf("%s: message looks like a parser generator's: %q", tc.flag, d.Summary)
		}
	}
	if len(errorCases) < 50 {
		t.Errorf("only %d error cases", len(errorCases))
	}
	ids := map[string]bool{}
	for _, tc := range errorCases {
		ids[tc.id] = true
	}
	for _, id := range []string{"CS001", "CS002", "CS003", "CS004", "CS005", "CS006", "CS007", "CS008", "CS009", "CS010", "CS011", "CS012"} {
		if !ids[id] {
			t.Errorf("no error case for %s", id)
		}
	}
}

// applyFix applies the edits of the first fix of a diagnostic to the flag
// text (whose origin is the text itself).
func applyFix(text string, d diag.Diagnostic) string {
	edits := slices.Clone(d.Fixes[0].Edits)
	slices.SortFunc(edits, func(a, b diag.TextEdit) int { return b.Range.Start.Offset - a.Range.Start.Offset })
	for _, e := range edits {
		text = text[:e.Range.Start.Offset] + e.NewText + text[e.Range.End.Offset:]
	}
	return text
}

// cmpRule compares rules by content, not by how they are located.
var cmpRule = cmp.Options{
	cmpopts.IgnoreFields(ast.Rule{}, "Loc"),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

// TestParseManyFlags checks that a large input, parsed on several
// goroutines (whatever the number of CPUs: the parallel path runs on one
// CPU too), gives the same rules and diagnostics, in order, as flag by
// flag; Parse itself as well.
func TestParseManyFlags(t *testing.T) {
	var b strings.Builder
	all := append(append([]string{}, typicalFlags...), "--allow-outbound=tcp://x:70000", "--allow-resolve=a..b", "--allow-resolve=x\x00\x00",
		"--allow-resolve=bücher.example", "--allow-outbound=tcp://ｘ.example:１")
	for i := 0; i < 3000; i++ {
		sep := " " // long lines of many flags, whose columns need the file's rune marks
		if i%100 == 99 {
			sep = "\n"
		}
		b.WriteString(all[i%len(all)] + sep)
	}
	ins, err := source.FlagsFile{Name: "many.flags", Content: b.String()}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var wantRules []string
	var wantDiags []diag.Diagnostic
	for i, f := range ins[0].Flags {
		r, d := ParseFlag(f.Text, f.Loc)
		wantDiags = append(wantDiags, d...)
		if r != nil {
			wantRules = append(wantRules, fmt.Sprintf("%d %s", i, summary(r)))
		}
	}
	for _, workers := range []int{0, 1, 2, 3, 8, 5000} {
		p, ds := parse(ins[0], workers)
		if workers == 0 {
			p, ds = Parse(ins[0])
		}
		var gotRules []string
		for _, r := range p.Rules {
			gotRules = append(gotRules, fmt.Sprintf("%d %s", r.Index, summary(r)))
		}
		if diff := cmp.Diff(wantRules, gotRules); diff != "" {
			t.Errorf("%d workers: rules differ (-sequential +parallel):\n%s", workers, diff)
		}
		if diff := cmp.Diff(wantDiags, ds); diff != "" {
			t.Errorf("%d workers: diagnostics differ (-sequential +parallel):\n%s", workers, diff)
		}
	}
}
