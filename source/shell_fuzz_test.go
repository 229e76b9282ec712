package source_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// fuzzFlags are the flags FuzzShell writes into scripts: canonical texts
// with the characters a shell treats specially.
var fuzzFlags = []string{
	"--allow-resolve=example.com",
	"--allow-outbound=tcp://*:80,443#ipv4-only",
	"--allow-inbound=tcp://*:80->8888",
	"--allow-outbound=udp://[2001:db8::1]:53",
	"--allow-resolve=*.example.com",
	"--allow-inbound=tcp://localhost:0",
}

// FuzzShell checks that reading any script never panics, that everything it
// reports lies inside the script and maps back to the bytes it came from,
// and that rewriting the flags gives a script that parses, reads back as the
// new flags, keeps its dynamic flags, and keeps every other byte.
func FuzzShell(f *testing.F) {
	scripts, _ := filepath.Glob("testdata/shell/*.sh")
	for _, p := range scripts {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"wasmtime --allow-outbound=tcp://a:1 --allow-resolve b\n",
		"x `y --allow-resolve=\\$z` --allow-inbound='tcp://*:1'\n",
		"a --allow-outbound=$'tcp://\\x41:1' --allow-resolve \\\n c # d\n",
		"f() { a --allow-resolve=\"x\\\ny\" | b --allow-inbound=tcp://*:80->1; }\n",
		"# c\nA=1 a --allow-outbound \"tcp://$H:1\" --allow-resolve=${X:-y} --allow-$K=1 <<E\n--allow-resolve=z\nE\n",
		"a $(b --allow-resolve='x'\"y\"$'\\u200b' $((1+2))) --allow-outbound=tcp://{a,b}:1 && (c --allow-inbound=@(x|y))\n",
		"if a --allow-resolve=x; then for i in 1; do b --allow-resolve \\\n  y # z\n done; fi\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		ins, err := source.Shell{Name: "s.sh", Content: script}.Read()
		if err != nil {
			var se *source.ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("error is not a ScriptError: %v", err)
			}
			inside(t, script, "syntax error", se.Range)
			return
		}
		checkInputs(t, script, ins)
		// Same number of flags: every non-flag byte is kept.
		var rws []source.ShellRewrite
		for i, in := range ins {
			rw := source.ShellRewrite{Input: in}
			for j := range in.Flags {
				rw.Flags = append(rw.Flags, fuzzFlags[(i+j)%len(fuzzFlags)])
			}
			rws = append(rws, rw)
		}
		checkRewrite(t, script, ins, rws, true)
		// Fewer and more flags.
		rws = rws[:0]
		for i, in := range ins {
			rw := source.ShellRewrite{Input: in}
			n := len(in.Flags) - 1
			if n == 0 {
				n = 2
			}
			for j := 0; j < n && len(in.Flags) > 0; j++ {
				rw.Flags = append(rw.Flags, fuzzFlags[(i+j+1)%len(fuzzFlags)])
			}
			rws = append(rws, rw)
		}
		checkRewrite(t, script, ins, rws, false)
	})
}

// checkInputs checks that every range of the inputs lies in the script and
// that flag bytes map to the script bytes they came from.
func checkInputs(t *testing.T, script string, ins []*source.Input) {
	t.Helper()
	ansiC := strings.Contains(script, "$'")
	for _, in := range ins {
		for _, d := range in.Diags {
			inside(t, script, "diagnostic", d.Range)
		}
		for _, c := range in.Comments {
			inside(t, script, "comment", c.Range)
			if c.Flag < 0 || c.Flag >= len(in.Flags) {
				t.Errorf("%s: comment %q belongs to flag %d of %d", in.Name, c.Text, c.Flag, len(in.Flags))
			}
		}
		inside(t, script, "command", in.Command)
		for _, fl := range in.Flags {
			inside(t, script, "flag", fl.Range())
			if fl.Range().Start.Offset < in.Command.Start.Offset || fl.Range().End.Offset > in.Command.End.Offset {
				t.Errorf("%s: flag %q at %v is outside its command at %v", in.Name, fl.Text, fl.Range(), in.Command)
			}
			for _, r := range append(append([]diag.Range(nil), fl.Words...), fl.Globs...) {
				inside(t, script, "word", r)
			}
			join := -1
			if len(fl.Words) == 2 {
				join = strings.IndexByte(fl.Text, ' ')
			}
			for i := 0; i < len(fl.Text); i++ {
				r := fl.Loc.Range(i, i+1)
				inside(t, script, "flag byte", r)
				if i == join || ansiC {
					continue
				}
				if r.End.Offset != r.Start.Offset+1 || script[r.Start.Offset] != fl.Text[i] {
					t.Fatalf("%s: byte %d %q of %q maps to %d-%d", in.Name, i, fl.Text[i], fl.Text, r.Start.Offset, r.End.Offset)
				}
			}
		}
	}
}

func inside(t *testing.T, script, what string, r diag.Range) {
	t.Helper()
	if r.Origin != "s.sh" || r.Start.Offset < 0 || r.End.Offset > len(script) || r.End.Offset < r.Start.Offset {
		t.Fatalf("%s range %+v outside the script of %d bytes", what, r, len(script))
	}
}

// checkRewrite rewrites the script and reads it back. Dynamic flags (CS013)
// are not flags to rewrite: none may be lost. With sameCount, the bytes
// outside the flag words must be those of the original script.
func checkRewrite(t *testing.T, script string, ins []*source.Input, rws []source.ShellRewrite, sameCount bool) {
	t.Helper()
	out, err := source.RewriteShell(script, rws)
	if err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	again, err := source.Shell{Name: "s.sh", Content: out}.Read()
	if err != nil {
		t.Fatalf("rewritten script does not parse: %v\n%s", err, out)
	}
	if len(again) != len(ins) {
		t.Fatalf("rewritten script has %d commands with flags, want %d\n%s", len(again), len(ins), out)
	}
	for i, in := range again {
		var texts []string
		for _, f := range in.Flags {
			texts = append(texts, f.Text)
		}
		if !equal(texts, rws[i].Flags) {
			t.Fatalf("command %d reads back as %q, want %q\n%s", i, texts, rws[i].Flags, out)
		}
	}
	if a, b := dynamicFlags(ins), dynamicFlags(again); a != b {
		t.Fatalf("%d dynamic flags (CS013) after the rewrite, %d before\n%s", b, a, out)
	}
	if sameCount {
		if a, b := withoutFlags(script, ins), withoutFlags(out, again); a != b {
			t.Fatalf("non-flag bytes changed:\n%q\n%q", a, b)
		}
	}
}

// withoutFlags returns the script without the words of its flags.
func withoutFlags(script string, ins []*source.Input) string {
	var words [][2]int
	for _, in := range ins {
		for _, f := range in.Flags {
			words = append(words, [2]int{f.Words[0].Start.Offset, f.Words[len(f.Words)-1].End.Offset})
		}
	}
	sort.Slice(words, func(i, j int) bool { return words[i][0] < words[j][0] })
	var b strings.Builder
	at := 0
	for _, w := range words {
		if w[0] < at {
			continue
		}
		b.WriteString(script[at:w[0]])
		b.WriteString("\x00")
		at = w[1]
	}
	b.WriteString(script[at:])
	return b.String()
}
