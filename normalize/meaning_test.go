package normalize

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreq"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// sameDecision compares what two decisions allow: everything but the
// index of the deciding rule (formatting renumbers rules).
func sameDecision(a, b eval.Decision) bool {
	ea, eb := a.Invalid, b.Invalid
	a.Invalid, b.Invalid = nil, nil
	if (ea == nil) != (eb == nil) || ea != nil && ea.Error() != eb.Error() {
		return false
	}
	a.Rule, b.Rule = 0, 0
	return a == b
}

// meaningStats counts what checkFormatted decided.
type meaningStats struct {
	requests int
}

// checkFormatted formats a flags file without errors and checks that: the
// output has no errors and is canonical (formatting it again changes
// nothing); every comment survives; and for random requests — about the
// names, addresses and ports of the input and of the output — the
// reference evaluator decides the original, the formatted policy and the
// original's rules merely put in canonical order alike (decisions do not
// depend on rule order; a connect by name is decided on the union of the
// networks, so merging them changes nothing).
func checkFormatted(t testing.TB, text string, r *rand.Rand, requests int, st *meaningStats) {
	t.Helper()
	p := parse(text)
	if len(p.errs) > 0 {
		t.Fatalf("input has errors: %s", summaries(p.errs))
	}
	res := Format(p.ast, p.in)
	out := res.String()
	q := parse(out)
	if len(q.errs) > 0 {
		t.Fatalf("formatted policy has errors: %s\ninput:\n%s\noutput:\n%s", summaries(q.errs), text, out)
	}
	if again := Format(q.ast, q.in).String(); again != out {
		t.Fatalf("not idempotent\ninput:\n%s\n%s", text, cmp.Diff(out, again))
	}
	if got, want := len(q.policy.Rules), len(res.Rules); got != want {
		t.Fatalf("formatted text has %d rules, result %d", got, want)
	}
	if got, want := commentTexts(q.in.Comments), commentTexts(p.in.Comments); !slices.Equal(got, want) {
		t.Fatalf("comments changed\ninput:\n%s\noutput:\n%s\n%s", text, out, cmp.Diff(want, got))
	}
	// The original's rules merely put in canonical order.
	var sorted []*ast.Rule
	for _, r := range Order(Spell(p.ast.Rules)) {
		sorted = append(sorted, r.Source)
	}
	perm, _ := policy.Compile(&ast.Policy{Name: "sorted", Rules: sorted})
	ifaces := genIfaceTable()
	orig, canon, reordered := eval.NewReference(p.policy, ifaces), eval.NewReference(q.policy, ifaces), eval.NewReference(perm, ifaces)
	// Requests come from both policies, so that a host that formatting
	// changed (a name turned into an address, say) is asked about.
	pool := poolOf(append(slices.Clone(p.policy.Rules), q.policy.Rules...))
	for _, req := range probes(append(slices.Clone(p.policy.Rules), q.policy.Rules...)) {
		a, b, c := orig.Decide(req), canon.Decide(req), reordered.Decide(req)
		st.requests++
		if !sameDecision(a, b) || !sameDecision(a, c) {
			t.Fatalf("%s: decided differently\ninput:\n%s\noutput:\n%s\noriginal:  %+v\nformatted: %+v\nreordered: %+v", req, text, out, a, b, c)
		}
	}
	for range requests {
		req := genRequest(r, pool)
		a, b, c := orig.Decide(req), canon.Decide(req), reordered.Decide(req)
		st.requests++
		if !sameDecision(a, b) || !sameDecision(a, c) {
			t.Fatalf("%s: decided differently\ninput:\n%s\noutput:\n%s\noriginal:  %+v\nformatted: %+v\nreordered: %+v", req, text, out, a, b, c)
		}
	}
}

// commentTexts returns the texts of comments, sorted.
func commentTexts(cs []*source.Comment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	slices.Sort(out)
	return out
}

// TestMeaningPreserved formats thousands of random policies (in
// noncanonical spellings, with comments) and decides random requests
// against the original and the formatted policy with the reference
// evaluator.
func TestMeaningPreserved(t *testing.T) {
	policies, requests := 3000, 30
	if testing.Short() {
		policies = 300
	}
	var st meaningStats
	skipped := 0
	for seed := range uint64(policies) {
		r := rand.New(rand.NewPCG(seed, 5))
		text, _ := genFile(r, 1+r.IntN(30))
		if len(parse(text).errs) > 0 {
			skipped++ // CS101 mapping conflicts: never formatted
			continue
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkFormatted(t, text, r, requests, &st)
		})
	}
	t.Logf("%d policies (%d with errors skipped), %d requests", policies, skipped, st.requests)
	if st.requests < policies*requests/2 {
		t.Errorf("only %d requests decided", st.requests)
	}
}

// TestNoCommentLost: in random flags files, every comment of the input is
// in the output, once.
func TestNoCommentLost(t *testing.T) {
	for seed := range uint64(2000) {
		r := rand.New(rand.NewPCG(seed, 11))
		text, n := genFile(r, r.IntN(20))
		p := parse(text)
		if len(p.errs) > 0 {
			continue
		}
		out := Format(p.ast, p.in).String()
		for i := range n {
			if c := fmt.Sprintf("# c%d\n", i); strings.Count(out, c) != 1 {
				t.Fatalf("seed %d: %q is %d times in the output\ninput:\n%s\noutput:\n%s", seed, c, strings.Count(out, c), text, out)
			}
		}
		if got := strings.Count(out, "# c"); got != n {
			t.Fatalf("seed %d: %d comments for %d", seed, got, n)
		}
	}
}

// probes are requests aimed at each rule's host and first port, written
// as a user writes them and read by evalreq.ParseRequest: a connect or send
// to the host as the rule spells it, a lookup of a name, a listen or bind.
// Asked of both the input and the output, they catch a formatting that
// changed what a host is (a name written as an address).
func probes(rules []*policy.Rule) []eval.Request {
	var out []eval.Request
	add := func(text string) {
		if it, err := evalreq.ParseRequest(text); err == nil {
			out = append(out, it.Request)
		}
	}
	for _, r := range rules {
		host := r.Host.String()
		switch r.Host.Kind {
		case policy.AnyHost:
			host = "10.0.0.1"
		case policy.WildcardHost:
			host = "w." + r.Host.Name
		case policy.AddressHost:
			host = literal.FormatAddr(r.Host.Prefix.Addr())
		}
		port := 0
		if len(r.Ports) > 0 {
			port = int(r.Ports[0].Lo)
		}
		switch r.Kind {
		case ast.Resolve:
			add("lookup " + host)
		case ast.Outbound:
			op := "connect tcp "
			if r.Protocol == ast.UDP {
				op = "send udp "
			}
			add(fmt.Sprintf("%s%s:%d", op, host, max(port, 1)))
			if r.Host.Kind.IsName() {
				add("lookup " + host)
			}
		case ast.Inbound:
			op := "listen tcp "
			if r.Protocol == ast.UDP {
				op = "bind udp "
			}
			if r.Host.Kind == policy.AnyHost {
				host = "*"
			}
			add(fmt.Sprintf("%s%s:%d", op, host, port))
		}
	}
	return out
}
