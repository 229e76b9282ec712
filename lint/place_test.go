package lint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/source"
)

// readDoc reads a flags file, or a script when the name ends in .sh.
func readDoc(t *testing.T, name, content string) []*source.Input {
	t.Helper()
	var ins []*source.Input
	var err error
	if strings.HasSuffix(name, ".sh") {
		ins, err = source.Shell{Name: name, Content: content}.Read()
	} else {
		ins, err = source.FlagsFile{Name: name, Content: content}.Read()
	}
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

// TestPlaceIgnore checks where PlaceIgnore puts a suppression: the text
// after inserting "# capspec:ignore CS204 why" there (| marks the flag
// asked about, the first flag with "8" in its port), and the flags it
// silences.
func TestPlaceIgnore(t *testing.T) {
	tests := []struct {
		name, content string
		want          string // "" when there is no place
		flags         []int
	}{
		{"flags file, a line of one flag", "--allow-resolve=a.example\n  --allow-inbound=tcp://*:8080\n",
			"--allow-resolve=a.example\n  # capspec:ignore CS204 why\n  --allow-inbound=tcp://*:8080\n", []int{1}},
		{"flags file, a line of two flags", "--allow-inbound=tcp://*:80 --allow-inbound=tcp://*:8080\n",
			"# capspec:ignore CS204 why\n--allow-inbound=tcp://*:80 --allow-inbound=tcp://*:8080\n", []int{0, 1}},
		{"flags file, first line of a continued line", "--allow-inbound=tcp://*:8080 \\\n  --allow-inbound=tcp://*:90\n",
			"# capspec:ignore CS204 why\n--allow-inbound=tcp://*:8080 \\\n  --allow-inbound=tcp://*:90\n", []int{0, 1}},
		{"flags file, last line of a continued line", "--allow-inbound=tcp://*:90 \\\n  --allow-inbound=tcp://*:8080\r\n",
			"--allow-inbound=tcp://*:90 \\\n  --allow-inbound=tcp://*:8080  # capspec:ignore CS204 why\r\n", []int{1}},
		{"flags file, middle of a continued line", "--allow-inbound=tcp://*:90 \\\n  --allow-inbound=tcp://*:8080 \\\n  --allow-inbound=tcp://*:91\n",
			"# capspec:ignore CS204 why\n--allow-inbound=tcp://*:90 \\\n  --allow-inbound=tcp://*:8080 \\\n  --allow-inbound=tcp://*:91\n", []int{0, 1, 2}},
		{"flags file, a trailing backslash on the last flag", "--allow-inbound=tcp://*:90 \\\n  --allow-inbound=tcp://*:8080 \\\n\n--allow-resolve=x\n",
			"# capspec:ignore CS204 why\n--allow-inbound=tcp://*:90 \\\n  --allow-inbound=tcp://*:8080 \\\n\n--allow-resolve=x\n", []int{0, 1}},
		{"flags file, after a byte order mark", "\uFEFF--allow-inbound=tcp://*:8080\n",
			"\uFEFF# capspec:ignore CS204 why\n--allow-inbound=tcp://*:8080\n", []int{0}},
		{"script, one line", "wasmtime run --allow-inbound='tcp://*:8080' app.wasm\n",
			"# capspec:ignore CS204 why\nwasmtime run --allow-inbound='tcp://*:8080' app.wasm\n", []int{0}},
		{"script, middle of a command", "RUST_LOG=1 wasmtime \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm\n",
			"# capspec:ignore CS204 why\nRUST_LOG=1 wasmtime \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm\n", []int{0}},
		{"script, last line of a command", "wasmtime \\\n  --allow-inbound='tcp://*:90' \\\n  --allow-inbound='tcp://*:8080'\n",
			"wasmtime \\\n  --allow-inbound='tcp://*:90' \\\n  --allow-inbound='tcp://*:8080'  # capspec:ignore CS204 why\n", []int{1}},
		{"script, last line with a comment", "wasmtime \\\n  --allow-inbound='tcp://*:90' \\\n  --allow-inbound='tcp://*:8080' # note\n",
			"wasmtime \\\n  --allow-inbound='tcp://*:90' \\\n  --allow-inbound='tcp://*:8080' # note  # capspec:ignore CS204 why\n", []int{1}},
		{"script, a command after another on its line", "true && wasmtime --allow-inbound='tcp://*:8080'\n",
			"true && wasmtime --allow-inbound='tcp://*:8080'  # capspec:ignore CS204 why\n", []int{0}},
		{"script, in a substitution over lines", "x=$(wasmtime \\\n  --allow-inbound='tcp://*:8080' \\\n  app.wasm)\n",
			"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "p.flags"
			if strings.HasPrefix(tt.name, "script") {
				name = "run.sh"
			}
			ins := readDoc(t, name, tt.content)
			in, i := flagWith(ins, "8")
			if in == nil {
				t.Fatal("no flag with 8")
			}
			p, ok := PlaceIgnore(in, i)
			if !ok {
				if tt.want != "" {
					t.Fatal("no place")
				}
				return
			}
			if tt.want == "" {
				t.Fatalf("a place: %+v", p)
			}
			if got := insertIgnore(tt.content, p, "CS204 why"); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
			if !slices.Equal(p.Flags, tt.flags) {
				t.Errorf("flags %v, want %v", p.Flags, tt.flags)
			}
		})
	}
}

// flagWith returns the input and index of the first flag whose port list
// starts with digits.
func flagWith(ins []*source.Input, digits string) (*source.Input, int) {
	for _, in := range ins {
		for i, f := range in.Flags {
			if strings.Contains(f.Text, ":"+digits) {
				return in, i
			}
		}
	}
	return nil, -1
}

// insertIgnore writes "# capspec:ignore TEXT" where p says, as the
// language server does: above, with the indentation and line break of the
// line below.
func insertIgnore(content string, p IgnorePlace, text string) string {
	if p.Beside {
		return content[:p.Offset] + "  # capspec:ignore " + text + content[p.Offset:]
	}
	brk := "\n"
	if i := strings.IndexByte(content[p.Offset:], '\n'); i > 0 && content[p.Offset+i-1] == '\r' {
		brk = "\r\n"
	}
	indent := content[p.Offset : len(content)-len(strings.TrimLeft(content[p.Offset:], " \t"))]
	return content[:p.Offset] + indent + "# capspec:ignore " + text + brk + content[p.Offset:]
}

// TestPlaceIgnoreHonoured writes a suppression where PlaceIgnore says, for
// every finding of every flag of the lint cases and the shell corpus, and
// checks with Lint that it silences that rule for exactly the flags the
// place names (and every other finding stays).
func TestPlaceIgnoreHonoured(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"../testdata/lint/*.flags", "../testdata/lint/*.sh", "../source/testdata/shell/*.sh", "../testdata/examples/*.flags"} {
		m, _ := filepath.Glob(pattern)
		paths = append(paths, m...)
	}
	checked := 0
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		if name == "syntax-error.sh" {
			continue
		}
		content := string(b)
		before := findingsByFlag(t, name, content)
		ins := readDoc(t, name, content)
		for k, in := range ins {
			for i := range in.Flags {
				ids := before[[2]int{k, i}]
				if len(ids) == 0 {
					continue
				}
				id := ids[0]
				p, ok := PlaceIgnore(in, i)
				if !ok {
					continue
				}
				checked++
				edited := insertIgnore(content, p, id+" checked by TestPlaceIgnoreHonoured")
				after := findingsByFlag(t, name, edited)
				for key, was := range before {
					want := was
					if key[0] == k && slices.Contains(p.Flags, key[1]) {
						want = slices.DeleteFunc(slices.Clone(was), func(s string) bool { return s == id })
					}
					if got := after[key]; !slices.Equal(got, want) {
						t.Errorf("%s: ignoring %s of %s (%+v) in\n%s\ninput %d flag %d: findings %v, want %v",
							name, id, in.Flags[i].Text, p, edited, key[0], key[1], got, want)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d suppressions placed", checked)
	}
}

// findingsByFlag lints a document and returns the IDs of the findings of
// each flag (by input and flag index), sorted.
func findingsByFlag(t *testing.T, name, content string) map[[2]int][]string {
	t.Helper()
	out := map[[2]int][]string{}
	for k, in := range readDoc(t, name, content) {
		p, ds := grammar.Parse(in)
		fl := newFlagLines(in)
		for _, d := range Lint(in, p, append(in.Diags, ds...), Options{}) {
			if d.ID == "CS900" {
				continue
			}
			if f := fl.flagOf(d.Range); f >= 0 {
				key := [2]int{k, f}
				out[key] = append(out[key], d.ID)
			}
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}
