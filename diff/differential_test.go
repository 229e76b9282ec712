package diff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/normalize"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// The differential tests compare random policies (internal/policygen)
// with the reference evaluator: pairs that share most rules
// (policygen.Mutate, which often maps a name below a wildcard of the
// other policy), decided on random requests near their rules
// (policygen.Request) and requests aimed at every rule (policygen.Aimed).

// genFlags writes up to n random flags (some may have errors, which
// compileFlags leaves out).
func genFlags(r *rand.Rand, n int) []string {
	return policygen.Policy(r, r.IntN(n+1), policygen.Options{})
}

// compileFlags parses and compiles flags as a flags file called name, one
// flag a line; flags with errors are left out. ok is false when the
// policy has a mapping conflict (CS101).
func compileFlags(tb testing.TB, name string, flags []string) (p *policy.Policy, ok bool) {
	tb.Helper()
	ins, err := source.FlagsFile{Name: name, Content: strings.Join(flags, "\n") + "\n"}.Read()
	if err != nil {
		tb.Fatal(err)
	}
	var aps []*ast.Policy
	for _, in := range ins {
		ap, _ := grammar.Parse(in)
		aps = append(aps, ap)
	}
	p, ds := policy.Compile(aps...)
	return p, !diag.HasErrors(ds)
}

// atomic reports whether a request is decided on its own: not a connect
// or send to a name without an address (decided through the lookup and
// the connects to the addresses it returns), nor a lookup of an IP
// literal.
func atomic(q eval.Request) bool {
	switch q.Op {
	case eval.Lookup:
		return q.Name != ""
	case eval.Connect, eval.Send:
		return q.Addr.IsValid()
	}
	return true
}

// sameDecision compares what two decisions allow and where they send it:
// everything but the index of the deciding rule.
func sameDecision(a, b eval.Decision) bool {
	a.Rule, b.Rule = 0, 0
	return policygen.SameDecision(a, b)
}

// ruleAllows reports whether rule r, read in policy p, allows q in family
// f: r alone (with the resolve it implies) and p's host mappings, which
// decide where a name reaches.
func ruleAllows(r *policy.Rule, p *policy.Policy, q eval.Request, f policy.Families) bool {
	if n, err := eval.NormalizeName(q.Name); err == nil {
		q.Name = n // as the evaluator compares it
	}
	if q.Op.Kind() != r.Kind || r.Kind == ast.Resolve && (!r.Host.MatchesName(q.Name) || !r.Families.Has(f)) {
		return false // (a lookup the policy's mappings allow is not the rule's)
	}
	c := r.Clone()
	c.Index, c.ImpliedBy = 0, nil
	one := &policy.Policy{Rules: []*policy.Rule{c}}
	switch {
	case c.Kind == ast.Resolve:
		one.Resolves = []*policy.Rule{c}
	case c.Kind == ast.Outbound:
		if ir := c.ImpliedResolve(); ir != nil {
			one.Resolves = []*policy.Rule{ir}
		}
	}
	if c.Kind != ast.Inbound {
		// Where the policy maps a name, a lookup of it answers the
		// mapping only: the mappings are part of reading a rule in it.
		for _, m := range p.Resolves {
			if m.HostMap.IsValid() {
				mm := m.Clone()
				mm.Index, mm.ImpliedBy = 1, nil
				one.Resolves = append(one.Resolves, mm)
			}
		}
	}
	return eval.NewReference(one, Interfaces).Decide(q).Families.Has(f)
}

// regionHas reports whether a region holds q in family f: its flag (in
// this policy) allows it, and none of its exceptions (in the other) does
// (nor, for a region of a name, the other policy by address; nor, for a
// region of networks, the other policy via the request's name).
func regionHas(reg Region, this, other *policy.Policy, q eval.Request, f policy.Families) bool {
	if !ruleAllows(reg.Flag, this, q, f) {
		return false
	}
	if reg.Flag.Kind == ast.Outbound && reg.Flag.Host.Kind.IsName() {
		// A region of a name leaves out what the other policy allows by
		// address, whatever the name.
		byAddr := q
		byAddr.Name = ""
		if eval.NewReference(other, Interfaces).Decide(byAddr).Families.Has(f) {
			return false
		}
	}
	if reg.Flag.Kind == ast.Outbound && reg.Flag.Host.Kind == policy.AddressHost && q.Name != "" &&
		eval.NewReference(other, Interfaces).Decide(q).Families.Has(f) {
		return false // a region of networks leaves out connects via names the other allows
	}
	for _, e := range reg.Except {
		if ruleAllows(e, other, q, f) {
			return false
		}
	}
	return true
}

// sample is a request to decide, and whether regions must account for it
// (requests other than connects by name and lookups of IP literals).
type sample struct {
	q      eval.Request
	atomic bool
}

func samplesFor(r *rand.Rand, n int, res *Result, ps ...*policy.Policy) []sample {
	var rules []*policy.Rule
	for _, p := range ps {
		rules = append(append(rules, p.Rules...), p.Resolves...)
	}
	near := policygen.PoolOf(rules)
	var out []sample
	for range n {
		q := policygen.Request(r, near)
		out = append(out, sample{q, atomic(q)})
	}
	for _, q := range policygen.Aimed(r, ps...) {
		out = append(out, sample{q, atomic(q)})
	}
	if res != nil {
		for _, reg := range append(append([]Region(nil), res.Added...), res.Removed...) {
			out = append(out, sample{reg.Example, true})
		}
		for _, ch := range res.Changed {
			out = append(out, sample{ch.Example, true})
		}
	}
	return out
}

func describe(res *Result) string {
	var b strings.Builder
	for _, r := range res.Added {
		fmt.Fprintf(&b, "+ %s except %v e.g. %s\n", r.Flag, r.Except, r.Example)
	}
	for _, r := range res.Removed {
		fmt.Fprintf(&b, "- %s except %v e.g. %s\n", r.Flag, r.Except, r.Example)
	}
	for _, c := range res.Changed {
		fmt.Fprintf(&b, "~ %s (was %s) e.g. %s\n", c.Flag, c.Was, c.Example)
	}
	return b.String()
}

// TestCompareDifferential compares thousands of random policy pairs and
// checks the result against the reference evaluators on sampled requests:
// the policies decide every sample alike exactly when the result is
// empty; every sampled request (in a family) that one allows and the
// other denies lies in a region of that side, and every region holds only
// such requests; every example shows what it should (Compare checks it).
// genSize is the most rules a random policy has.
var genSize = 7

func TestCompareDifferential(t *testing.T) {
	pairs, nsamples := 3000, 150
	if testing.Short() {
		pairs = 300
	}
	r := rand.New(rand.NewPCG(seedOf(t), 13))
	compared, differing := 0, 0
	for i := 0; i < pairs; i++ {
		fa := genFlags(r, genSize)
		fb := policygen.Mutate(r, fa, policygen.Options{})
		if r.IntN(4) == 0 {
			fb = genFlags(r, genSize)
		}
		a, okA := compileFlags(t, "old.flags", fa)
		b, okB := compileFlags(t, "new.flags", fb)
		if !okA || !okB {
			continue
		}
		res, err := Compare(a, b)
		if err != nil {
			t.Fatalf("old:\n%s\nnew:\n%s\n%v", strings.Join(fa, "\n"), strings.Join(fb, "\n"), err)
		}
		compared++
		if !res.Equivalent() {
			differing++
		}
		ra, rb := eval.NewReference(a, Interfaces), eval.NewReference(b, Interfaces)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("old:\n%s\nnew:\n%s\ndiff:\n%s%s", strings.Join(fa, "\n"), strings.Join(fb, "\n"), describe(res), fmt.Sprintf(format, args...))
		}
		same := true
		for _, s := range samplesFor(r, nsamples, res, a, b) {
			da, db := ra.Decide(s.q), rb.Decide(s.q)
			if !sameDecision(da, db) {
				same = false
				if res.Equivalent() {
					fail("empty diff, but %s is decided %+v (old) and %+v (new)", s.q, da, db)
				}
			}
			if !s.atomic {
				continue
			}
			if f, changed := changedIn(s.q, da, db); changed && !slices.ContainsFunc(res.Changed, func(ch Change) bool {
				in := b
				if ch.old {
					in = a
				}
				return ruleAllows(ch.Flag, in, s.q, f) || f == 0 && (ruleAllows(ch.Flag, in, s.q, policy.IPv4) || ruleAllows(ch.Flag, in, s.q, policy.IPv6))
			}) {
				fail("%s is sent elsewhere (old %+v, new %+v), and in no change", s.q, da, db)
			}
			for _, f := range bothFamilies {
				inA, inB := da.Families.Has(f), db.Families.Has(f)
				for _, dir := range []struct {
					name        string
					want        bool
					regions     []Region
					this, other *policy.Policy
				}{{"added", inB && !inA, res.Added, b, a}, {"removed", inA && !inB, res.Removed, a, b}} {
					var in []string
					for _, reg := range dir.regions {
						if regionHas(reg, dir.this, dir.other, s.q, f) {
							in = append(in, reg.Flag.String())
						}
					}
					if dir.want && len(in) == 0 {
						fail("%s (%s) is %s, and in no region", s.q, f, dir.name)
					}
					if !dir.want && len(in) > 0 {
						fail("%s (%s) is not %s, but in region %s", s.q, f, dir.name, in[0])
					}
				}
			}
		}
		if same != res.Equivalent() {
			fail("the samples are decided alike: %v; the result is empty: %v", same, res.Equivalent())
		}
		if i%5 == 0 {
			checkFormattedSame(t, fb, b)
		}
	}
	t.Logf("%d pairs compared, %d with differences", compared, differing)
	if compared < pairs/2 || differing < compared/3 {
		t.Errorf("too few pairs compared (%d) or differing (%d)", compared, differing)
	}
}

// checkFormattedSame checks that a policy and its canonical form (capspec
// fmt) have no difference.
func checkFormattedSame(t *testing.T, flags []string, p *policy.Policy) {
	t.Helper()
	text := strings.Join(flags, "\n") + "\n"
	ins, err := source.FlagsFile{Name: "p.flags", Content: text}.Read()
	if err != nil {
		t.Fatal(err)
	}
	ap, _ := grammar.Parse(ins[0])
	formatted := normalize.Format(ap, ins[0]).String()
	f, ok := compileFlags(t, "fmt.flags", strings.Split(strings.TrimSpace(formatted), "\n"))
	if !ok {
		t.Fatalf("formatted policy has errors:\n%s", formatted)
	}
	res, err := Compare(p, f)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Equivalent() {
		t.Fatalf("policy:\n%sformatted:\n%sdiff:\n%s", text, formatted, describe(res))
	}
}

// seedOf returns the seed of the random tests: CAPSPEC_SEED, or 8.
func seedOf(t *testing.T) uint64 {
	var s uint64 = 8
	if v := os.Getenv("CAPSPEC_SEED"); v != "" {
		fmt.Sscan(v, &s)
		t.Logf("seed %d", s)
	}
	return s
}

// changedIn reports whether both decisions allow q (in family f; 0 for a
// listen on an interface, decided as a whole) with different answers or
// host ports. A listen on "*" or localhost stands for its addresses in
// each family, whose decisions say where each goes.
func changedIn(q eval.Request, da, db eval.Decision) (policy.Families, bool) {
	switch {
	case q.Op == eval.Lookup:
		for fi, f := range bothFamilies {
			if da.Families.Has(f) && db.Families.Has(f) && da.Answers[fi] != db.Answers[fi] {
				return f, true
			}
		}
		return 0, false
	case isIfaceListen(q):
		return 0, da.Allowed && db.Allowed && da.Families == db.Families && da.HostPort != db.HostPort
	case (q.Op == eval.Listen || q.Op == eval.Bind) && (q.Local == eval.LocalAny || q.Local == eval.LocalLocalhost):
		return 0, false // decided as its addresses in each family, which are samples too
	}
	for _, f := range bothFamilies {
		if da.Families.Has(f) && db.Families.Has(f) && da.HostPort != db.HostPort {
			return f, true
		}
	}
	return 0, false
}
