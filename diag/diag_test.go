package diag

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/internal/jsonstream"
)

func TestFilePos(t *testing.T) {
	f := NewFile("p.flags", "ab\nüx\n\nend")
	for _, tc := range []struct {
		offset          int
		line, col, want int
	}{
		{0, 1, 1, 0}, {2, 1, 3, 2}, {3, 2, 1, 3}, {5, 2, 2, 5}, {6, 2, 3, 6}, {7, 3, 1, 7}, {8, 4, 1, 8}, {11, 4, 4, 11}, {99, 4, 4, 11}, {-5, 1, 1, 0},
	} {
		p := f.Pos(tc.offset)
		if p.Line != tc.line || p.Column != tc.col || p.Offset != tc.want {
			t.Errorf("Pos(%d) = %+v, want line %d col %d offset %d", tc.offset, p, tc.line, tc.col, tc.want)
		}
	}
	if got := f.Line(2); got != "üx" {
		t.Errorf("Line(2) = %q", got)
	}
	if got := f.Line(5); got != "" {
		t.Errorf("Line(5) = %q", got)
	}
}

func TestMapped(t *testing.T) {
	a := NewFile("argv[2]", "--allow-resolve")
	b := NewFile("argv[3]", "example.com")
	m := Mapped{
		{Text: 0, File: a, Origin: 0, Len: 15},
		{Text: 15, File: b, Origin: 0, Len: 0},
		{Text: 16, File: b, Origin: 0, Len: 11},
	}
	for _, tc := range []struct {
		start, end int
		want       string
		wantEnd    int
	}{
		{0, 15, "argv[2]:1", 15},
		{16, 23, "argv[3]:1", 7},
		{20, 27, "argv[3]:5", 11},
		{0, 27, "argv[2]:1", 15}, // stops at the end of the first file
		{27, 27, "argv[3]:12", 11},
	} {
		r := m.Range(tc.start, tc.end)
		if r.String() != tc.want || r.End.Offset != tc.wantEnd {
			t.Errorf("Range(%d,%d) = %s..%d, want %s..%d", tc.start, tc.end, r, r.End.Offset, tc.want, tc.wantEnd)
		}
	}
}

func TestWriteText(t *testing.T) {
	f := NewFile("policy.flags", "# c\n\t--allow-outbound=tcp://example.com:70000\n")
	ds := []Diagnostic{{
		ID: "CS002", Severity: Error, Summary: "port 70000 is out of range (0-65535)",
		Range: f.Range(40, 45),
		Fixes: []Fix{{Message: "use a port", Edits: []TextEdit{{Range: f.Range(40, 45), NewText: "7000"}}}},
	}, {
		ID: "CS001", Severity: Warning, Summary: "zero width", Range: f.Range(45, 45), Detail: "more words",
	}}
	var b strings.Builder
	if err := WriteText(&b, ds, FileSet{"policy.flags": f}, nil); err != nil {
		t.Fatal(err)
	}
	want := `policy.flags:2:37: error[CS002]: port 70000 is out of range (0-65535)
  2 | 	--allow-outbound=tcp://example.com:70000
    | 	                                   ^^^^^
    = help: use a port: 7000
policy.flags:2:42: warning[CS001]: zero width
  2 | 	--allow-outbound=tcp://example.com:70000
    | 	                                        ^
    = more words
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Arguments print as argv[N]:col, without a line number in the gutter.
	arg := NewArg(2, "--allow-resolve=a..b")
	b.Reset()
	WriteText(&b, []Diagnostic{{ID: "CS007", Severity: Error, Summary: "empty label in name", Range: arg.Range(17, 19)}}, FileSet{"argv[2]": arg}, nil)
	want = "argv[2]:18: error[CS007]: empty label in name\n   | --allow-resolve=a..b\n   |                  ^^\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}

	// With color on, severities and carets are colored; off, no escapes.
	b.Reset()
	WriteText(&b, ds[:1], FileSet{"policy.flags": f}, NewPalette(true))
	if !strings.Contains(b.String(), "\x1b[31;1merror[CS002]") {
		t.Errorf("colored output lacks the red severity: %q", b.String())
	}
	b.Reset()
	WriteText(&b, ds[:1], FileSet{"policy.flags": f}, NewPalette(false))
	if strings.Contains(b.String(), "\x1b") {
		t.Errorf("uncolored output has escapes: %q", b.String())
	}
}

func TestWriteJSON(t *testing.T) {
	f := NewFile("p.flags", "--allow-resolve=a..b\n")
	var b strings.Builder
	err := WriteJSON(&b, []Diagnostic{{ID: "CS007", Severity: Error, Summary: "empty label", Range: f.Range(17, 19)}}, func(string) string { return "bad-name" })
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Diagnostics []map[string]any `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(b.String()), &out); err != nil {
		t.Fatal(err)
	}
	d := out.Diagnostics[0]
	for k, v := range map[string]any{"id": "CS007", "name": "bad-name", "severity": "error", "origin": "p.flags", "line": 1.0, "column": 18.0, "end_column": 20.0, "offset": 17.0, "end_offset": 19.0} {
		if d[k] != v {
			t.Errorf("%s = %v, want %v", k, d[k], v)
		}
	}
	if fixes, ok := d["fixes"].([]any); !ok || len(fixes) != 0 {
		t.Errorf("fixes = %v, want []", d["fixes"])
	}
}

func TestSortAndSeverity(t *testing.T) {
	ds := []Diagnostic{
		{ID: "B", Range: Range{Origin: "b.flags"}},
		{ID: "A", Range: Range{Origin: "argv[10]", Kind: OriginArg}},
		{ID: "C", Range: Range{Origin: "argv[2]", Kind: OriginArg}},
		{ID: "D", Range: Range{Origin: "a.flags", Start: Pos{Offset: 5}}},
		{ID: "E", Range: Range{Origin: "a.flags", Start: Pos{Offset: 1}}},
		{ID: "F", Range: Range{Origin: "argv[1]"}}, // a file of that name: a file
	}
	Sort(ds)
	var ids string
	for _, d := range ds {
		ids += d.ID
	}
	if ids != "CAEDFB" {
		t.Errorf("order %s, want CAEDFB", ids)
	}
	if s, err := ParseSeverity("Warning"); err != nil || s != Warning || !Error.AtLeast(Warning) || Info.AtLeast(Warning) {
		t.Errorf("severity handling is wrong: %v %v", s, err)
	}
}

// TestWriteJSONStreams checks the streamed document against the whole
// document encoded at once, byte for byte.
func TestWriteJSONStreams(t *testing.T) {
	f := NewFile("p.flags", "--allow-resolve=a..b <&>\n")
	d := Diagnostic{ID: "CS007", Severity: Error, Summary: "empty <label> & more", Detail: "d", Range: f.Range(17, 19),
		Fixes: []Fix{{Message: "m", Edits: []TextEdit{{Range: f.Range(17, 19), NewText: "a.b"}}}}}
	for _, ds := range [][]Diagnostic{nil, {d}, {d, Omission(5, []string{"CS007", "CS012"}, Error, f.Range(20, 24)), d}} {
		want := struct {
			Diagnostics []JSONDiagnostic `json:"diagnostics"`
		}{Diagnostics: []JSONDiagnostic{}}
		for _, d := range ds {
			want.Diagnostics = append(want.Diagnostics, ToJSON(d, Name))
		}
		wb, err := jsonstream.Whole(want, false)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := WriteJSON(&b, ds, Name); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wb, b.String()); diff != "" {
			t.Errorf("(-whole +streamed):\n%s", diff)
		}
	}
}

// TestBuildJSON checks the diagnostics written without reflection against
// encoding/json's form of ToJSON, byte for byte, on random diagnostics:
// strings that need escaping, details, fixes of several edits, omissions,
// names and none.
func TestBuildJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "\"", "\\", "<&>", "\n", "\x00", "é", "\u2028", "\xff", "世"}
	str := func() string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	rng := func() Range {
		return Range{Origin: str(), Kind: OriginKind(r.IntN(3)), Start: Pos{r.IntN(1 << 20), r.IntN(100), r.IntN(100)}, End: Pos{r.IntN(1 << 20), r.IntN(100), r.IntN(100)}}
	}
	names := []func(string) string{nil, Name, func(string) string { return "" }}
	for i := range 500 {
		d := Diagnostic{ID: str(), Severity: Severity(r.IntN(4)), Summary: str(), Range: rng(), Omitted: r.IntN(3)}
		if r.IntN(2) == 0 {
			d.Detail = str()
		}
		for range r.IntN(3) {
			f := Fix{Message: str()}
			for range r.IntN(3) {
				f.Edits = append(f.Edits, TextEdit{Range: rng(), NewText: str()})
			}
			d.Fixes = append(d.Fixes, f)
		}
		name := names[i%len(names)]
		want, err := jsonstream.Element(1, ToJSON(d, name))
		if err != nil {
			t.Fatal(err)
		}
		var b jsonstream.Builder
		b.Reset(2)
		buildJSON(&b, d, name)
		if diff := cmp.Diff(want, string(b.B)); diff != "" {
			t.Fatalf("%+v (-encoding/json +buildJSON):\n%s", d, diff)
		}
	}
}

// Name names rules for the tests.
func Name(id string) string { return "name-of-" + id }

func TestElide(t *testing.T) {
	if got := Elide("short", 10); got != "short" {
		t.Errorf("Elide(short) = %q", got)
	}
	long := strings.Repeat("ü", 1000)
	got := Elide(long, 90)
	if !utf8.ValidString(got) || len(got) > 100 || !strings.Contains(got, "…") {
		t.Errorf("Elide(long) = %q", got)
	}
}

// TestOriginKinds: how a range prints depends on its origin's kind, never
// on its name.
func TestOriginKinds(t *testing.T) {
	arg := NewArg(3, "--allow-resolve=x")
	if r := arg.Range(16, 17); r.String() != "argv[3]:17" || !r.IsArg() || arg.Arg != 3 {
		t.Errorf("argument range %s (arg %v, index %d)", r, r.IsArg(), arg.Arg)
	}
	file := NewFile("argv", "--allow-resolve=x")
	if r := file.Range(16, 17); r.String() != "argv:1:17" || r.IsArg() {
		t.Errorf("file range %s", r)
	}
	stdin := NewFile("<stdin>", "x")
	stdin.Kind = OriginStdin
	if r := stdin.Range(0, 1); r.Kind != OriginStdin || r.String() != "<stdin>:1:1" {
		t.Errorf("stdin range %s kind %s", r, r.Kind)
	}
}

// TestBOMColumns: a byte order mark at the start of a file is no column of
// line 1, and Line leaves it out; offsets count its bytes.
func TestBOMColumns(t *testing.T) {
	f := NewFile("p.flags", BOM+"ab\ncd")
	if p := f.Pos(len(BOM)); p.Line != 1 || p.Column != 1 || p.Offset != 3 {
		t.Errorf("after the BOM: %+v", p)
	}
	if p := f.Pos(len(BOM) + 1); p.Column != 2 {
		t.Errorf("second character: %+v", p)
	}
	if p := f.Pos(len(BOM) + 3); p.Line != 2 || p.Column != 1 {
		t.Errorf("line 2: %+v", p)
	}
	if got := f.Line(1); got != "ab" {
		t.Errorf("Line(1) = %q", got)
	}
	if g := NewFile("q", "a"+BOM); g.Pos(4).Column != 3 {
		t.Errorf("a BOM that does not start the file is a character: %+v", g.Pos(4))
	}
}
