package normalize

import (
	"math/rand/v2"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/source"
)

// TestAgreesWithCS305: lint reports CS305 (noncanonical-spelling) on a
// flag exactly when Spell writes it otherwise, and its fix writes it as
// Spell does.
func TestAgreesWithCS305(t *testing.T) {
	flags := seedExamples(t)
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		flags = append(flags, genFlag(r))
	}
	for _, flag := range flags {
		ins, _ := source.FlagsFile{Name: "f", Content: flag}.Read()
		p, ds := grammar.Parse(ins[0])
		if len(p.Rules) != 1 {
			t.Fatalf("%s: %d rules", flag, len(p.Rules))
		}
		canon := Spell(p.Rules)[0].String()
		var cs305 *diag.Diagnostic
		for _, d := range lint.Lint(ins[0], p, ds, lint.Options{}) {
			if d.ID == "CS305" {
				cs305 = &d
			}
		}
		if (cs305 != nil) != (canon != flag) {
			t.Errorf("%s: canonical %s, CS305 reported: %v", flag, canon, cs305 != nil)
			continue
		}
		if cs305 == nil || len(cs305.Fixes) == 0 {
			continue
		}
		fixed, err := diag.ApplyEdits(flag, cs305.Fixes[0].Edits)
		if err != nil || fixed != canon {
			t.Errorf("%s: CS305 fix gives %q (%v), want %s", flag, fixed, err, canon)
		}
	}
}
