package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/capspec/capspec/cli"
	"github.com/capspec/capspec/internal/hostile"
)

// statuses are the exit statuses each command documents for a flags file
// (docs/*.md): parse and lint 0 or 1; fmt 2 for a policy with errors;
// fmt --check 1 when not canonical; explain 2 with errors; eval 1 for a
// denial and 2 for a policy with errors.
var statuses = map[string][]int{
	"parse": {0, 1}, "parse-json": {0, 1},
	"lint": {0, 1}, "lint-json": {0, 1}, "lint-sarif": {0, 1}, "lint-github": {0, 1},
	"fmt": {0, 2}, "fmt-check": {0, 1, 2},
	"explain": {0, 2}, "explain-json": {0, 2},
	"eval": {0, 1, 2},
}

// outputFactor bounds the output of each command: at most outputFactor
// times the input's size, plus outputConstant. A finding is a few hundred
// bytes of text (a thousand in SARIF) and a flag of thirty bytes may have
// ten; parse --format json writes a source range for every node (a port
// of a list is one). Anything quadratic breaks these bounds by far.
var outputFactor = map[string]int{
	"parse": 60, "parse-json": 200,
	"lint": 150, "lint-json": 300, "lint-sarif": 600, "lint-github": 100,
	"fmt": 150, "fmt-check": 150,
	"explain": 150, "explain-json": 150,
}

// outputConstant is the output any input may get: SARIF's rule
// descriptors are 70 KB.
const outputConstant = 128 << 10

// evalBound bounds the output of eval: each decision names its request and
// a bounded number of rules (the deciding one and a few other allowing
// ones, or the nearest ones of a denial), each as written and canonical,
// so at most 4 KiB and 32 times the longest line of the policy per
// request.
func evalBound(policy string, requests int) int {
	longest := 0
	for _, line := range strings.Split(policy, "\n") {
		longest = max(longest, len(line))
	}
	return outputConstant + requests*(4<<10+32*longest)
}

// entry is one input of the hostile corpus: a policy and what must hold
// for it ("want" lines, see check).
type entry struct {
	name, policy string
	want         []string
}

// corpus returns the entries of testdata/hostile and the hostile shapes of
// package hostile, 16 KiB each (the benchmarks run them at 1 MiB).
func corpus(t *testing.T) []entry {
	t.Helper()
	paths, err := filepath.Glob("../testdata/hostile/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var es []entry
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		e := entry{name: strings.TrimSuffix(filepath.Base(p), ".txtar")}
		for _, f := range ar.Files {
			switch f.Name {
			case "policy.flags":
				e.policy = string(f.Data)
			case "want":
				for _, line := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
					e.want = append(e.want, line)
				}
			default:
				t.Fatalf("%s: unknown section %q", p, f.Name)
			}
		}
		es = append(es, e)
	}
	for _, in := range hostile.Inputs(16 << 10) {
		es = append(es, entry{name: "generated-" + in.Name, policy: in.Text})
	}
	return es
}

// result is what one run printed and its exit status.
type result struct {
	code           int
	stdout, stderr string
}

// runIn runs capspec in-process with stdin as standard input, reporting a
// panic as a test failure.
func runIn(t *testing.T, stdin string, args ...string) (r result) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("capspec %s panicked: %v", strings.Join(args, " "), p)
		}
	}()
	var out, errOut bytes.Buffer
	r.code = cli.Run(cli.Env{Args: append([]string{"capspec"}, args...), Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	r.stdout, r.stderr = out.String(), errOut.String()
	return r
}

// ifaces is the interface table of every eval of the corpus.
var ifaces = []string{"--iface", "eth0=10.0.0.5/24,fe80::1/64", "--iface", "lo=127.0.0.1/8,::1/128"}

// TestHostileCorpus runs every command on every entry of the hostile
// corpus and checks that none panics, each exits with a status it
// documents, each writes output bounded by a fixed multiple of the input,
// fmt then eval decides as eval alone does (on requests made from the
// names, addresses and ports of the entry and near misses of them), and
// what the entry's "want" lines say.
func TestHostileCorpus(t *testing.T) {
	for _, e := range corpus(t) {
		t.Run(e.name, func(t *testing.T) {
			dir := t.TempDir()
			pol := filepath.Join(dir, "policy.flags")
			if err := os.WriteFile(pol, []byte(e.policy), 0o644); err != nil {
				t.Fatal(err)
			}
			reqs := requests(e.policy)
			codes := map[string]int{}
			for _, c := range commands {
				args := slices.Clone(c.args)
				input := e.policy
				if c.name == "eval" {
					args = append(append([]string{"eval", "--policy", pol, "--requests", "-"}, ifaces...), "--format", "json")
					input = strings.Join(reqs, "\n") + "\n"
				}
				r := runIn(t, input, args...)
				codes[c.name] = r.code
				if !slices.Contains(statuses[c.name], r.code) {
					t.Errorf("%s: exit status %d, want one of %v\n%s", c.name, r.code, statuses[c.name], head(r.stderr))
				}
				limit := outputFactor[c.name]*len(input) + outputConstant
				if c.name == "eval" {
					limit = evalBound(e.policy, len(reqs))
				}
				if size := len(r.stdout) + len(r.stderr); size > limit {
					t.Errorf("%s: %d bytes of output for %d of input (at most %d)", c.name, size, len(input), limit)
				}
			}
			sameAfterFmt(t, e, pol, reqs)
			check(t, e, pol)
		})
	}
}

// sameAfterFmt checks that the formatted policy decides every request as
// the policy does, and that fmt refuses exactly the policies eval refuses.
func sameAfterFmt(t *testing.T, e entry, pol string, reqs []string) {
	t.Helper()
	stdin := strings.Join(reqs, "\n") + "\n"
	before := runIn(t, stdin, append(append([]string{"eval", "--policy", pol, "--requests", "-"}, ifaces...), "--format", "json")...)
	f := runIn(t, "", "fmt", pol)
	if (f.code == 2) != (before.code == 2) {
		t.Fatalf("fmt exits %d, eval %d: they disagree on whether the policy has errors\nfmt: %s\neval: %s", f.code, before.code, head(f.stderr), head(before.stderr))
	}
	if f.code != 0 {
		return
	}
	formatted := filepath.Join(filepath.Dir(pol), "formatted.flags")
	if err := os.WriteFile(formatted, []byte(f.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	after := runIn(t, stdin, append(append([]string{"eval", "--policy", formatted, "--requests", "-"}, ifaces...), "--format", "json")...)
	if before.code != after.code {
		t.Errorf("eval exits %d before fmt and %d after\nbefore: %s\nafter: %s", before.code, after.code, head(before.stderr), head(after.stderr))
	}
	b, a := decisions(t, before.stdout), decisions(t, after.stdout)
	if len(b) != len(a) {
		t.Fatalf("%d decisions before fmt, %d after", len(b), len(a))
	}
	for i := range b {
		if b[i] != a[i] {
			t.Errorf("fmt changed a decision:\n  before: %s\n  after:  %s\n  formatted policy:\n%s", b[i], a[i], head(f.stdout))
		}
	}
}

// decisions reads eval's JSON lines: for each request, its decision,
// families and host side.
func decisions(t *testing.T, out string) []string {
	t.Helper()
	var ds []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var d struct {
			Request  string   `json:"request"`
			Decision string   `json:"decision"`
			Families []string `json:"families"`
			Host     string   `json:"host"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("eval printed %q: %v", head(line), err)
		}
		ds = append(ds, fmt.Sprintf("%s %s %v %s", d.Decision, d.Request, d.Families, d.Host))
	}
	return ds
}

// check checks an entry's want lines:
//
//	error | valid           the policy has an error (lint), or none
//	lint ID | nolint ID     lint reports ID, or does not
//	allow R | deny R        eval allows request R, or does not (denies it,
//	                        or refuses the policy)
//	any R                   R is decided, whatever the decision
//	invalid R               eval rejects request R alone (status 2)
//
// The requests of allow, deny and any lines are decided in one run, in
// order (a lookup's answers count for the connects after it).
func check(t *testing.T, e entry, pol string) {
	t.Helper()
	if len(e.want) == 0 {
		return
	}
	lint := runIn(t, "", "lint", "--format", "json", "--fail-on", "info", pol)
	var found struct {
		Diagnostics []struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(lint.stdout), &found); err != nil {
		t.Fatalf("lint printed %q: %v", head(lint.stdout), err)
	}
	ids, hasError := map[string]bool{}, false
	for _, d := range found.Diagnostics {
		ids[d.ID] = true
		hasError = hasError || d.Severity == "error"
	}
	var reqs, expect []string
	for _, w := range e.want {
		verb, arg, _ := strings.Cut(w, " ")
		switch verb {
		case "error", "valid":
			if hasError != (verb == "error") {
				t.Errorf("want %s: lint found %v", verb, ids)
			}
		case "lint", "nolint":
			if ids[arg] != (verb == "lint") {
				t.Errorf("want %s %s: lint found %v", verb, arg, ids)
			}
		case "allow", "deny", "any":
			reqs, expect = append(reqs, arg), append(expect, verb)
		case "invalid":
			r := runIn(t, arg+"\n", append([]string{"eval", "--policy", pol, "--requests", "-"}, ifaces...)...)
			if r.code != 2 {
				t.Errorf("want invalid %q: eval exits %d\n%s", arg, r.code, head(r.stdout))
			}
		default:
			t.Fatalf("unknown want line %q", w)
		}
	}
	if len(reqs) == 0 {
		return
	}
	r := runIn(t, strings.Join(reqs, "\n")+"\n", append(append([]string{"eval", "--policy", pol, "--requests", "-"}, ifaces...), "--format", "json")...)
	if r.code == 2 {
		for i, v := range expect {
			if v != "deny" {
				t.Errorf("want %s %s: eval refuses the policy or requests\n%s", v, reqs[i], head(r.stderr))
			}
		}
		return
	}
	ds := decisions(t, r.stdout)
	if len(ds) != len(reqs) {
		t.Fatalf("%d decisions for %d requests", len(ds), len(reqs))
	}
	for i, v := range expect {
		if v != "any" && !strings.HasPrefix(ds[i], v+" ") {
			t.Errorf("want %s %s: got %s", v, reqs[i], ds[i])
		}
	}
}

var (
	label       = `[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?`
	namePattern = regexp.MustCompile(`(?:\*\.)?` + label + `(?:\.` + label + `)+`)
	v6Pattern   = regexp.MustCompile(`\[([0-9A-Fa-f:.]+)(?:/\d+)?\]`)
	portPattern = regexp.MustCompile(`[:,>-](\d{1,5})\b`)
)

// requests makes the requests an entry is decided on: lookups, connects,
// sends, listens and binds of the names, addresses and ports written in
// the policy, near misses of them (a label more or less, the next port,
// the next address) and the addresses every policy must deny, at most a
// few hundred.
func requests(policy string) []string {
	const most = 8
	seen := map[string]bool{}
	var names, addrs []string
	var ports []int
	addName := func(n string) {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n != "" && !seen["n"+n] && len(names) < most {
			seen["n"+n] = true
			names = append(names, n)
		}
	}
	addAddr := func(a netip.Addr) {
		s := a.String()
		if a.Is6() {
			s = "[" + s + "]"
		}
		if !seen["a"+s] && len(addrs) < most {
			seen["a"+s] = true
			addrs = append(addrs, s)
		}
	}
	addPort := func(p int) {
		if p > 0 && p < 65536 && !seen["p"+strconv.Itoa(p)] && len(ports) < most {
			seen["p"+strconv.Itoa(p)] = true
			ports = append(ports, p)
		}
	}
	for _, m := range namePattern.FindAllString(policy, 200) {
		if a, err := netip.ParseAddr(m); err == nil {
			addAddr(a)
			addAddr(a.Next())
			continue
		}
		if strings.HasPrefix(m, "*.") {
			apex := m[2:]
			addName(apex)
			addName("a." + apex)
			addName("a.b." + apex)
			continue
		}
		addName(m)
		addName("x." + m)
		addName("x" + m)
	}
	for _, m := range v6Pattern.FindAllStringSubmatch(policy, 50) {
		if a, err := netip.ParseAddr(m[1]); err == nil {
			addAddr(a)
			addAddr(a.Next())
		}
	}
	for _, m := range portPattern.FindAllStringSubmatch(policy, 200) {
		p, _ := strconv.Atoi(m[1])
		addPort(p)
		addPort(p + 1)
	}
	for _, a := range []string{"127.0.0.1", "::1", "0.0.0.0", "::", "169.254.169.254", "192.0.2.1", "10.0.0.5"} {
		addAddr(netip.MustParseAddr(a))
	}
	addName("localhost")
	for _, p := range []int{22, 53, 80, 443} {
		addPort(p)
	}
	var out []string
	for _, n := range names {
		out = append(out, "lookup "+n, "lookup "+n+" ipv4", "lookup "+n+" ipv6")
		for _, p := range ports[:min(4, len(ports))] {
			out = append(out, fmt.Sprintf("connect tcp %s:%d", n, p), fmt.Sprintf("send udp %s:%d", n, p))
		}
	}
	for _, a := range addrs {
		for _, p := range ports {
			out = append(out, fmt.Sprintf("connect tcp %s:%d", a, p), fmt.Sprintf("send udp %s:%d", a, p))
		}
		out = append(out, fmt.Sprintf("listen tcp %s:%d", a, ports[0]), fmt.Sprintf("bind udp %s:%d", a, ports[0]))
	}
	for _, p := range ports {
		out = append(out, fmt.Sprintf("listen tcp *:%d", p), fmt.Sprintf("bind udp *:%d", p),
			fmt.Sprintf("listen tcp localhost:%d", p), fmt.Sprintf("listen tcp eth0:%d", p))
	}
	return out
}

// head returns the start of a long text, for messages.
func head(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
