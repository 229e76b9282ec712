package normalize

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
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

// TestAgreesWithCS305Corpora: the same over every flag of the corpora
// (testdata/*/*.flags) and over lookalike spellings: CS305 fires on a flag
// iff Spell changes it, and its fix, applied to the file, turns the flag
// into exactly Spell's spelling.
func TestAgreesWithCS305Corpora(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/*/*.flags")
	if len(paths) < 10 {
		t.Fatalf("only %d corpus files", len(paths))
	}
	files := map[string]string{}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[path] = string(b)
	}
	files["lookalikes"] = strings.Join([]string{
		"--allow-outbound=tcp://ｌｏｃａｌｈｏｓｔ:22",
		"--allow-outbound=TCP://ＥＸＡＭＰＬＥ。ｃｏｍ．:0443,80",
		"--allow-resolve=ｄｂ。ｉｎｔｅｒｎａｌ->[2001:DB8:0::1]",
		"--allow-inbound tcp://[::]:8080",
		"--allow-outbound udp://...#ipv4-only",
		"--allow-outbound=tcp://10.0.0.1/32:80#ipv4-only",
		"--allow-inbound=tcp://*:8000-8000->9000-9000",
	}, "\n") + "\n"
	checked, fired := 0, 0
	for name, content := range files {
		ins, _ := source.FlagsFile{Name: name, Content: content}.Read()
		in := ins[0]
		p, ds := grammar.Parse(in)
		findings := lint.Lint(in, p, ds, lint.Options{})
		for _, r := range p.Rules {
			checked++
			canon := Spell([]*ast.Rule{r})[0].String()
			flagRange := in.Flags[r.Index].Range()
			var cs305 []diag.Diagnostic
			for _, d := range findings {
				if d.ID == "CS305" && d.Range.Origin == flagRange.Origin &&
					flagRange.Start.Offset <= d.Range.Start.Offset && d.Range.Start.Offset <= flagRange.End.Offset {
					cs305 = append(cs305, d)
				}
			}
			if (len(cs305) > 0) != (canon != r.Text) || len(cs305) > 1 {
				t.Errorf("%s: %q: canonical %q, CS305 reported %d times", name, r.Text, canon, len(cs305))
				continue
			}
			if len(cs305) == 0 {
				continue
			}
			fired++
			if len(cs305[0].Fixes) == 0 {
				t.Errorf("%s: %q: CS305 without a fix", name, r.Text)
				continue
			}
			fixed, err := diag.ApplyEdits(content, cs305[0].Fixes[0].Edits)
			if err != nil {
				t.Errorf("%s: %q: %v", name, r.Text, err)
				continue
			}
			again, _ := source.FlagsFile{Name: name, Content: fixed}.Read()
			if got := again[0].Flags[r.Index].Text; got != canon {
				t.Errorf("%s: %q: CS305's fix writes %q, Spell %q", name, r.Text, got, canon)
			}
		}
	}
	t.Logf("%d flags, CS305 on %d", checked, fired)
	if fired < 20 {
		t.Errorf("CS305 fired on only %d flags of the corpora", fired)
	}
}
