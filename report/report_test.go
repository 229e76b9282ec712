package report

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/golden"
	"github.com/capspec/capspec/internal/jsonstream"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/source"
)

const sample = `# a policy with findings of every severity
--allow-outbound=tcp://example.com:70000
--allow-outbound=tcp://*:443
--allow-inbound=tcp://localhost:80
--allow-resolve=example.com
--allow-outbound=tcp://example.com:443,80
`

// lintSources lints the flags of the sources.
func lintSources(t *testing.T, srcs ...source.Source) ([]diag.Diagnostic, diag.FileSet) {
	t.Helper()
	files := diag.FileSet{}
	var ds []diag.Diagnostic
	for _, src := range srcs {
		ins, err := src.Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			files.Add(in.Files...)
			p, pds := grammar.Parse(in)
			ds = append(ds, lint.Lint(in, p, append(in.Diags, pds...), lint.Options{})...)
		}
	}
	diag.Sort(ds)
	return ds, files
}

var testTool = Tool{Name: "capspec", Version: "v0.0.0-test", SemanticVersion: "0.0.0-test", InformationURI: "https://github.com/capspec/capspec"}

func TestSARIFGolden(t *testing.T) {
	ds, files := lintSources(t, source.FlagsFile{Name: "policy.flags", Content: sample})
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, testTool, lint.Rules(), ds, files); err != nil {
		t.Fatal(err)
	}
	validate(t, buf.Bytes())
	golden.Check(t, "testdata/policy.sarif", buf.String())
}

// defaultKeys are SARIF properties capspec has nothing to say about; a
// log holding them holds schema defaults (-1, "en-US", "fail", ...).
var defaultKeys = map[string]bool{"language": true, "rank": true, "kind": true, "newlineSequences": true,
	"isComprehensive": true, "contents": true, "charOffset": true, "index": true}

// TestSARIFNoInventedDefaults: the log holds what capspec knows and no
// schema default it did not decide: no -1 index, offset or rank, no empty
// array, no language; and the driver names its version.
func TestSARIFNoInventedDefaults(t *testing.T) {
	ds, files := lintSources(t, source.FlagsFile{Name: "policy.flags", Content: sample})
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, testTool, lint.Rules(), ds, files); err != nil {
		t.Fatal(err)
	}
	var log any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				_, isRule := v["shortDescription"]
				if defaultKeys[k] || k == "id" && !isRule {
					t.Errorf("%s.%s = %v: a default capspec did not decide", path, k, x)
				}
				walk(path+"."+k, x)
			}
		case []any:
			if len(v) == 0 && !strings.HasSuffix(path, ".results") {
				t.Errorf("%s is an empty array", path)
			}
			for _, x := range v {
				walk(path+"[]", x)
			}
		case float64:
			if v < 0 {
				t.Errorf("%s = %v", path, v)
			}
		}
	}
	walk("", log)
	driver := log.(map[string]any)["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["version"] != "v0.0.0-test" || driver["semanticVersion"] != "0.0.0-test" {
		t.Errorf("driver version %v, semantic version %v", driver["version"], driver["semanticVersion"])
	}
}

// TestSARIFContent checks what code scanning reads from the log.
func TestSARIFContent(t *testing.T) {
	argv := []string{"capspec", "lint", "--allow-outbound=tcp://*:443", "--allow-inbound", "tcp://*:80"}
	ds, files := lintSources(t, source.Args{Argv: argv}, source.FlagsFile{Name: "dir/my policy.flags", Content: sample},
		source.FlagsFile{Name: "<stdin>", Content: "--allow-resolve=*\n", Stdin: true})
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, testTool, lint.Rules(), ds, files); err != nil {
		t.Fatal(err)
	}
	validate(t, buf.Bytes())
	var log struct {
		Runs []struct {
			ColumnKind string `json:"columnKind"`
			Tool       struct {
				Driver struct {
					Rules []struct {
						ID                   string
						Name                 string
						ShortDescription     struct{ Text string }
						FullDescription      struct{ Text string }
						Help                 struct{ Text, Markdown string }
						DefaultConfiguration struct {
							Level string
						}
						Properties map[string]any
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string
							URIBaseID string `json:"uriBaseId"`
						}
						Region struct{ StartLine, StartColumn, EndLine, EndColumn int }
					}
				}
				PartialFingerprints map[string]string
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if run.ColumnKind != "unicodeCodePoints" {
		t.Errorf("columnKind %q", run.ColumnKind)
	}
	rules := lint.Rules()
	if len(run.Tool.Driver.Rules) != len(rules) {
		t.Fatalf("%d rules in the log, want %d", len(run.Tool.Driver.Rules), len(rules))
	}
	for i, r := range run.Tool.Driver.Rules {
		want := rules[i]
		if r.ID != want.ID || r.Name != want.Name || r.ShortDescription.Text == "" || r.FullDescription.Text == "" ||
			r.Help.Text == "" || r.Help.Markdown == "" || r.DefaultConfiguration.Level != Level(want.Severity) {
			t.Errorf("rule %d: %+v", i, r)
		}
		_, has := r.Properties["security-severity"]
		if has != want.IsSecurity() {
			t.Errorf("%s: security-severity present %v, want %v", r.ID, has, want.IsSecurity())
		}
	}
	uris := map[string]bool{}
	fps := map[string]bool{}
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("%s: ruleIndex %d points at %s", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
		if len(res.Locations) != 1 {
			t.Fatalf("%s: %d locations", res.RuleID, len(res.Locations))
		}
		loc := res.Locations[0].PhysicalLocation
		uris[loc.ArtifactLocation.URI+" "+loc.ArtifactLocation.URIBaseID] = true
		if loc.Region.StartLine < 1 || loc.Region.StartColumn < 1 || loc.Region.EndLine < loc.Region.StartLine {
			t.Errorf("%s: region %+v", res.RuleID, loc.Region)
		}
		fp := res.PartialFingerprints[FingerprintKey]
		if fp == "" || fps[fp] {
			t.Errorf("%s: fingerprint %q missing or repeated", res.RuleID, fp)
		}
		fps[fp] = true
	}
	for _, u := range []string{"argv%5B2%5D ", "argv%5B4%5D ", "dir/my%20policy.flags %SRCROOT%", "%3Cstdin%3E "} {
		if !uris[u] {
			t.Errorf("no result in %q; have %v", u, uris)
		}
	}
}

// TestFingerprintStable checks that a finding keeps its fingerprint when
// lines are inserted above it.
func TestFingerprintStable(t *testing.T) {
	fp := func(content string) string {
		ds, files := lintSources(t, source.FlagsFile{Name: "p.flags", Content: content})
		for _, d := range ds {
			if d.ID == "CS201" {
				fp := newResults(nil, files).fingerprint(d)
				return hex.EncodeToString(fp[:])
			}
		}
		t.Fatal("no CS201")
		return ""
	}
	if a, b := fp("--allow-outbound=tcp://*:443\n"), fp("# moved\n\n--allow-outbound=tcp://*:443\n"); a != b {
		t.Errorf("fingerprint changed when the line moved: %s, %s", a, b)
	}
}

// validate checks a SARIF log against the official SARIF 2.1.0 schema
// (errata 01), asserting formats.
func validate(t *testing.T, log []byte) {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("SARIF log is not valid: %v", err)
	}
}

func TestGitHub(t *testing.T) {
	file := diag.NewFile("dir/a,b:c.flags", "--allow-outbound=tcp://example.com:70000\nx\ny\n")
	argv := diag.NewArg(2, "--allow-resolve=*")
	ds := []diag.Diagnostic{
		{ID: "CS002", Severity: diag.Error, Summary: "port 70000 is out of range (0-65535)", Range: file.Range(35, 40)},
		{ID: "CS201", Severity: diag.Warning, Summary: "100% of\r\naddresses", Detail: "a: b, c", Range: file.Range(0, 42)},
		{ID: "CS306", Severity: diag.Info, Summary: "note", Range: argv.Range(16, 17)},
	}
	var b strings.Builder
	if err := WriteGitHub(&b, ds); err != nil {
		t.Fatal(err)
	}
	want := "::error file=dir/a%2Cb%3Ac.flags,line=1,col=36,endColumn=41,title=CS002::port 70000 is out of range (0-65535)\n" +
		"::warning file=dir/a%2Cb%3Ac.flags,line=1,endLine=2,col=1,title=CS201::100%25 of%0D%0Aaddresses%0Aa: b, c\n" +
		"::notice title=CS306::argv[2]:17: note\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestFingerprintLongLine checks fingerprints of findings on a line longer
// than maxFingerprintLine: stable when lines are inserted above, changed
// when the line changes, and distinct for distinct findings.
func TestFingerprintLongLine(t *testing.T) {
	line := strings.Repeat("--allow-outbound=tcp://*:443 ", 300) // every flag: CS201, and CS301 after the first
	fps := func(content string) []string {
		ds, files := lintSources(t, source.FlagsFile{Name: "p.flags", Content: content})
		rs := newResults(nil, files)
		var out []string
		for _, d := range ds {
			out = append(out, rs.result(d).PartialFingerprints[FingerprintKey])
		}
		return out
	}
	a := fps(line + "\n")
	if b := fps("# moved\n\n" + line + "\n"); strings.Join(a, " ") != strings.Join(b, " ") {
		t.Error("fingerprints changed when the long line moved")
	}
	if c := fps(line + "--allow-resolve=x\n"); c[0] == a[0] {
		t.Error("fingerprint kept when the long line changed")
	}
	seen := map[string]bool{}
	for _, fp := range a {
		if seen[fp] {
			t.Fatalf("fingerprint %s twice", fp)
		}
		seen[fp] = true
	}
}

// TestSARIFStreams checks the streamed log against the whole log encoded
// at once (indented, HTML not escaped), byte for byte: without results,
// with the sample's, and with messages holding <, > and &.
func TestSARIFStreams(t *testing.T) {
	ds, files := lintSources(t, source.FlagsFile{Name: "policy.flags", Content: sample})
	html, hfiles := lintSources(t, source.FlagsFile{Name: "a<b>&c.flags", Content: "--allow-outbound=tcp://<x>&y:80\n--allow-outbound=tcp://*:443\n"})
	for _, tc := range []struct {
		ds    []diag.Diagnostic
		files diag.FileSet
	}{{nil, files}, {ds, files}, {html, hfiles}} {
		var whole strings.Builder
		enc := json.NewEncoder(&whole)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(buildSARIF(testTool, lint.Rules(), tc.ds, tc.files)); err != nil {
			t.Fatal(err)
		}
		var streamed bytes.Buffer
		if err := WriteSARIF(&streamed, testTool, lint.Rules(), tc.ds, tc.files); err != nil {
			t.Fatal(err)
		}
		if streamed.String() != whole.String() {
			t.Errorf("%d results: the streamed log differs from the whole log", len(tc.ds))
		}
		if len(tc.ds) > 0 && !strings.Contains(streamed.String(), `"results": [`+"\n") {
			t.Errorf("no results written")
		}
	}
	var b bytes.Buffer
	if err := WriteSARIF(&b, testTool, lint.Rules(), html, hfiles); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "character '<'") || strings.Contains(b.String(), `\u003c`) {
		t.Error("HTML characters escaped")
	}
}

// TestBuildResult checks the results written without reflection against
// encoding/json's form, byte for byte, on random diagnostics: strings that
// need escaping, origins of every kind, details, fixes of several edits
// over several origins, rules known and not.
func TestBuildResult(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pieces := []string{"a", "\"", "\\", "<&>", "\n", "\x00", "é", "\u2028", "\xff", "世", "/", " "}
	str := func() string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	f := diag.NewFile("p.flags", "--allow-outbound=tcp://*:443\n--allow-resolve=x\n")
	files := diag.FileSet{}
	files.Add(f)
	origins := []string{"p.flags", "/abs/p q.flags", "<stdin>", "argv[2]", ""}
	rng := func() diag.Range {
		o := r.IntN(len(origins))
		kind := diag.OriginFile
		if o == 2 {
			kind = diag.OriginStdin
		} else if o == 3 {
			kind = diag.OriginArg
		}
		s := r.IntN(40)
		return diag.Range{Origin: origins[o], Kind: kind, Start: diag.Pos{Offset: s, Line: r.IntN(3), Column: r.IntN(30)}, End: diag.Pos{Offset: s + r.IntN(10), Line: r.IntN(3), Column: r.IntN(30)}}
	}
	ids := []string{"CS001", "CS201", "CS999", ""}
	rs := newResults(lint.Rules(), files)
	for range 500 {
		d := diag.Diagnostic{ID: ids[r.IntN(len(ids))], Severity: diag.Severity(r.IntN(3)), Summary: str(), Range: rng()}
		if r.IntN(2) == 0 {
			d.Detail = str()
		}
		for range r.IntN(3) {
			fix := diag.Fix{Message: str()}
			for range r.IntN(3) {
				fix.Edits = append(fix.Edits, diag.TextEdit{Range: rng(), NewText: str()})
			}
			d.Fixes = append(d.Fixes, fix)
		}
		res := rs.result(d)
		want, err := jsonstream.Element(3, res)
		if err != nil {
			t.Fatal(err)
		}
		var b jsonstream.Builder
		b.Reset(4)
		buildResult(&b, res)
		if diff := cmp.Diff(want, string(b.B)); diff != "" {
			t.Fatalf("%+v (-encoding/json +buildResult):\n%s", d, diff)
		}
	}
}
