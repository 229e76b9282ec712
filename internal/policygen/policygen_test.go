package policygen

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/capspec/capspec/eval"
)

// TestRelated checks that Related writes valid flags about the hosts of
// the policy: below a wildcard, mapped names often.
func TestRelated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		flags []string
		want  func(string) bool // what some of the flags must be
		what  string
	}{
		{[]string{"--allow-outbound=tcp://*.example.com:443"},
			func(f string) bool { return strings.Contains(f, ".example.com->") }, "a name below *.example.com, mapped"},
		{[]string{"--allow-resolve=*"},
			func(f string) bool { return strings.Contains(f, "->") }, "a mapped name"},
		{[]string{"--allow-resolve=db.internal"},
			func(f string) bool { return strings.Contains(f, "*.internal") }, "a wildcard over db.internal"},
		{[]string{"--allow-outbound=tcp://10.0.0.0/8:80"},
			func(f string) bool { return strings.Contains(f, "->10.0.0.0") }, "a name mapped into 10.0.0.0/8"},
		{[]string{"--allow-inbound=tcp://eth0:80"},
			func(f string) bool {
				return strings.HasPrefix(f, "--allow-inbound=") && strings.Contains(f, "://eth0:")
			}, "eth0 on other ports"},
	} {
		seen := 0
		for range 200 {
			f := Related(r, tt.flags, Options{})
			if !Valid(f) {
				t.Fatalf("Related(%v) = %q, which has errors", tt.flags, f)
			}
			if tt.want(f) {
				seen++
			}
		}
		if seen < 20 {
			t.Errorf("Related(%v): %d of 200 flags are %s", tt.flags, seen, tt.what)
		}
	}
	if f := Related(r, nil, Options{}); !Valid(f) {
		t.Errorf("Related of no flags = %q", f)
	}
}

// TestMutate checks that a mutated policy keeps most of its flags and
// differs in one to three.
func TestMutate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		flags := Policy(r, 6, Options{})
		out := Mutate(r, flags, Options{})
		kept := 0
		for _, f := range out {
			if slices.Contains(flags, f) {
				kept++
			}
		}
		if kept < len(flags)-3 || len(out) > len(flags)+3 {
			t.Fatalf("Mutate(%q) = %q", flags, out)
		}
	}
}

// TestAimed checks that the requests aimed at two policies reach a name
// one maps below the other's wildcard, at its mapped address.
func TestAimed(t *testing.T) {
	a, _ := Compile(t, []string{"--allow-outbound=tcp://*.example.com:443"})
	b, _ := Compile(t, []string{"--allow-resolve=a.example.com->10.0.0.1"})
	qs := Aimed(rand.New(rand.NewPCG(5, 6)), a, b)
	for _, want := range []eval.Request{
		{Op: eval.Connect, Addr: netip.MustParseAddr("10.0.0.1"), Port: 443, Name: "a.example.com"},
		{Op: eval.Connect, Addr: netip.MustParseAddr("10.0.0.1"), Port: 444, Name: "w.example.com"},
		{Op: eval.Lookup, Name: "a.example.com", Family: 0},
	} {
		if !slices.Contains(qs, want) {
			t.Errorf("Aimed lacks %s", want)
		}
	}
}
