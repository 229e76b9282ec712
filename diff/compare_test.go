package diff

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// textDiff compares two flags files (one flag a line) and renders the
// result as text.
func textDiff(t *testing.T, old, new string) string {
	t.Helper()
	split := func(s string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	a, okA := compileFlags(t, "old.flags", split(old))
	b, okB := compileFlags(t, "new.flags", split(new))
	if !okA || !okB {
		t.Fatal("policy with errors")
	}
	if len(a.Rules) != len(split(old)) || len(b.Rules) != len(split(new)) {
		t.Fatal("a flag has errors")
	}
	res, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := res.WriteText(&sb, nil); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestCompareCases pins what diff says about typical changes.
func TestCompareCases(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{
			name: "SPEC §8.1",
			old: `--allow-outbound=tcp://example.com:443
				--allow-inbound=tcp://*:8080
				--allow-resolve=db.internal->10.0.0.1`,
			new: `--allow-outbound=tcp://example.com:443
				--allow-outbound=tcp://*:443
				--allow-outbound=tcp://api.example.com:443
				--allow-resolve=db.internal->10.0.0.2`,
			want: `+ --allow-outbound=tcp://*:443                       new.flags:2
    except tcp://example.com:443 (already allowed)
+ --allow-resolve=api.example.com                    implied by new.flags:3
- --allow-inbound=tcp://*:8080                       old.flags:2
~ --allow-resolve=db.internal->10.0.0.2 (was ->10.0.0.1)   new.flags:4
2 grants added, 1 removed, 1 mapping changed
`,
		},
		{
			name: "the same meaning, written otherwise",
			old: `--allow-outbound=tcp://example.com:80
				--allow-outbound=tcp://example.com:443
				--allow-resolve=example.com
				--allow-outbound=tcp://0.0.0.0/1:53
				--allow-outbound=tcp://128.0.0.0/1:53`,
			new: `--allow-outbound=TCP://Example.COM.:443,80
				--allow-outbound=tcp://0.0.0.0/0:53`,
			want: "no change in what is allowed\n",
		},
		{
			name: "ports: the new ones only",
			old:  `--allow-outbound=tcp://*:80`,
			new:  `--allow-outbound=tcp://*:80,443`,
			want: `+ --allow-outbound=tcp://*:443                       new.flags:1
1 grant added, 0 removed, 0 mappings changed
`,
		},
		{
			name: "a network: the part that is new, as one network",
			old:  `--allow-outbound=tcp://10.0.0.0/9:443`,
			new:  `--allow-outbound=tcp://10.0.0.0/8:443`,
			want: `+ --allow-outbound=tcp://10.128.0.0/9:443            new.flags:1
1 grant added, 0 removed, 0 mappings changed
`,
		},
		{
			name: "a network that flags cannot say alone: the rule with an exception",
			old:  `--allow-outbound=tcp://10.1.0.0/16:5432`,
			new:  `--allow-outbound=tcp://10.0.0.0/8:5432`,
			want: `+ --allow-outbound=tcp://10.0.0.0/8:5432             new.flags:1
    except tcp://10.1.0.0/16:5432 (already allowed)
1 grant added, 0 removed, 0 mappings changed
`,
		},
		{
			name: "a family dropped",
			old:  `--allow-outbound=tcp://*:443`,
			new:  `--allow-outbound=tcp://*:443#ipv4-only`,
			want: `- --allow-outbound=tcp://*:443#ipv6-only             old.flags:1
0 grants added, 1 removed, 0 mappings changed
`,
		},
		{
			name: "a mapping added to a name: its other family is lost",
			old:  `--allow-resolve=db.internal`,
			new:  `--allow-resolve=db.internal->10.0.0.2`,
			want: `- --allow-resolve=db.internal#ipv6-only              old.flags:1
~ --allow-resolve=db.internal->10.0.0.2 (was not mapped)   new.flags:1
0 grants added, 1 removed, 1 mapping changed
`,
		},
		{
			name: "a name mapped elsewhere: connects move, the lookup changes",
			old:  `--allow-outbound=tcp://db.internal->10.0.0.1:5432`,
			new:  `--allow-outbound=tcp://db.internal->10.0.0.2:5432`,
			want: `+ --allow-outbound=tcp://db.internal->10.0.0.2:5432   new.flags:1
- --allow-outbound=tcp://db.internal->10.0.0.1:5432   old.flags:1
~ --allow-resolve=db.internal->10.0.0.2 (was ->10.0.0.1)   implied by new.flags:1
1 grant added, 1 removed, 1 mapping changed
`,
		},
		{
			name: "a mapped name below a wildcard reaches only its address (and nothing in its other family)",
			old: `--allow-outbound=tcp://*.example.com:443
				--allow-resolve=a.example.com->10.0.0.1`,
			new: `--allow-outbound=tcp://*.example.com:443
				--allow-resolve=a.example.com`,
			want: `+ --allow-outbound=tcp://a.example.com:443           new.flags:1
    except tcp://a.example.com->10.0.0.1:443 (already allowed)
+ --allow-resolve=a.example.com#ipv6-only            implied by new.flags:1
~ --allow-resolve=a.example.com#ipv4-only (was ->10.0.0.1)   implied by new.flags:1
2 grants added, 0 removed, 1 mapping changed
`,
		},
		{
			name: "a port mapping changed, and one removed",
			old: `--allow-inbound=tcp://*:80->8080
				--allow-outbound=tcp://db.internal->10.0.0.1:5432->5433`,
			new: `--allow-inbound=tcp://*:80->9090
				--allow-outbound=tcp://db.internal->10.0.0.1:5432`,
			want: `~ --allow-inbound=tcp://*:80->9090 (was ->8080)      new.flags:1
~ --allow-outbound=tcp://db.internal->10.0.0.1:5432 (was ->5433)   new.flags:2
0 grants added, 0 removed, 2 mappings changed
`,
		},
		{
			name: "inbound: localhost within *, an interface in one family",
			old: `--allow-inbound=tcp://localhost:8080
				--allow-inbound=tcp://eth0:80`,
			new: `--allow-inbound=tcp://*:8080
				--allow-inbound=tcp://eth0:80#ipv4-only`,
			want: `+ --allow-inbound=tcp://*:8080                       new.flags:1
    except tcp://localhost:8080 (already allowed)
- --allow-inbound=tcp://eth0:80#ipv6-only            old.flags:2
1 grant added, 1 removed, 0 mappings changed
`,
		},
		{
			name: "a resolve wildcard, less one name the old policy allowed",
			old:  `--allow-resolve=api.example.com`,
			new:  `--allow-resolve=*.example.com`,
			want: `+ --allow-resolve=*.example.com                      new.flags:1
    except api.example.com (already allowed)
1 grant added, 0 removed, 0 mappings changed
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := textDiff(t, tc.old, tc.new); got != tc.want {
				t.Errorf("old:\n%s\nnew:\n%s\n%s", tc.old, tc.new, cmp.Diff(tc.want, got))
			}
		})
	}
}
