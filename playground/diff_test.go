package playground_test

import (
	"strings"
	"testing"

	"github.com/capspec/capspec/playground"
)

// TestDiffText pins the diff panel on typical changes: the text of
// `capspec diff old.flags policy.flags` (TestDiffAgreesWithCommand checks
// that it is, on many more pairs).
func TestDiffText(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"same", "--allow-outbound=tcp://example.com:80\n", "--allow-outbound=tcp://example.com:80\n",
			"no change in what is allowed\n"},
		{"same meaning, other text", "--allow-outbound=tcp://Example.COM:80,81\n--allow-resolve=example.com\n",
			"--allow-outbound=tcp://example.com:81 --allow-outbound=tcp://example.com.:80\n",
			"no change in what is allowed\n"},
		{"empty", "", "", "no change in what is allowed\n"},
		{"a port more", "--allow-outbound=tcp://*:80\n", "# web\n--allow-outbound=tcp://*:80,443\n",
			"+ --allow-outbound=tcp://*:443                       policy.flags:2\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"a family more", "--allow-resolve=example.com#ipv4-only\n", "--allow-resolve=example.com\n",
			"+ --allow-resolve=example.com#ipv6-only              policy.flags:1\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"a wider network", "--allow-outbound=tcp://10.0.0.0/9:80\n", "--allow-outbound=tcp://10.0.0.0/8:80\n",
			"+ --allow-outbound=tcp://10.128.0.0/9:80             policy.flags:1\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"a wildcard over a name", "--allow-resolve=a.example.com\n", "--allow-resolve=*.example.com\n",
			"+ --allow-resolve=*.example.com                      policy.flags:1\n    except a.example.com (already allowed)\n1 grant added, 0 removed, 0 mappings changed\n"},
		{"removed, with its implied lookup", "--allow-outbound=tcp://example.com:443\n", "",
			"- --allow-outbound=tcp://example.com:443             old.flags:1\n" +
				"- --allow-resolve=example.com                        implied by old.flags:1\n" +
				"0 grants added, 2 removed, 0 mappings changed\n"},
		{"SPEC §8.1",
			"--allow-outbound=tcp://example.com:443\n--allow-inbound=tcp://*:8080\n--allow-resolve=db.internal->10.0.0.1\n",
			"--allow-outbound=tcp://*:443\n--allow-outbound=tcp://example.com:443\n--allow-resolve=db.internal->10.0.0.2\n--allow-resolve=api.example.com\n",
			"+ --allow-outbound=tcp://*:443                       policy.flags:1\n" +
				"    except tcp://example.com:443 (already allowed)\n" +
				"+ --allow-resolve=api.example.com                    policy.flags:4\n" +
				"- --allow-inbound=tcp://*:8080                       old.flags:2\n" +
				"~ --allow-resolve=db.internal->10.0.0.2 (was ->10.0.0.1)   policy.flags:3\n" +
				"2 grants added, 1 removed, 1 mapping changed\n"},
		{"a port mapping", "--allow-inbound=tcp://*:80\n", "--allow-inbound=tcp://*:80->8888\n",
			"~ --allow-inbound=tcp://*:80->8888 (was not mapped)   policy.flags:1\n0 grants added, 0 removed, 1 mapping changed\n"},
		{"a mapping takes the other family away", "--allow-resolve=*\n", "--allow-resolve=*\n--allow-resolve=db.internal->10.0.0.1\n",
			"- --allow-resolve=db.internal#ipv6-only              old.flags:1\n" +
				"~ --allow-resolve=db.internal->10.0.0.1 (was not mapped)   policy.flags:2\n" +
				"0 grants added, 1 removed, 1 mapping changed\n"},
		{"a mapping instead of DNS", "--allow-resolve=example.com#ipv4-only\n", "--allow-resolve=example.com->192.0.2.1\n",
			"~ --allow-resolve=example.com->192.0.2.1 (was not mapped)   policy.flags:1\n0 grants added, 0 removed, 1 mapping changed\n"},
		{"an interface and an address", "--allow-inbound=tcp://eth0:80\n", "--allow-inbound=tcp://192.0.2.10:80\n",
			"+ --allow-inbound=tcp://192.0.2.10:80                policy.flags:1\n" +
				"- --allow-inbound=tcp://eth0:80                      old.flags:1\n" +
				"1 grant added, 1 removed, 0 mappings changed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := playground.Diff(tt.old, tt.new)
			if d.Unavailable != "" {
				t.Fatal(d.Unavailable)
			}
			if d.Text != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", d.Text, tt.want)
			}
			if d.Equivalent != (tt.want == "no change in what is allowed\n") {
				t.Errorf("equivalent = %v", d.Equivalent)
			}
			if n := len(d.Added) + len(d.Removed) + len(d.Changed); n != strings.Count(tt.want, "\n")-1-strings.Count(tt.want, "except ") && !d.Equivalent {
				t.Errorf("%d entries for the text:\n%s", n, tt.want)
			}
			if !strings.HasSuffix(d.Text, d.Summary+"\n") {
				t.Errorf("summary %q, text ends %q", d.Summary, d.Text)
			}
		})
	}
}

// TestDiffRefusesErrors checks that a policy with errors gets no diff, and
// why.
func TestDiffRefusesErrors(t *testing.T) {
	for _, tt := range []struct{ old, new, want string }{
		{"--allow-outbound=tcp://example.com:70000\n", "", "old.flags has 1 error: fix it to see the diff."},
		{"", "--allow-resolve=x->10.0.0.1 --allow-resolve=x->10.0.0.2", "policy.flags has 1 error: fix it to see the diff."},
	} {
		d := playground.Diff(tt.old, tt.new)
		if d.Unavailable != tt.want || d.Text != "" || d.Added == nil || d.Removed == nil || d.Changed == nil {
			t.Errorf("Diff(%q, %q) = %+v, want unavailable %q", tt.old, tt.new, d, tt.want)
		}
	}
}

// TestDiffIgnoresInterfaces checks that the diff, as `capspec diff`,
// decides listens with no interface table: the page's table (even a bad
// one) does not change it.
func TestDiffIgnoresInterfaces(t *testing.T) {
	in := playground.Input{Old: "--allow-inbound=tcp://eth0:80\n", Policy: "--allow-inbound=tcp://192.0.2.10:80\n"}
	want := playground.Diff(in.Old, in.Policy)
	for _, ifaces := range []string{"", playground.DefaultInterfaces, "eth0=nonsense"} {
		in.Interfaces = ifaces
		a := playground.Analyze(in)
		if a.Diff.Text != want.Text || a.Diff.Unavailable != "" {
			t.Errorf("with interfaces %q the diff is %+v, want:\n%s", ifaces, a.Diff, want.Text)
		}
	}
}

// TestDiffOfFormatted checks that a policy and its canonical form have no
// difference, both ways (SPEC §8: fmt never changes a result).
func TestDiffOfFormatted(t *testing.T) {
	n := 0
	for name, text := range corpus(t) {
		f := playground.Format(text)
		if f.Unavailable != "" {
			continue
		}
		n++
		for _, d := range []playground.DiffResult{playground.Diff(text, f.Text), playground.Diff(f.Text, text)} {
			if !d.Equivalent || d.Text != "no change in what is allowed\n" {
				t.Errorf("%s: a policy and its canonical form differ:\n%s", name, d.Text)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d policies compared", n)
	}
}
