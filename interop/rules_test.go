package interop

import (
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/lint"
)

// TestRuleDocExamples checks the examples of the CS5xx rules: each
// example's first line names the command ("# export --to deno", "# import
// --from wamr"); the bad example reports the rule, the good one does not.
func TestRuleDocExamples(t *testing.T) {
	for _, r := range lint.Rules() {
		if r.ID < "CS500" || r.ID >= "CS600" {
			continue
		}
		for _, ex := range []struct {
			text string
			want bool
		}{{r.Doc.Bad, true}, {r.Doc.Good, false}} {
			ids := exampleIDs(t, ex.text)
			if got := ids[r.ID]; got != ex.want {
				t.Errorf("%s: example reports %v, want %v:\n%s(got %v)", r.ID, got, ex.want, ex.text, ids)
			}
		}
	}
}

func exampleIDs(t *testing.T, text string) map[string]bool {
	t.Helper()
	head, body, _ := strings.Cut(text, "\n")
	f := strings.Fields(head)
	if len(f) != 4 || f[0] != "#" {
		t.Fatalf("example without a command line: %q", head)
	}
	var ds []diag.Diagnostic
	switch f[1] {
	case "export":
		var flags []string
		for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
			flags = append(flags, l)
		}
		p, cds := eval.CompileFlags(flags...)
		if len(cds) > 0 {
			t.Fatal(cds)
		}
		e, err := ExportPolicy(f[3], p)
		if err != nil {
			t.Fatal(err)
		}
		ds = e.Diagnostics()
	case "import":
		src := Source{Name: "spin.toml", Content: body}
		if f[3] != "spin" {
			src = Source{}
			for _, w := range strings.Fields(body) {
				src.Words = append(src.Words, Word{Text: w, Origin: "argv"})
			}
		}
		ims, problems, err := ImportConfig(f[3], src)
		if err != nil {
			t.Fatal(err)
		}
		ds = problems
		for _, im := range ims {
			ds = append(ds, im.Diagnostics()...)
		}
	}
	ids := map[string]bool{}
	for _, d := range ds {
		ids[d.ID] = true
	}
	return ids
}
