package grammar

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// FuzzParse checks, on arbitrary text: no panic; every diagnostic lies
// inside the input; an invalid flag yields no rule and at least one error;
// for a valid flag, printing the tree and parsing it again gives an equal
// tree, and the rule's canonical spelling (what fmt and lint --fix write)
// parses again to the same meaning: the same host kind and value, ports,
// family and mappings. So fmt can never turn a name into an address
// ("１２７.０.０.１") or localhost into a name. The seeds hold the test
// tables, and testdata/fuzz/FuzzParse spellings in fullwidth, circled and
// mathematical digits and every form of full stop.
func FuzzParse(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.flag)
	}
	for _, tc := range errorCases {
		f.Add(tc.flag)
	}
	for flag := range seedMeanings {
		f.Add(flag)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, ds := ParseFlag(text, nil)
		for _, d := range ds {
			rg := d.Range
			if rg.Start.Offset < 0 || rg.End.Offset > len(text) || rg.Start.Offset > rg.End.Offset {
				t.Fatalf("diagnostic %v outside the input %q", d, text)
			}
			if d.Summary == "" || d.ID == "" {
				t.Fatalf("diagnostic without ID or summary: %+v", d)
			}
			if strings.Contains(d.Summary, "unexpected token") {
				t.Fatalf("parser generator message leaked: %q", d.Summary)
			}
			for _, fix := range d.Fixes {
				for _, e := range fix.Edits {
					if e.Range.Start.Offset < 0 || e.Range.End.Offset > len(text) || e.Range.Start.Offset > e.Range.End.Offset {
						t.Fatalf("fix edit %+v outside the input %q", e, text)
					}
				}
			}
		}
		if r == nil {
			if len(ds) == 0 {
				t.Fatalf("%q: no rule and no diagnostic", text)
			}
			return
		}
		if len(ds) > 0 {
			t.Fatalf("%q: a rule and diagnostics %v", text, ds)
		}
		ast.Walk(r, func(n ast.Node) bool {
			s := n.Bounds()
			if s.Start < 0 || s.End > len(text) || s.Start > s.End {
				t.Fatalf("%q: node %T span %v outside the input", text, n, s)
			}
			return true
		})
		printed := ast.Print(r)
		r2, ds2 := ParseFlag(printed, nil)
		if r2 == nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", text, printed, ds2)
		}
		if diff := cmp.Diff(summary(r), summary(r2)); diff != "" {
			t.Fatalf("%q printed as %q means something else:\n%s", text, printed, diff)
		}
		if printed == text {
			if diff := cmp.Diff(r, r2, cmpRule); diff != "" {
				t.Fatalf("%q: reparse differs:\n%s", text, diff)
			}
		}
		checkCanonicalReparses(t, r)
	})
}

// checkCanonicalReparses checks that the canonical spelling of a valid
// rule parses again, without diagnostics, to a rule of the same meaning.
func checkCanonicalReparses(t *testing.T, r *ast.Rule) {
	t.Helper()
	cr := policy.CompileRule(r)
	canon := cr.String()
	r2, ds := ParseFlag(canon, nil)
	if r2 == nil || len(ds) > 0 {
		t.Fatalf("%q: its canonical spelling %q does not parse: %v", r.Text, canon, ds)
	}
	cr2 := policy.CompileRule(r2)
	if cr.Key() != cr2.Key() || !cr.Ports.Equal(cr2.Ports) {
		t.Fatalf("%q means %+v; its canonical spelling %q means %+v", r.Text, cr.Key(), canon, cr2.Key())
	}
	if r.Host != nil && r.Host.Kind.IsName() && (r2.Host == nil || r2.Host.Kind != r.Host.Kind) {
		t.Fatalf("%q: host kind %s, but its canonical spelling %q has host kind %s", r.Text, r.Host.Kind, canon, r2.Host.Kind)
	}
	if again := cr2.String(); again != canon {
		t.Fatalf("%q: canonical spelling %q is not stable: %q", r.Text, canon, again)
	}
}

// FuzzRequest checks, on arbitrary lines: no panic; an error lies inside
// the line and says something; a request's parts are their bytes of the
// line; and printing a request and reading it again gives the same parts.
// The seeds are the test tables and the request files of testdata/eval;
// testdata/fuzz/FuzzRequest holds lines the fuzzer found interesting.
func FuzzRequest(f *testing.F) {
	for _, tc := range validRequests {
		f.Add(tc.line)
	}
	for _, tc := range requestErrors {
		f.Add(tc.line)
	}
	for _, line := range requestFileLines(f) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseRequest(line)
		if err != nil {
			re, ok := err.(*RequestError)
			if !ok || r != nil {
				t.Fatalf("%q: error %T %v with request %v", line, err, err, r)
			}
			if re.Start < 0 || re.End > len(line) || re.Start > re.End || re.Message == "" {
				t.Fatalf("%q: error %+v outside the line or empty", line, re)
			}
			if strings.Contains(re.Message, "unexpected token") {
				t.Fatalf("%q: parser generator message leaked: %q", line, re.Message)
			}
			return
		}
		if r == nil {
			return
		}
		checkRequestParts(t, line, r)
		printed := r.String()
		again, err := ParseRequest(printed)
		if err != nil || again == nil {
			t.Fatalf("%q printed as %q does not read: %v", line, printed, err)
		}
		if requestSummary(again) != requestSummary(r) {
			t.Fatalf("%q printed as %q reads as %s, not %s", line, printed, requestSummary(again), requestSummary(r))
		}
	})
}
