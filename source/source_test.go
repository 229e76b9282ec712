package source

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/diag"
)

func TestFlagsFile(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string
		comments      []string // "text flag place"
	}{
		{"several per line", "--allow-resolve=a.com --allow-resolve=b.com\n--allow-resolve=c.com", []string{"--allow-resolve=a.com", "--allow-resolve=b.com", "--allow-resolve=c.com"}, nil},
		{"two-word form", "--allow-resolve a.com --allow-outbound tcp://b:1\n", []string{"--allow-resolve a.com", "--allow-outbound tcp://b:1"}, nil},
		{"two-word form across a continuation", "--allow-resolve \\\n  a.com\n", []string{"--allow-resolve a.com"}, nil},
		{"no value at end of line", "--allow-resolve\na.com\n", []string{"--allow-resolve", "a.com"}, nil},
		{"continuation inside a word", "--allow-resolve=exa\\\nmple.com\n", []string{"--allow-resolve=example.com"}, nil},
		{"CRLF", "--allow-resolve=a.com\r\n--allow-resolve=b.com\r\n", []string{"--allow-resolve=a.com", "--allow-resolve=b.com"}, nil},
		{"family is not a comment", "--allow-resolve=a.com#ipv4-only\n", []string{"--allow-resolve=a.com#ipv4-only"}, nil},
		{"comments", "# head\n\n# above\n--allow-resolve=a.com # beside\n--allow-resolve=b.com #ipv4-only\n# tail\n",
			[]string{"--allow-resolve=a.com", "--allow-resolve=b.com"},
			[]string{"# head 0 above", "# above 0 above", "# beside 0 beside", "#ipv4-only 1 beside", "# tail -1 footer"}},
		{"empty", "", nil, nil},
		{"only comments", "# nothing\n", nil, []string{"# nothing -1 footer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ins, err := FlagsFile{Name: "p.flags", Content: tc.content}.Read()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range ins[0].Flags {
				got = append(got, f.Text)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flags (-want +got):\n%s", diff)
			}
			var comments []string
			for _, c := range ins[0].Comments {
				place := map[CommentPlace]string{Above: "above", Beside: "beside", Footer: "footer"}[c.Place]
				comments = append(comments, c.Text+" "+itoa(c.Flag)+" "+place)
			}
			if diff := cmp.Diff(tc.comments, comments); diff != "" {
				t.Errorf("comments (-want +got):\n%s", diff)
			}
		})
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + string(rune('0'-n))
	}
	return string(rune('0' + n))
}

// TestFlagsFilePositions checks that every byte of a flag's text maps back
// to the right line and column, through continuations and two-word forms.
func TestFlagsFilePositions(t *testing.T) {
	content := "# c\n  --allow-outbound \\\n    tcp://exa\\\nmple.com:70000 --allow-resolve=bücher.de#x\n"
	ins, _ := FlagsFile{Name: "p.flags", Content: content}.Read()
	fs := ins[0].Flags
	if len(fs) != 2 {
		t.Fatalf("got %d flags", len(fs))
	}
	for _, tc := range []struct {
		flag       int
		sub        string
		start, end string
	}{
		{0, "--allow-outbound", "p.flags:2:3", "p.flags:2:19"},
		{0, "tcp://", "p.flags:3:5", "p.flags:3:11"},
		{0, "70000", "p.flags:4:10", "p.flags:4:15"},
		{0, "mple", "p.flags:4:1", "p.flags:4:5"},
		{1, "#x", "p.flags:4:41", "p.flags:4:43"}, // columns count runes: ü is one
	} {
		text := fs[tc.flag].Text
		i := indexOf(text, tc.sub)
		r := fs[tc.flag].Loc.Range(i, i+len(tc.sub))
		end := r
		end.Start = r.End
		if r.String() != tc.start || end.String() != tc.end {
			t.Errorf("%q in %q: %s..%s, want %s..%s", tc.sub, text, r, end, tc.start, tc.end)
		}
		if got := content[r.Start.Offset:r.End.Offset]; tc.sub != "mple" && tc.sub != "tcp://" && got != tc.sub {
			t.Errorf("%q maps to origin bytes %q", tc.sub, got)
		}
	}
	if got := fs[0].Range().String(); got != "p.flags:2:3" {
		t.Errorf("flag range starts at %s", got)
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestArgs(t *testing.T) {
	argv := []string{"capspec", "lint", "--allow-outbound=tcp://x:1", "--format", "json", "--allow-resolve", "a.com", "--allow-inbound", "--", "--allow-resolve=b.com"}
	ins, err := Args{Argv: argv}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range ins[0].Flags {
		got = append(got, f.Text+" @ "+f.Loc.Range(len(f.Text)-1, len(f.Text)).String())
	}
	want := []string{
		"--allow-outbound=tcp://x:1 @ argv[2]:26",
		"--allow-resolve a.com @ argv[6]:5",
		"--allow-inbound @ argv[7]:15",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if ins, _ := (Args{Argv: []string{"capspec", "lint", "x.flags"}}).Read(); len(ins) != 0 {
		t.Errorf("no --allow-* flags should give no input, got %d", len(ins))
	}
}

// TestArgsMisspelled checks that misspelled flag names are read as flags
// (the grammar reports them with a suggestion), in both forms, and that
// Misspelled names their words for the command-line parser to leave out.
func TestArgsMisspelled(t *testing.T) {
	argv := []string{"capspec", "lint", "--allow-outboud=tcp://x:1", "--allow-env=FOO", "--alow-resolve", "a.com", "-allow-inbound=tcp://*:1", "--allow-outbound=tcp://y:2", "--", "--allow-resolv=z"}
	ins, err := Args{Argv: argv}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range ins[0].Flags {
		got = append(got, f.Text+" @ "+f.Range().String())
	}
	want := []string{
		"--allow-outboud=tcp://x:1 @ argv[2]:1",
		"--alow-resolve a.com @ argv[4]:1",
		"-allow-inbound=tcp://*:1 @ argv[6]:1",
		"--allow-outbound=tcp://y:2 @ argv[7]:1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 4, 5, 6}, Args{Argv: argv}.Misspelled()); diff != "" {
		t.Errorf("Misspelled (-want +got):\n%s", diff)
	}
	if ins[0].Kind != ArgsInput || !ins[0].Flags[0].Range().IsArg() {
		t.Errorf("the command line is not of kind %s", ArgsInput)
	}
}

// TestKindsNotNames: an input's kind is a type, not its name. A flags file
// called "argv" or "argv[1]" is a flags file whose positions print as a
// file's; standard input is of kind stdin.
func TestKindsNotNames(t *testing.T) {
	for _, name := range []string{"argv", "argv[1]", "./argv[1]"} {
		ins, _ := FlagsFile{Name: name, Content: "--allow-resolve=a..b\n"}.Read()
		in := ins[0]
		if in.Kind != FlagsInput || in.Flags[0].Range().IsArg() {
			t.Errorf("%s: kind %s, arg %v", name, in.Kind, in.Flags[0].Range().IsArg())
		}
		if got := in.Flags[0].Range().String(); got != name+":1:1" {
			t.Errorf("%s: position %s", name, got)
		}
	}
	ins, _ := FlagsFile{Name: "<stdin>", Content: "--allow-resolve=a\n", Stdin: true}.Read()
	if k := ins[0].Flags[0].Range().Kind; k != diag.OriginStdin {
		t.Errorf("standard input has origin kind %s", k)
	}
	sh, _ := Shell{Name: "run.sh", Content: "wasmtime --allow-resolve=a x.wasm\n"}.Read()
	if sh[0].Kind != ScriptInput {
		t.Errorf("a script command has kind %s", sh[0].Kind)
	}
}

// TestBOM: a byte order mark at the start of a flags file or script is
// skipped; columns count from after it, offsets from the file's start.
func TestBOM(t *testing.T) {
	content := diag.BOM + "--allow-resolve=a.com # c\n--allow-resolve=b.com\n"
	ins, err := FlagsFile{Name: "p.flags", Content: content}.Read()
	if err != nil {
		t.Fatal(err)
	}
	fs := ins[0].Flags
	if len(fs) != 2 || fs[0].Text != "--allow-resolve=a.com" {
		t.Fatalf("flags %v", fs)
	}
	if got := fs[0].Range().String(); got != "p.flags:1:1" {
		t.Errorf("first flag at %s, want p.flags:1:1", got)
	}
	if fs[0].Range().Start.Offset != len(diag.BOM) {
		t.Errorf("first flag at offset %d, want %d", fs[0].Range().Start.Offset, len(diag.BOM))
	}
	if c := ins[0].Comments[0]; c.Range.String() != "p.flags:1:23" {
		t.Errorf("comment at %s", c.Range)
	}
	if line := ins[0].Files[0].Line(1); line != "--allow-resolve=a.com # c" {
		t.Errorf("line 1 is %q", line)
	}
	// Only at the very start: elsewhere it is a character of a word.
	ins, _ = FlagsFile{Name: "p.flags", Content: "--allow-resolve=a.com " + diag.BOM + "--allow-resolve=b.com\n"}.Read()
	if got := ins[0].Flags[1].Text; got != diag.BOM+"--allow-resolve=b.com" {
		t.Errorf("a byte order mark inside the file was dropped: %q", got)
	}
	sh, err := Shell{Name: "run.sh", Content: diag.BOM + "wasmtime --allow-resolve=a.com x.wasm\n"}.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(sh) != 1 || sh[0].Name != "run.sh:1 wasmtime" || sh[0].Flags[0].Range().String() != "run.sh:1:10" {
		t.Errorf("script with a byte order mark: %+v", sh)
	}
}

// TestInputFile finds origins by name among few files and among many (the
// index), the first of a name, and again after Files changed.
func TestInputFile(t *testing.T) {
	for _, n := range []int{3, 100} {
		in := &Input{}
		for i := range n {
			in.Files = append(in.Files, diag.NewArg(i, fmt.Sprintf("--allow-resolve=a%d", i)))
		}
		in.Files = append(in.Files, diag.NewFile("argv[1]", "a second file of the name"))
		for i := range n {
			if f := in.File(fmt.Sprintf("argv[%d]", i)); f != in.Files[i] {
				t.Fatalf("%d files: File(argv[%d]) = %v", n, i, f)
			}
		}
		if f := in.File("nope"); f != nil {
			t.Errorf("%d files: File(nope) = %v", n, f)
		}
		extra := diag.NewFile("late.flags", "")
		in.Files = append(in.Files, extra)
		if f := in.File("late.flags"); f != extra {
			t.Errorf("%d files: a file added after a question is not found", n)
		}
		in.Files[len(in.Files)-1] = diag.NewFile("swapped.flags", "")
		if f := in.File("swapped.flags"); f == nil || in.File("late.flags") != nil {
			t.Errorf("%d files: a file replaced after a question is not seen", n)
		}
	}
}
