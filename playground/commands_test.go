package playground_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/capspec/capspec/cli"
	"github.com/capspec/capspec/diff"
	"github.com/capspec/capspec/playground"
)

// corpus returns policies to check the playground with: every flags file
// of the repository's test data (those inside txtar archives included)
// and a few written here for the editor's sake (non-ASCII text before
// and inside errors, CRLF lines, continuations).
func corpus(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{
		"astral":       "# 😀 a comment with an emoji\n--allow-outboud=tcp://😀.example.com:443 --allow-outbound=tcp://example.com:70000\n",
		"idn":          "--allow-resolve=bücher.example  # ümlaut 😀\n--allow-outbound=tcp://ｅｘａｍｐｌｅ.com:80\n--allow-outbound=tpc://x.example.com:1\n",
		"crlf":         "--allow-outbound=tcp://example.com:80\r\n--allow-outbound=tcp://example.com:80\r\n--allow-inbound=tcp://*:80\r\n",
		"continuation": "--allow-outbound \\\n  tcp://example.com:80,81,82 # joined\n--allow-resolve=example.com#ipv4only\n",
		"empty":        "",
		"mapping":      "--allow-resolve=db.internal->10.0.0.1\n--allow-resolve=db.internal->10.0.0.2\n",
	}
	err := filepath.WalkDir("../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".flags"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[path] = string(b)
		case strings.HasSuffix(path, ".txtar"):
			a, err := txtar.ParseFile(path)
			if err != nil {
				return err
			}
			for _, f := range a.Files {
				if strings.HasSuffix(f.Name, ".flags") {
					out[path+"/"+f.Name] = string(f.Data)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("only %d policies found under ../testdata", len(out))
	}
	return out
}

// capspec runs the command line in dir and returns its output and status.
func capspec(t *testing.T, dir string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var o, e bytes.Buffer
	t.Chdir(dir)
	status = cli.Run(cli.Env{Args: append([]string{"capspec"}, args...), Stdout: &o, Stderr: &e})
	return o.String(), e.String(), status
}

// sliceUTF16 is JavaScript's text.slice(start, end).
func sliceUTF16(text string, start, end int) string {
	u := utf16.Encode([]rune(text))
	return string(utf16.Decode(u[start:end]))
}

// applyFixUTF16 applies a fix as the page does: edits in UTF-16 offsets,
// the last first.
func applyFixUTF16(text string, f playground.Fix) string {
	u := utf16.Encode([]rune(text))
	edits := append([]playground.Edit(nil), f.Edits...)
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && edits[j].Start > edits[j-1].Start; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	for _, e := range edits {
		u = append(append(append([]uint16(nil), u[:e.Start]...), utf16.Encode([]rune(e.NewText))...), u[e.End:]...)
	}
	return string(utf16.Decode(u))
}

// jsonLint is the part of `capspec lint --format json` compared here.
type jsonLint struct {
	Diagnostics []struct {
		ID        string `json:"id"`
		Severity  string `json:"severity"`
		Summary   string `json:"summary"`
		Line      int    `json:"line"`
		Column    int    `json:"column"`
		Offset    int    `json:"offset"`
		EndOffset int    `json:"end_offset"`
		Fixes     []struct {
			Message string `json:"message"`
			Edits   []struct {
				Offset    int    `json:"offset"`
				EndOffset int    `json:"end_offset"`
				NewText   string `json:"new_text"`
			} `json:"edits"`
		} `json:"fixes"`
	} `json:"diagnostics"`
}

// TestPanelsAgreeWithCommands checks, for every policy of the corpus, that
// the playground shows what the command line prints: lint's diagnostics
// (with ranges and fixes in UTF-16 offsets that select the same text),
// fmt's canonical form, explain's account, or the refusal of a policy with
// errors.
func TestPanelsAgreeWithCommands(t *testing.T) {
	for name, text := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, playground.PolicyOrigin), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			a := playground.Analyze(playground.Input{Policy: text, Interfaces: playground.DefaultInterfaces})

			// lint
			out, _, _ := capspec(t, dir, "lint", "--format", "json", playground.PolicyOrigin)
			var want jsonLint
			if err := json.Unmarshal([]byte(out), &want); err != nil {
				t.Fatalf("lint --format json: %v\n%s", err, out)
			}
			if len(a.Diagnostics) != len(want.Diagnostics) {
				t.Fatalf("%d diagnostics, lint finds %d", len(a.Diagnostics), len(want.Diagnostics))
			}
			for i, d := range a.Diagnostics {
				w := want.Diagnostics[i]
				if d.ID != w.ID || d.Severity != w.Severity || d.Summary != w.Summary || d.Line != w.Line || d.Column != w.Column {
					t.Errorf("diagnostic %d: %s %s %d:%d %q; lint: %s %s %d:%d %q", i, d.ID, d.Severity, d.Line, d.Column, d.Summary, w.ID, w.Severity, w.Line, w.Column, w.Summary)
				}
				// Text in the page is UTF-16: each byte of invalid UTF-8 is
				// one U+FFFD there, as []rune makes it.
				if got, want := sliceUTF16(text, d.Start, d.End), string([]rune(text[w.Offset:w.EndOffset])); got != want {
					t.Errorf("diagnostic %d %s: the page's range selects %q, lint's %q", i, d.ID, got, want)
				}
				if len(d.Fixes) != len(w.Fixes) {
					t.Errorf("diagnostic %d %s: %d fixes, lint has %d", i, d.ID, len(d.Fixes), len(w.Fixes))
					continue
				}
				for j, f := range d.Fixes {
					var b strings.Builder
					last := 0
					for _, e := range w.Fixes[j].Edits { // sorted, not overlapping
						b.WriteString(text[last:e.Offset] + e.NewText)
						last = e.EndOffset
					}
					b.WriteString(text[last:])
					if got := applyFixUTF16(text, f); got != b.String() || f.Message != w.Fixes[j].Message {
						t.Errorf("fix %q of %s: the page makes %q, lint's edits %q", f.Message, d.ID, got, b.String())
					}
				}
			}

			// fmt and explain
			for _, c := range []struct {
				command string
				panel   playground.Panel
			}{{"fmt", a.Canonical}, {"explain", a.Explanation}} {
				out, _, status := capspec(t, dir, c.command, playground.PolicyOrigin)
				switch {
				case status == 0 && c.panel.Text != out:
					t.Errorf("the page shows:\n%s\ncapspec %s:\n%s", c.panel.Text, c.command, out)
				case status == 0 && c.panel.Unavailable != "":
					t.Errorf("the page shows no %s (%s), capspec %[1]s does", c.command, c.panel.Unavailable)
				case status != 0 && c.panel.Unavailable == "":
					t.Errorf("capspec %s exits %d, the page shows its output", c.command, status)
				}
			}
		})
	}
}

// evalRequests are request lines of every kind; the interface table is
// playground.DefaultInterfaces.
const evalRequests = `lookup example.com
lookup example.com ipv6
lookup db.internal
lookup my-database.internal => 172.17.0.14
connect tcp example.com:80
connect tcp 93.184.216.34:80 via example.com
connect tcp 127.0.0.1:80
connect tcp [::1]:80
connect tcp 172.17.0.14:5432 via my-database.internal
send udp 10.0.0.1:53
send udp [2001:db8::1]:53
listen tcp localhost:80
listen tcp *:80
listen tcp 192.0.2.10:80
listen tcp eth0:80
listen tcp 127.0.0.1:8080
bind udp *:0
bind udp [::1]:5353
`

// TestEvalAgreesWithCommand decides the same requests as `capspec eval`
// for every usable policy of the corpus: the same verdicts and the same
// reasons, line by line.
func TestEvalAgreesWithCommand(t *testing.T) {
	ifaceArgs := []string{}
	for _, f := range strings.Fields(playground.DefaultInterfaces) {
		ifaceArgs = append(ifaceArgs, "--iface", f)
	}
	compared := 0
	for name, text := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for file, content := range map[string]string{playground.PolicyOrigin: text, "requests": evalRequests} {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := playground.Eval(text, evalRequests, playground.DefaultInterfaces)
			out, _, status := capspec(t, dir, append([]string{"eval", "--policy", playground.PolicyOrigin, "--requests", "requests"}, ifaceArgs...)...)
			if status == 2 {
				if res.Unavailable == "" {
					t.Errorf("capspec eval refuses the policy, the page decides")
				}
				return
			}
			if res.Unavailable != "" {
				t.Fatalf("the page refuses (%s), capspec eval decides", res.Unavailable)
			}
			var b strings.Builder
			for _, r := range res.Requests {
				sep := "  "
				if r.Decision == "deny" {
					sep = "   "
				}
				b.WriteString(r.Decision + sep + r.Request + "\n")
				if r.Reason != "" {
					for _, line := range strings.Split(r.Reason, "\n") {
						b.WriteString("       " + line + "\n")
					}
				}
			}
			if b.String() != out {
				t.Errorf("the page decides:\n%s\ncapspec eval:\n%s", b.String(), out)
			}
			if want := strings.Count(evalRequests, "\n"); len(res.Requests) != want || res.Allowed+res.Denied != want {
				t.Errorf("%d requests decided (%d allowed, %d denied), want %d", len(res.Requests), res.Allowed, res.Denied, want)
			}
			compared++
		})
	}
	if compared < 30 {
		t.Errorf("only %d policies compared", compared)
	}
}

// diffPairs returns old and new policies to compare: each policy of the
// corpus after the one before it (in the order of their names) and after
// an empty policy; every pair of flags files of the command line's diff
// and --within scripts; and random pairs of rules that overlap (names,
// wildcards, networks, families, ports and mappings).
func diffPairs(t *testing.T) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	policies := corpus(t)
	names := slices.Sorted(maps.Keys(policies))
	for i, n := range names {
		out["empty/"+n] = [2]string{"", policies[n]}
		if i > 0 {
			out[names[i-1]+"/"+n] = [2]string{policies[names[i-1]], policies[n]}
		}
	}
	scripts, err := filepath.Glob("../cmd/capspec/testdata/script/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range scripts {
		if b := filepath.Base(path); !strings.HasPrefix(b, "diff") && !strings.HasPrefix(b, "lint_within") {
			continue
		}
		a, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, fo := range a.Files {
			for j, fn := range a.Files {
				if i != j && strings.HasSuffix(fo.Name, ".flags") && strings.HasSuffix(fn.Name, ".flags") {
					out[path+"/"+fo.Name+"/"+fn.Name] = [2]string{string(fo.Data), string(fn.Data)}
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(15, 8))
	policyOf := func() string {
		var rs []string
		for range r.IntN(5) {
			rs = append(rs, rulePool[r.IntN(len(rulePool))])
		}
		return strings.Join(rs, "\n")
	}
	for i := range 150 {
		old, cur := policyOf(), policyOf()
		if r.IntN(4) == 0 { // also pairs that overlap a lot
			cur = old + "\n" + rulePool[r.IntN(len(rulePool))]
		}
		out[fmt.Sprintf("random-%d", i)] = [2]string{old, cur}
	}
	return out
}

// rulePool are the rules random pairs are made of: overlapping names,
// wildcards, networks, families, ports and mappings.
var rulePool = []string{
	"--allow-resolve=example.com", "--allow-resolve=*.example.com", "--allow-resolve=a.example.com",
	"--allow-resolve=*", "--allow-resolve=example.com#ipv4-only", "--allow-resolve=db.internal->10.0.0.1",
	"--allow-resolve=example.net#ipv6-only", "--allow-resolve=localhost",
	"--allow-outbound=tcp://example.com:80", "--allow-outbound=tcp://*.example.com:443", "--allow-outbound=tcp://*:443",
	"--allow-outbound=tcp://10.0.0.0/8:80", "--allow-outbound=tcp://10.0.0.0/9:80,443", "--allow-outbound=tcp://[2001:db8::/32]:*",
	"--allow-outbound=udp://*:53", "--allow-outbound=tcp://localhost:8080", "--allow-outbound=tcp://db.internal->10.0.0.1:5432",
	"--allow-outbound=tcp://example.com:80,443#ipv4-only", "--allow-outbound=tcp://...#ipv6-only", "--allow-outbound=udp://10.0.0.1:53",
	"--allow-outbound=tcp://a.example.com:80->8080", "--allow-outbound=tcp://127.0.0.0/8:*",
	"--allow-inbound=tcp://*:80", "--allow-inbound=tcp://*:80->8888", "--allow-inbound=tcp://localhost:8080",
	"--allow-inbound=tcp://eth0:80", "--allow-inbound=udp://*:0", "--allow-inbound=tcp://192.0.2.10:80",
	"--allow-inbound=tcp://127.0.0.1:8080", "--allow-inbound=udp://localhost:5353#ipv6-only",
}

// TestDiffAgreesWithCommand checks, for old and new policies of the
// corpora, that the diff panel is what `capspec diff old.flags
// policy.flags` prints: the same text, the same regions, except lines,
// positions, examples and summary as --format json, or the refusal of a
// policy with errors.
func TestDiffAgreesWithCommand(t *testing.T) {
	compared, differing := 0, 0
	for name, pair := range diffPairs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for file, content := range map[string]string{playground.OldOrigin: pair[0], playground.PolicyOrigin: pair[1]} {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d := playground.Analyze(playground.Input{Old: pair[0], Policy: pair[1], Interfaces: playground.DefaultInterfaces}).Diff
			out, errOut, status := capspec(t, dir, "diff", playground.OldOrigin, playground.PolicyOrigin)
			if status != 0 {
				if status != 2 || d.Unavailable == "" {
					t.Fatalf("capspec diff exits %d (%s), the page shows %+v", status, errOut, d)
				}
				return
			}
			if d.Unavailable != "" {
				t.Fatalf("the page shows no diff (%s), capspec diff does:\n%s", d.Unavailable, out)
			}
			if d.Text != out {
				t.Errorf("the page shows:\n%s\ncapspec diff:\n%s", d.Text, out)
			}
			out, _, _ = capspec(t, dir, "diff", "--format", "json", playground.OldOrigin, playground.PolicyOrigin)
			var want diff.JSON
			if err := json.Unmarshal([]byte(out), &want); err != nil {
				t.Fatalf("diff --format json: %v\n%s", err, out)
			}
			if delta := cmp.Diff(want, d.JSON); delta != "" {
				t.Errorf("the page's diff differs from capspec diff --format json (-cli +page):\n%s", delta)
			}
			compared++
			if !d.Equivalent {
				differing++
			}
		})
	}
	t.Logf("%d pairs compared, %d with differences", compared, differing)
	if compared < 200 || differing < 100 {
		t.Errorf("only %d pairs compared, %d with differences", compared, differing)
	}
}
