package interop

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/policy"
)

// sideOf decides a request on both sides and says how they differ in
// family f: OnlyA, OnlyB, MappedA, or ok false when they agree.
func differs(a, b Verdict, f policy.Families) (Side, bool) {
	i := famIndex(f)
	ea, eb := a.Entry[i] >= 0, b.Entry[i] >= 0
	switch {
	case ea && !eb:
		return OnlyA, true
	case eb && !ea:
		return OnlyB, true
	case ea && eb && a.Mapped[i] != b.Mapped[i]:
		return MappedA, true
	}
	return 0, false
}

func sideOfKind(k Kind, export bool) Side {
	switch {
	case k == MappingLost:
		return MappedA
	case export && k == Narrower, !export && k == Wider:
		return OnlyA
	}
	return OnlyB
}

// checkReport samples requests near both sides and checks that the report
// holds exactly the requests on which the policy and the configuration
// differ, that the connects and sends to unspecified addresses the runtime
// allows are in the one Unspecified difference and nothing else is, and
// that each difference's own example is in it.
func checkReport(t *testing.T, r *rand.Rand, what string, ds []Difference, export bool, ps *policySide, c *Config, covered func(eval.Request, policy.Families) bool, near *policygen.Pool, samples int) {
	t.Helper()
	unspec := 0
	for i := range ds {
		d := &ds[i]
		if d.Example == "" || !d.Contains(d.Request, d.famOrOwn()) {
			t.Fatalf("%s: difference without its own example: %+v", what, d)
		}
		if d.Unspecified {
			unspec++
			if !toUnspecified(d.Request) || sideOfKind(d.Kind, export) != OnlyB {
				t.Fatalf("%s: unspecified difference %q (%s) is no runtime grant to an unspecified address", what, d.Example, d.Kind)
			}
		}
	}
	if unspec > 1 {
		t.Fatalf("%s: %d unspecified differences, want at most one", what, unspec)
	}
	for n := 0; n < samples; n++ {
		q, ok := sample(r, near)
		if !ok {
			continue
		}
		for _, f := range fams {
			if famsOf(q)&f == 0 {
				continue
			}
			if !covered(q, f) {
				t.Fatalf("%s: %s (%s) falls in no probed cell", what, q, f)
			}
			side, diff := differs(ps.Decide(q), c.Decide(q), f)
			var in *Difference
			for i := range ds {
				if ds[i].Contains(q, f) {
					in = &ds[i]
					break
				}
			}
			switch {
			case diff && in == nil:
				t.Fatalf("%s: %s (%s) differs (side %d) but no difference reports it", what, q, f, side)
			case !diff && in != nil:
				t.Fatalf("%s: %s (%s) is in difference %q but the sides agree", what, q, f, in.Example)
			case diff && sideOfKind(in.Kind, export) != side:
				t.Fatalf("%s: %s (%s) differs on side %d but is reported as %s", what, q, f, side, in.Kind)
			case diff && in.Unspecified != toUnspecified(q):
				t.Fatalf("%s: %s (%s) is in difference %q (unspecified %v)", what, q, f, in.Example, in.Unspecified)
			}
		}
	}
}

// TestExportReportIsExact exports random policies (internal/policygen) to
// every runtime, reads each export back as the runtime would, and checks
// on sampled requests that the policy (through the evaluator) and the
// read-back configuration differ exactly where the report says.
func TestExportReportIsExact(t *testing.T) {
	n, withErrors := 0, 0
	for c := range policygen.Cases(t, 120, 16, 6) {
		if _, ds := policygen.Compile(t, c.Flags); diag.HasErrors(ds) {
			withErrors++ // conflicting rules: the CLI refuses such a policy
			continue
		}
		n++
		var flags []string // the flags Compile kept
		for _, f := range c.Flags {
			if policygen.Valid(f) {
				flags = append(flags, f)
			}
		}
		for _, tg := range Targets() {
			e, err := ExportPolicy(tg, c.Policy)
			if err != nil {
				t.Fatalf("seed %d %v: %v", c.Seed, flags, err)
			}
			what := fmt.Sprintf("seed %d: %s %s from %s", c.Seed, tg, e.Config.Text, join(flags))
			checkReport(t, c.Rand, what, e.Differences, true, newPolicySide(c.Policy), e.Config, e.Covered, nearPool(c.Policy, e.Config), 300)
		}
	}
	t.Logf("%d policies exported (%d with errors left out)", n, withErrors)
}

// toUnspecified reports whether a request is a connect or send to an
// unspecified address (SPEC §3.3).
func toUnspecified(q eval.Request) bool {
	return (q.Op == eval.Connect || q.Op == eval.Send) && q.Addr.IsValid() && policy.IsUnspecifiedDestination(q.Addr)
}

func (d *Difference) famOrOwn() policy.Families {
	if d.Family != 0 {
		return d.Family
	}
	return famsOf(d.Request)
}

func join(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

// randomRuntime returns a random configuration of a runtime as its source.
func randomRuntime(r *rand.Rand, runtime string) Source {
	n := 1 + r.IntN(4)
	var items []string
	word := func(w string) Word { return Word{Text: w, Origin: "argv"} }
	switch runtime {
	case "deno":
		hosts := []string{"example.com", "*.example.com", "localhost", "10.0.0.1", "10.0.0.0/8", "[2001:db8::1]", "0.0.0.0", "127.0.0.1", "a.example.com", "db.internal"}
		for i := 0; i < n; i++ {
			h := pick(r, hosts)
			if r.IntN(2) == 0 {
				h += ":" + pick(r, []string{"80", "443", "53", "8080", "0"})
			}
			items = append(items, h)
		}
		ws := []Word{word("--allow-net=" + strings.Join(items, ","))}
		if r.IntN(3) == 0 {
			ws = append(ws, word("--deny-net="+pick(r, hosts)))
		}
		return Source{Words: ws}
	case "wasmer":
		for i := 0; i < n; i++ {
			action := "allow"
			if r.IntN(5) == 0 {
				action = "deny"
			}
			ports := pick(r, []string{"80", "443", "*", "8000-8010", "{80,443}", "0"})
			switch r.IntN(3) {
			case 0:
				items = append(items, "dns:"+action+"="+pick(r, []string{"example.com", "*.example.com", "*example.com", "*", "db.internal"})+":"+ports)
			case 1:
				items = append(items, "ipv4:"+action+"="+pick(r, []string{"*", "10.0.0.1", "10.0.0.0/8", "127.0.0.0/8", "0.0.0.0"})+":"+ports+pick(r, []string{"", "/in", "/out"}))
			default:
				items = append(items, "ipv6:"+action+"="+pick(r, []string{"*", "[2001:db8::1]", "2001:db8::/32", "[::1]"})+":"+ports+pick(r, []string{"", "/in", "/out"}))
			}
		}
		return Source{Words: []Word{word("--net=" + strings.Join(items, ","))}}
	case "wamr":
		for i := 0; i < n; i++ {
			items = append(items, pick(r, []string{"10.0.0.0/8", "10.0.0.1/32", "0.0.0.0/0", "::/0", "2001:db8::/32", "127.0.0.0/8", "0.0.0.0/32", "::1/128"}))
		}
		ws := []Word{word("--addr-pool=" + strings.Join(items, ","))}
		for i := r.IntN(3); i > 0; i-- {
			ws = append(ws, word("--allow-resolve="+pick(r, []string{"example.com", "*.example.com", "*example.com", "*", "localhost"})))
		}
		return Source{Words: ws}
	}
	hosts := []string{"tcp://10.0.0.1:80", "udp://10.0.0.0/8:53", "https://example.com", "*://*.example.com:443", "tcp://*:8000..8010", "udp://*:*", "mysql://db.internal", "*://[2001:db8::1]:443", "tcp://127.0.0.1:0..100", "udp://0.0.0.0:0", "http://localhost:8080", "*://*:65535"}
	for i := 0; i < n; i++ {
		items = append(items, `"`+pick(r, hosts)+`"`)
	}
	content := "spin_manifest_version = 2\n[component.app]\nallowed_outbound_hosts = [" + strings.Join(items, ", ") + "]\n"
	return Source{Name: "spin.toml", Content: content}
}

// TestImportReportIsExact imports random runtime configurations and checks
// on sampled requests that the runtime's model and the imported flags
// (through the evaluator) differ exactly where the report says.
func TestImportReportIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	configs := 100
	if testing.Short() {
		configs = 20
	}
	for i := 0; i < configs; i++ {
		for _, rt := range ImportTargets() {
			src := randomRuntime(r, rt)
			ims, problems, err := ImportConfig(rt, src)
			if err != nil {
				t.Fatalf("%s %+v: %v", rt, src, err)
			}
			for _, p := range problems {
				if p.Severity == 0 {
					t.Fatalf("%s %+v: %v", rt, src, p)
				}
			}
			for _, im := range ims {
				what := rt + " " + strings.Join(im.Flags, " ") + " from " + src.Content + wordsText(src)
				checkReport(t, r, what, im.Differences, false, newPolicySide(im.Policy), im.Config, im.Covered, nearPool(im.Policy, im.Config), 300)
				exact := true
				for _, d := range im.Differences {
					exact = exact && d.Unspecified
				}
				if im.Exact() != exact {
					t.Fatalf("%s: Exact() = %v with differences %+v", what, im.Exact(), im.Differences)
				}
			}
		}
	}
}

func wordsText(s Source) string {
	var ws []string
	for _, w := range s.Words {
		ws = append(ws, w.Text)
	}
	return strings.Join(ws, " ")
}
