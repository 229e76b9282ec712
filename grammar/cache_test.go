package grammar

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/source"
)

// TestCacheParsesAsParse edits inputs the way a person types — flags added,
// changed, moved, broken and fixed — and checks that the cache's result is
// Parse's, rule by rule (with positions in the origin) and diagnostic by
// diagnostic.
func TestCacheParsesAsParse(t *testing.T) {
	var texts []string
	for _, pattern := range []string{"../testdata/grammar/*.flags", "../testdata/lint/*.flags", "../testdata/examples/*.flags"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, string(b))
		}
	}
	if len(texts) < 10 {
		t.Fatalf("only %d inputs", len(texts))
	}
	var c *Cache
	check := func(name, text string) {
		t.Helper()
		ins, err := source.FlagsFile{Name: "p.flags", Content: text}.Read()
		if err != nil {
			t.Fatal(err)
		}
		wantP, wantD := Parse(ins[0])
		var got []Parsed
		got, c = c.Parse(ins[0])
		if diff := cmp.Diff(describe(wantP, wantD), describe(got[0].Policy, got[0].Diags)); diff != "" {
			t.Errorf("%s: the cache parses differently (-Parse +Cache):\n%s", name, diff)
		}
	}
	for i, text := range texts {
		check(fmt.Sprintf("input %d", i), text)
		check(fmt.Sprintf("input %d again", i), text)
		check(fmt.Sprintf("input %d shifted", i), "# one more line\n  "+text)
		check(fmt.Sprintf("input %d on one line", i), strings.ReplaceAll(text, "\n", " \\\n"))
		check(fmt.Sprintf("input %d with a typo", i), strings.Replace(text, "tcp://", "tpc://", 1))
		check(fmt.Sprintf("input %d reversed", i), reverseLines(text))
	}
}

func reverseLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	return strings.Join(lines, "\n")
}

// describe writes what a parse gives: every rule with its index, text and
// origin range and the origin range of every node, and every diagnostic.
func describe(p *ast.Policy, ds []diag.Diagnostic) []string {
	var out []string
	for _, r := range p.Rules {
		out = append(out, fmt.Sprintf("rule %d %q %v", r.Index, r.Text, r.Range(r)))
		ast.Walk(r, func(n ast.Node) bool {
			out = append(out, fmt.Sprintf("  %T %v", n, r.Range(n)))
			return true
		})
	}
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s %s %v %q %v", d.ID, d.Severity, d.Range, d.Summary, d.Fixes))
	}
	return out
}

// TestCacheScripts parses successive versions of a script of many
// commands (an input each) through the cache, as the language server does:
// each input as Parse parses it, and the cache of a version holds the
// flags of all its commands, and only those.
func TestCacheScripts(t *testing.T) {
	var lines []string
	for i := range 60 {
		flag := typicalFlags[i%len(typicalFlags)]
		switch i % 7 {
		case 3:
			flag = strings.Replace(flag, "://", ":/", 1) // an error
		case 5:
			flag = "--allow-outbound=tcp://host" + fmt.Sprint(i) + ".example:80"
		}
		lines = append(lines, fmt.Sprintf("wasmtime run \\\n  '%s' \\\n  --allow-resolve=r%d.example app.wasm", flag, i%4))
	}
	var c *Cache
	for step := range 12 {
		if step > 0 {
			i, j := (step*17)%len(lines), (step*29+3)%len(lines)
			lines[i], lines[j] = lines[j], "wasmtime run --allow-inbound=tcp://*:"+fmt.Sprint(step)+" app.wasm"
		}
		ins, err := source.Shell{Name: "run.sh", Content: strings.Join(lines, "\n") + "\n"}.Read()
		if err != nil {
			t.Fatal(err)
		}
		if len(ins) != len(lines) {
			t.Fatalf("%d inputs of %d commands", len(ins), len(lines))
		}
		got, next := c.Parse(ins...)
		if len(got) != len(ins) {
			t.Fatalf("step %d: %d results for %d inputs", step, len(got), len(ins))
		}
		texts := map[string]bool{}
		for k, in := range ins {
			wantP, wantD := Parse(in)
			if diff := cmp.Diff(describe(wantP, wantD), describe(got[k].Policy, got[k].Diags)); diff != "" {
				t.Fatalf("step %d, %s: the cache parses differently (-Parse +Cache):\n%s", step, in.Name, diff)
			}
			if got[k].Policy.Name != in.Name {
				t.Errorf("policy named %q, want %q", got[k].Policy.Name, in.Name)
			}
			for _, f := range in.Flags {
				texts[f.Text] = true
			}
		}
		if len(next.flags) != len(texts) {
			t.Errorf("step %d: the cache holds %d flags, the version %d", step, len(next.flags), len(texts))
		}
		for text := range texts {
			if _, ok := next.flags[text]; !ok {
				t.Errorf("step %d: %q not cached", step, text)
			}
		}
		c = next
	}
}

// TestCacheUnchanged checks that parsing through a cache leaves it as it
// was, and that goroutines may share one (run with -race): an editor
// formats a version while the next is analysed.
func TestCacheUnchanged(t *testing.T) {
	read := func(text string) *source.Input {
		ins, err := source.FlagsFile{Name: "p.flags", Content: text}.Read()
		if err != nil {
			t.Fatal(err)
		}
		return ins[0]
	}
	_, c := (*Cache)(nil).Parse(read("--allow-resolve=a.example\n--allow-outbound=tcp://b.example:80\n"))
	before := maps.Clone(c.flags)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				text := fmt.Sprintf("--allow-resolve=a.example\n--allow-inbound=tcp://*:%d\n--allow-resolve=g%d-%d.example\n", 1+i, g, i)
				got, next := c.Parse(read(text))
				if len(got[0].Policy.Rules) != 3 || len(next.flags) != 3 {
					t.Errorf("%d rules, %d flags cached", len(got[0].Policy.Rules), len(next.flags))
				}
			}
		})
	}
	wg.Wait()
	if len(c.flags) != len(before) {
		t.Fatalf("the cache changed: %d flags, was %d", len(c.flags), len(before))
	}
	for text, pf := range before {
		if c.flags[text].rule != pf.rule {
			t.Errorf("the cache changed at %q", text)
		}
	}
}

// TestCacheParallel parses many changed flags at once, which the cache
// does on all CPUs, through the one parallel loop of the package; and
// checks that loop on any number of goroutines, whatever the CPUs.
func TestCacheParallel(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		flag := typicalFlags[i%len(typicalFlags)]
		if i%11 == 0 {
			flag = strings.Replace(flag, "tcp://", "tpc://", 1)
		}
		fmt.Fprintf(&b, "%s --allow-resolve=n%d.example\n", flag, i)
	}
	ins, err := source.FlagsFile{Name: "many.flags", Content: b.String()}.Read()
	if err != nil {
		t.Fatal(err)
	}
	wantP, wantD := Parse(ins[0])
	got, _ := (*Cache)(nil).Parse(ins[0])
	if diff := cmp.Diff(describe(wantP, wantD), describe(got[0].Policy, got[0].Diags)); diff != "" {
		t.Errorf("the cache parses differently (-Parse +Cache):\n%s", diff)
	}
	for _, workers := range []int{0, 1, 2, 3, 8, 5000} {
		for _, n := range []int{0, 1, 7, 1000} {
			calls := make([]int32, n)
			parts := make([]int32, n)
			parseEach(n, workers, func(c *checker, part, i int) {
				if c == nil {
					t.Error("no checker")
				}
				parts[i] = int32(part)
				calls[i]++ // each i on one goroutine: -race says if not
			})
			for i, k := range calls {
				if k != 1 {
					t.Fatalf("%d workers, %d flags: flag %d parsed %d times", workers, n, i, k)
				}
				if p := parts[i]; p < 0 || int(p) >= max(1, workers) || i > 0 && p != parts[i-1] && p != parts[i-1]+1 {
					t.Fatalf("%d workers, %d flags: flag %d in part %d after part %d", workers, n, i, p, parts[max(0, i-1)])
				}
			}
		}
	}
}
