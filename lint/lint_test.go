package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/diff"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/golden"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// lintFile reads content as a flags file called name and lints it.
func lintFile(t testing.TB, name, content string, opts Options) []diag.Diagnostic {
	t.Helper()
	ins, err := source.FlagsFile{Name: name, Content: content}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []diag.Diagnostic
	for _, in := range ins {
		out = append(out, lintInput(in, opts)...)
	}
	return out
}

func lintInput(in *source.Input, opts Options) []diag.Diagnostic {
	p, ds := grammar.Parse(in)
	return Lint(in, p, append(append([]diag.Diagnostic(nil), in.Diags...), ds...), opts)
}

var (
	idRE   = regexp.MustCompile(`^CS[0-9]{3}$`)
	nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

func TestRegistry(t *testing.T) {
	ids, names := map[string]bool{}, map[string]bool{}
	prev := ""
	for _, r := range Rules() {
		if !idRE.MatchString(r.ID) {
			t.Errorf("%s: ID is not CSnnn", r.ID)
		}
		if ids[r.ID] {
			t.Errorf("%s: duplicate ID", r.ID)
		}
		if names[r.Name] {
			t.Errorf("%s: duplicate name %s", r.ID, r.Name)
		}
		ids[r.ID], names[r.Name] = true, true
		if r.ID <= prev {
			t.Errorf("%s: rules are not ordered by ID (after %s)", r.ID, prev)
		}
		prev = r.ID
		if !nameRE.MatchString(r.Name) {
			t.Errorf("%s: name %q is not kebab-case", r.ID, r.Name)
		}
		d := r.Doc
		for field, v := range map[string]string{"summary": d.Summary, "rationale": d.Rationale, "bad example": d.Bad, "good example": d.Good} {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: doc has no %s", r.ID, field)
			}
		}
		if strings.Contains(d.Summary, "\n") {
			t.Errorf("%s: summary is more than one line", r.ID)
		}
		if d.Bad == d.Good {
			t.Errorf("%s: the bad and good examples are the same", r.ID)
		}
		if r.ID >= "CS100" && r.Run == nil && !commandOnly(r.ID) || r.ID < "CS100" && r.Run != nil {
			t.Errorf("%s: has Run %v; only CS1xx and up run in lint", r.ID, r.Run != nil)
		}
		if r.SecuritySeverity < 0 || r.SecuritySeverity > 10 {
			t.Errorf("%s: security severity %v out of 0..10", r.ID, r.SecuritySeverity)
		}
		if got, ok := Lookup(strings.ToLower(r.Name)); !ok || got.ID != r.ID {
			t.Errorf("Lookup(%q) = %s, %v", r.Name, got.ID, ok)
		}
	}
}

// commandOnly reports whether a rule is reported by another command than
// lint (CS5xx: capspec export and import, whose examples the interop
// package checks).
func commandOnly(id string) bool { return id >= "CS500" && id < "CS600" }

// shellOnly are rules whose examples are shell scripts.
var shellOnly = map[string]bool{"CS013": true, "CS212": true}

// lintScript reads content as a shell script called name and lints each
// of its commands.
func lintScript(t testing.TB, name, content string, opts Options) []diag.Diagnostic {
	t.Helper()
	ins, err := source.Shell{Name: name, Content: content}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []diag.Diagnostic
	for _, in := range ins {
		out = append(out, lintInput(in, opts)...)
	}
	diag.Sort(out)
	return out
}

// TestDocExamples checks that every rule reports its bad example and not
// its good one.
func TestDocExamples(t *testing.T) {
	for _, r := range Rules() {
		if commandOnly(r.ID) {
			continue
		}
		read := lintFile
		if shellOnly[r.ID] {
			read = lintScript
		}
		t.Run(r.ID, func(t *testing.T) {
			if !hasID(read(t, "bad", r.Doc.Bad, exampleOptions(t, r.Doc.Bad)), r.ID) {
				t.Errorf("bad example does not report %s:\n%s", r.ID, r.Doc.Bad)
			}
			if ds := read(t, "good", r.Doc.Good, exampleOptions(t, r.Doc.Good)); hasID(ds, r.ID) {
				t.Errorf("good example reports %s:\n%s%v", r.ID, r.Doc.Good, ds)
			}
		})
	}
}

// maximumRE is a line "# maximum: FLAG..." of a case or an example: the
// maximum policy CS401 checks the flags against (lint --within).
var maximumRE = regexp.MustCompile(`(?m)^# maximum: (.*)$`)

// exampleOptions returns the options a case file or a doc example asks
// for: the maximum of its "# maximum:" lines, if any.
func exampleOptions(t testing.TB, src string) Options {
	t.Helper()
	var flags []string
	for _, m := range maximumRE.FindAllStringSubmatch(src, -1) {
		flags = append(flags, m[1])
	}
	if len(flags) == 0 {
		return Options{}
	}
	ins, err := source.FlagsFile{Name: "max.flags", Content: strings.Join(flags, "\n") + "\n"}.Read()
	if err != nil {
		t.Fatal(err)
	}
	ap, ds := grammar.Parse(ins[0])
	p, cds := policy.Compile(ap)
	if diag.HasErrors(append(ds, cds...)) {
		t.Fatalf("maximum has errors: %v", append(ds, cds...))
	}
	return Options{Within: diff.NewMaximum(p, "max.flags")}
}

func hasID(ds []diag.Diagnostic, id string) bool {
	for _, d := range ds {
		if d.ID == id {
			return true
		}
	}
	return false
}

// checkRE is a line "# check: CS204,CS211" that restricts a case file to
// some rules.
var checkRE = regexp.MustCompile(`(?m)^# check: ([A-Z0-9, ]+)$`)

var wantRE = regexp.MustCompile(`#\s*want(@[+-][0-9]+)?((?:\s+CS[0-9]{3})+)`)

// TestCases runs the cases of testdata/lint in the manner of analysistest:
// a comment "# want CS203" on a line expects a diagnostic of that rule on
// that line ("# want@+1 CS900": on the next line). A file named after a
// rule (CS203*.flags) checks that rule only; a line "# check: ID,ID"
// restricts a file to those rules; other files check every rule.
// Files ending in .sh are shell scripts, read as --shell reads them.
// Where fixes apply, the fixed file must equal NAME.golden (-update).
func TestCases(t *testing.T) {
	flagsFiles, err := filepath.Glob("../testdata/lint/*.flags")
	if err != nil || len(flagsFiles) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	scripts, _ := filepath.Glob("../testdata/lint/*.sh")
	files := append(flagsFiles, scripts...)
	covered := map[string]bool{}
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			only := ""
			if m := regexp.MustCompile(`^CS[0-9]{3}`).FindString(base); m != "" {
				only = m
				covered[m] = true
			}
			src := string(b)
			checked := map[string]bool{}
			if only != "" {
				checked[only] = true
			}
			if m := checkRE.FindStringSubmatch(src); m != nil {
				for _, id := range strings.Split(m[1], ",") {
					checked[strings.TrimSpace(id)] = true
				}
			}
			want := wantedIDs(t, base, src)
			got := map[int][]string{}
			var fixable []diag.Diagnostic
			read := lintFile
			if strings.HasSuffix(base, ".sh") {
				read = lintScript
			}
			for _, d := range read(t, base, src, exampleOptions(t, src)) {
				if len(checked) > 0 && !checked[d.ID] {
					continue
				}
				got[d.Range.Start.Line] = append(got[d.Range.Start.Line], d.ID)
				fixable = append(fixable, d)
			}
			lines := map[int]bool{}
			for l := range want {
				lines[l] = true
			}
			for l := range got {
				lines[l] = true
			}
			for l := range lines {
				w, g := want[l], got[l]
				sort.Strings(w)
				sort.Strings(g)
				if strings.Join(w, " ") != strings.Join(g, " ") {
					t.Errorf("%s:%d: want %v, got %v", base, l, w, g)
				}
			}
			checkFixed(t, path, src, fixable)
		})
	}
	for _, r := range Rules() {
		if r.ID >= "CS100" && !commandOnly(r.ID) && !covered[r.ID] {
			t.Errorf("%s has no case file in testdata/lint", r.ID)
		}
	}
}

// wantedIDs reads the want comments of a case file by line.
func wantedIDs(t *testing.T, name, src string) map[int][]string {
	want := map[int][]string{}
	for i, line := range strings.Split(src, "\n") {
		for _, m := range wantRE.FindAllStringSubmatch(line, -1) {
			at := i + 1
			if m[1] != "" {
				n, err := strconv.Atoi(m[1][1:])
				if err != nil {
					t.Fatalf("%s:%d: bad offset %s", name, at, m[1])
				}
				at += n
			}
			want[at] = append(want[at], strings.Fields(m[2])...)
		}
	}
	return want
}

// checkFixed applies the first fix of every diagnostic and compares the
// result with the golden file beside the case.
func checkFixed(t *testing.T, path, src string, ds []diag.Diagnostic) {
	t.Helper()
	goldenPath := path + ".golden"
	edits, n := diag.SelectFixes(ds)
	if n == 0 {
		if _, err := os.Stat(goldenPath); err == nil {
			t.Errorf("no fixes apply, but %s exists", goldenPath)
		}
		return
	}
	fixed, err := diag.ApplyEdits(src, edits[filepath.Base(path)])
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, goldenPath, fixed)
}
