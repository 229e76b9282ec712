package normalize

import (
	"github.com/capspec/capspec/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSpellings: many spellings of one policy print as one canonical text,
// and printing that text again changes nothing.
func TestSpellings(t *testing.T) {
	tests := []struct {
		name      string
		spellings []string
		want      string
	}{
		{"one rule", []string{
			"--allow-outbound=tcp://example.com:80,443\n",
			"--allow-outbound tcp://example.com:80,443\n",
			"--allow-outbound=TCP://Example.COM.:0443,80",
			"--allow-outbound=tcp://example.com:443 --allow-outbound=tcp://EXAMPLE.com:80\n",
			"--allow-outbound=tcp://example.com:80\n--allow-outbound=tcp://example.com:443\n--allow-outbound=tcp://example.com:80,443\n",
			"--allow-resolve=example.com\n--allow-outbound=tcp://example.com:80,443\n",
			"--allow-outbound=tcp://example.com:80#ipv4-only --allow-outbound=tcp://example.com:443\n--allow-outbound=tcp://example.com:80#ipv6-only\n",
			"  --allow-outbound \\\n  tcp://example.com:443,80\r\n",
		}, "--allow-outbound=tcp://example.com:80,443\n"},
		{"any udp", []string{
			"--allow-outbound=udp://...\n",
			"--allow-outbound=udp://*:*\n",
			"--allow-outbound=udp://*:1-65535\n",
			"--allow-outbound=udp://*:1-100\n--allow-outbound=udp://*:101-65535\n",
			"--allow-outbound=udp://...#ipv4-only --allow-outbound=udp://...#ipv6-only\n",
			"--allow-outbound=udp://*:53\n--allow-outbound=udp://...\n--allow-outbound=udp://10.0.0.0/8:53\n",
		}, "--allow-outbound=udp://*:*\n"},
		{"listen everywhere", []string{
			"--allow-inbound=tcp://*:80\n",
			"--allow-inbound=tcp://0.0.0.0:80\n--allow-inbound=tcp://[::]:80\n",
			"--allow-inbound=tcp://*:80#ipv6-only\n--allow-inbound=tcp://0.0.0.0:80\n",
			"--allow-inbound=tcp://localhost:80\n--allow-inbound=tcp://*:80\n--allow-inbound=tcp://127.0.0.1:80\n",
		}, "--allow-inbound=tcp://*:80\n"},
		{"networks", []string{
			"--allow-outbound=tcp://10.0.0.0/8:5432\n",
			"--allow-outbound=tcp://10.0.0.0/9:5432\n--allow-outbound=tcp://10.128.0.0/9:5432\n",
			"--allow-outbound=tcp://10.128.0.0/9:5432\n--allow-outbound=tcp://10.0.0.0/10:5432\n--allow-outbound=tcp://10.64.0.0/10:5432\n--allow-outbound=tcp://10.1.2.3/32:5432\n",
		}, "--allow-outbound=tcp://10.0.0.0/8:5432\n"},
		{"database", []string{
			"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433\n",
			"--allow-resolve=my-database.internal->172.17.0.14\n--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433\n",
			"--allow-outbound=tcp://My-Database.Internal.->172.17.0.14:5432->5433#ipv4-only\n--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433\n",
		}, "--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433\n"},
		{"order", []string{
			"--allow-inbound=tcp://*:80->8888 --allow-outbound=tcp://example.com:80 --allow-resolve=*.example.com\n",
			"--allow-resolve=*.example.com\n--allow-outbound=tcp://example.com:80\n--allow-inbound=tcp://*:80->8888\n",
			"--allow-inbound=tcp://*:80->8888\n--allow-inbound=tcp://*:80->8888\n--allow-resolve=a.example.com\n--allow-resolve=*.example.com\n--allow-outbound=tcp://example.com:80\n",
		}, "--allow-resolve=*.example.com\n--allow-outbound=tcp://example.com:80\n--allow-inbound=tcp://*:80->8888\n"},
		{"empty", []string{"", "\n\n", "   \n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.spellings {
				if got := format(t, s); got != tt.want {
					t.Errorf("format(%q) =\n%s\nwant\n%s", s, got, tt.want)
				}
			}
			if again := format(t, tt.want); again != tt.want {
				t.Errorf("canonical text changes when formatted again:\n%s", again)
			}
		})
	}
}

// TestComments checks where comments go.
func TestComments(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"above and beside travel with their flag",
			lines("# inbound", "--allow-inbound=tcp://*:80", "--allow-resolve=example.com # lookups"),
			lines("--allow-resolve=example.com # lookups", "", "# inbound", "--allow-inbound=tcp://*:80")},
		{"merged rule keeps all comments in order",
			lines("# first", "--allow-outbound=tcp://*:443 # beside first", "# second", "--allow-outbound=tcp://*:80"),
			lines("# first", "# beside first", "# second", "--allow-outbound=tcp://*:80,443")},
		{"one beside comment stays beside",
			lines("--allow-outbound=tcp://*:443 # https", "--allow-outbound=tcp://*:80"),
			lines("--allow-outbound=tcp://*:80,443 # https")},
		{"several beside comments go above",
			lines("--allow-outbound=tcp://*:443 # https", "--allow-outbound=tcp://*:80 # http"),
			lines("# https", "# http", "--allow-outbound=tcp://*:80,443")},
		{"a beside comment before an above comment goes above",
			lines("--allow-outbound=tcp://*:443 # https", "# http", "--allow-outbound=tcp://*:80"),
			lines("# https", "# http", "--allow-outbound=tcp://*:80,443")},
		{"the last beside comment stays beside",
			lines("--allow-outbound=tcp://*:80", "--allow-outbound=tcp://*:443 # https"),
			lines("--allow-outbound=tcp://*:80,443 # https")},
		{"dropped rule's comments go to the rule that covers it",
			lines("# lookups of example.com", "--allow-resolve=example.com", "--allow-outbound=tcp://example.com:80 # web"),
			lines("# lookups of example.com", "--allow-outbound=tcp://example.com:80 # web")},
		{"through a chain of dropped rules",
			lines("--allow-resolve=a.example.com # a", "--allow-resolve=*.example.com # wild", "--allow-resolve=* # all"),
			lines("# a", "# wild", "# all", "--allow-resolve=*")},
		{"duplicate",
			lines("--allow-inbound=tcp://*:80->8080 # one", "--allow-inbound=tcp://*:80->8080 # two"),
			lines("# one", "# two", "--allow-inbound=tcp://*:80->8080")},
		{"header and footer stay",
			lines("# Policy of the web service.", "# Owner: web team.", "", "# api", "--allow-outbound=tcp://api.example.com:443", "--allow-resolve=*.example.com", "", "# end of policy"),
			lines("# Policy of the web service.", "# Owner: web team.", "", "--allow-resolve=*.example.com", "", "# api", "--allow-outbound=tcp://api.example.com:443", "", "# end of policy")},
		{"header keeps its blank lines",
			lines("# Copyright", "", "# License", "", "--allow-resolve=b.com", "--allow-resolve=a.com"),
			lines("# Copyright", "", "# License", "", "--allow-resolve=a.com", "--allow-resolve=b.com")},
		{"a comment right above the first flag is its own",
			lines("# b", "--allow-resolve=b.com", "--allow-resolve=a.com"),
			lines("--allow-resolve=a.com", "", "# b", "--allow-resolve=b.com")},
		{"only comments",
			lines("# nothing allowed", "", "# yet"),
			lines("# nothing allowed", "", "# yet")},
		{"blank lines normalized",
			lines("--allow-resolve=b.com", "", "", "--allow-resolve=a.com", "# c", "", "--allow-resolve=c.com"),
			lines("--allow-resolve=a.com", "--allow-resolve=b.com", "", "# c", "--allow-resolve=c.com")},
		{"detached family is a comment",
			lines("--allow-outbound=tcp://example.com:80 #ipv4-only"),
			lines("--allow-outbound=tcp://example.com:80 #ipv4-only")},
		{"two flags on a line",
			lines("--allow-resolve=b.com --allow-resolve=a.com # both"),
			lines("--allow-resolve=a.com # both", "--allow-resolve=b.com")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := format(t, tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("format(%q) (-want +got):\n%s", tt.in, diff)
			}
			if again := format(t, got); again != got {
				t.Errorf("not idempotent:\n%s", cmp.Diff(got, again))
			}
		})
	}
}

// TestGolden formats each flags file of testdata/normalize and
// testdata/examples and compares the result with its .golden file in
// testdata/normalize (go test -update rewrites them). Each golden file is
// canonical: formatting it changes nothing.
func TestGolden(t *testing.T) {
	var files []string
	for _, pat := range []string{"../testdata/normalize/*.flags", "../testdata/examples/*.flags"} {
		fs, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	if len(files) < 3 {
		t.Fatalf("no corpus: %v", files)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".flags")
		if filepath.Base(filepath.Dir(path)) == "examples" {
			name = "example-" + name
		}
		t.Run(name, func(t *testing.T) {
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := format(t, string(content))
			goldenPath := filepath.Join("..", "testdata", "normalize", name+".golden")
			golden.Check(t, goldenPath, got)
			if again := format(t, got); again != got {
				t.Errorf("golden output is not canonical:\n%s", cmp.Diff(got, again))
			}
		})
	}
}

// seedExamples are the flags of the seed's "Granting access" section.
func seedExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../testdata/seed/GrantingAccess.md")
	if err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "--allow-") {
			flags = append(flags, l)
		}
	}
	if len(flags) < 20 {
		t.Fatalf("only %d seed examples", len(flags))
	}
	return flags
}

// TestSeed: every example of the seed, alone and all together, formats
// idempotently; alone, each is already canonical but "...".
func TestSeed(t *testing.T) {
	flags := seedExamples(t)
	for _, f := range flags {
		got := format(t, f+"\n")
		if again := format(t, got); again != got {
			t.Errorf("%s: %q formats to %q", f, got, again)
		}
		if !strings.Contains(f, "...") && got != f+"\n" {
			t.Errorf("%s alone formats to %q", f, got)
		}
	}
	all := format(t, lines(flags...))
	if again := format(t, all); again != all {
		t.Errorf("all seed examples: not idempotent:\n%s", cmp.Diff(all, again))
	}
	want := lines(
		"--allow-resolve=*",
		"--allow-outbound=tcp://*:*",
		"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433",
		"--allow-outbound=udp://*:*",
		"--allow-inbound=tcp://*:0",
		"--allow-inbound=tcp://*:80->8888",
	)
	if all != want {
		t.Errorf("all seed examples:\n%s", cmp.Diff(want, all))
	}
}
